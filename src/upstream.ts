import type { Config } from './config/index.ts';

/** What this process calls: CarrierX at CARRIERX_BASE_URL, or the embedded simulator. */
export interface Upstream {
  baseUrl: string;
  /** Set when the upstream is the embedded simulator (this process's, or a cluster primary's). */
  demoToken?: string;
  /** The embedded simulator serves its control API (SIMULATOR_CONTROL). */
  control?: boolean;
  close(): Promise<void>;
}

/** The embedded simulator's default port: stable, so its URL can be bookmarked; `npm run simulator` uses it too. */
export const DEFAULT_SIMULATOR_PORT = 4010;

/** CARRIERX_BASE_URL, or the embedded simulator when it is unset. */
export async function startUpstream(config: Config): Promise<Upstream> {
  const { baseUrl } = config.carrierx;
  if (baseUrl) {
    const { DEMO_TOKEN } = config.embeddedSimulatorWorker
      ? await import('./carrierx/simulator/tokens.ts')
      : { DEMO_TOKEN: undefined };
    return { baseUrl, ...(DEMO_TOKEN ? { demoToken: DEMO_TOKEN } : {}), close: async () => {} };
  }
  // Imported only when used: a production deployment never loads the simulator's data.
  const sim = await import('./carrierx/simulator/index.ts');
  // It accepts the unconfirmed filter operators the service is told CarrierX accepts, as that CarrierX would.
  const instance = sim.createSimulator({
    control: config.simulator.control,
    filterOperators: [...config.carrierx.filterOperators],
    liveRate: config.simulator.liveRate,
  });
  return {
    baseUrl: await listenSimulator(instance, config.simulator.port),
    demoToken: sim.DEMO_TOKEN,
    control: config.simulator.control,
    close: () => instance.close(),
  };
}

/**
 * Listens on SIMULATOR_PORT, or on 4010 when it is unset. A taken default port (another `npm start`, a
 * standalone simulator) is no reason to refuse to start: a free port is used and the banner shows it. A port
 * the user asked for is not silently replaced.
 */
async function listenSimulator(
  instance: { listen(port?: number, host?: string): Promise<string> },
  port: number | undefined,
): Promise<string> {
  if (port !== undefined) {
    try {
      return await instance.listen(port, '127.0.0.1');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      process.stderr.write(`SIMULATOR_PORT ${port} is in use; choose another, or 0 for any free port\n`);
      process.exit(1);
    }
  }
  try {
    return await instance.listen(DEFAULT_SIMULATOR_PORT, '127.0.0.1');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return instance.listen(0, '127.0.0.1');
  }
}
