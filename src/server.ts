import { createServer } from 'node:http';
import { createApp } from './app.ts';
import { createCarrierXClient } from './carrierx/client.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createRequestHandler } from './http/create-request-handler.ts';
import { createLogger } from './logger.ts';

// The only file that listens. Everything it starts, it stops on SIGINT/SIGTERM.
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });

  let baseUrl = config.carrierx.baseUrl;
  let simulator: { close(): Promise<void> } | undefined;
  let demoToken: string | undefined;
  if (!baseUrl) {
    // Imported only when used: a production deployment never loads the simulator's data.
    const sim = await import('./carrierx/simulator/index.ts');
    const instance = sim.createSimulator();
    baseUrl = await instance.listen(0, '127.0.0.1');
    simulator = instance;
    demoToken = sim.DEMO_TOKEN;
  }

  const client = createCarrierXClient({
    baseUrl: baseUrl as string,
    timeoutMs: config.carrierx.timeoutMs,
    includeFieldsParam: config.carrierx.includeFieldsParam,
    connections: config.carrierx.connections,
    policies: config.carrierx.policies,
    logger,
  });
  const app = createApp({ config, client, logger, ...(demoToken ? { demoToken } : {}) });
  const handle = createRequestHandler(app, {
    fastPath: config.httpFastPath,
    maxBodyBytes: config.limits.requestBodyBytes,
  });
  let stopping = false;
  const server = createServer((req, res) => {
    // While shutting down, each response closes its connection, so busy keep-alive clients let go too.
    if (stopping) res.setHeader('connection', 'close');
    handle(req, res);
  });
  server.on('error', (error) => {
    logger.fatal({ err: error }, 'server error');
    process.exit(1);
  });
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    const url = `http://${shownHost}:${port}/graphql`;
    const lines = [
      '',
      `  CarrierX CDR GraphQL is listening on ${url}`,
      config.graphiql
        ? `  GraphiQL:  open ${url} in a browser`
        : '  GraphiQL:  off (GRAPHIQL_ENABLED=true turns it on)',
      `  Health:    http://${shownHost}:${port}/health`,
      simulator
        ? `  Upstream:  the embedded CarrierX simulator at ${baseUrl} (CARRIERX_BASE_URL is not set)`
        : `  Upstream:  ${baseUrl}`,
      ...(demoToken ? [`  Demo token: ${demoToken}  (send "Authorization: Bearer ${demoToken}")`] : []),
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    logger.info({ port, host: config.host, simulator: Boolean(simulator) }, 'listening');
  });

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Stop accepting, let in-flight requests finish, then close the upstream pool and the simulator.
    // In-flight operations may take up to their deadline; give them that, and a little more, before giving up.
    const force = setTimeout(() => process.exit(1), config.limits.requestDeadlineMs + 5_000).unref();
    server.close(async () => {
      await client.close();
      await simulator?.close();
      clearTimeout(force);
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

await main();
