import { z } from 'zod';
import { flag, integer, optional } from './shared.ts';

/** The embedded CarrierX simulator, run when CARRIERX_BASE_URL is unset. */
export const simulatorEnv = z.object({
  SIMULATOR_PORT: optional(integer(0, 65535)).meta({
    description: "the embedded simulator's port (loopback only); 0: any free port",
    unset: '4010, or a free port when 4010 is taken',
  }),
  SIMULATOR_CONTROL: optional(flag)
    .default(false)
    .describe('the embedded simulator also serves its control API (/_simulator/)'),
  // 6000: the simulator's MAX_LIVE_RATE (one record every 10 ms); config does not load the simulator.
  SIMULATOR_LIVE_RATE: optional(integer(0, 6000))
    .default(6)
    .describe('new calls a minute the embedded simulator adds, for a live feed to show; 0: none'),
  // Set by the cluster primary for its workers when it runs the embedded simulator (not for users).
  EMBEDDED_SIMULATOR_WORKER: optional(flag)
    .default(false)
    .describe(
      "set by a cluster primary for its workers: CARRIERX_BASE_URL is the primary's embedded simulator",
    ),
});

export function simulatorConfig(e: z.output<typeof simulatorEnv>) {
  return {
    /** The embedded simulator's listener; `port` undefined: 4010, falling back to a free port when it is taken. */
    simulator: { port: e.SIMULATOR_PORT, control: e.SIMULATOR_CONTROL, liveRate: e.SIMULATOR_LIVE_RATE },
    /** A cluster worker whose CARRIERX_BASE_URL is the primary's embedded simulator. */
    embeddedSimulatorWorker: e.EMBEDDED_SIMULATOR_WORKER,
  };
}
