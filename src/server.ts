import cluster from 'node:cluster';
import { runPrimary } from './cluster.ts';
import { type Config, ConfigError, loadConfig } from './config/index.ts';
import { fatal, fatalAsJson, runServer } from './lifecycle.ts';
import { createLogger } from './telemetry/logger.ts';

// The entry point (npm start, npm run dev, the image): reads the configuration, then runs one server
// (src/lifecycle.ts) or, with WEB_CONCURRENCY above 1, a cluster primary that runs several
// (src/cluster.ts). Everything they start, they stop on SIGINT/SIGTERM.

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      if (error.production) {
        const names = error.problems.map((p) => p.variable).join(', ');
        createLogger({ destination: process.stderr }).fatal(
          { problems: error.problems },
          `invalid configuration: ${names}`,
        );
      } else process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  if (config.production) fatalAsJson(createLogger({ destination: process.stderr }));
  // Human-readable lines for a developer at a terminal; JSON wherever a program reads them (and in production).
  const pretty = !config.production && process.stdout.isTTY === true;
  const logger = createLogger({ level: config.logLevel, pretty });
  // Once per start: cluster workers read the same environment, and their primary has said it.
  if (cluster.isPrimary) {
    for (const warning of config.warnings) {
      logger.warn({ variable: warning.variable, suggestion: warning.suggestion }, warning.message);
    }
  }
  try {
    if (cluster.isPrimary && config.workers > 1) await runPrimary(config, logger);
    else await runServer(config, logger);
  } catch (error) {
    fatal(logger, 'the server could not start', error);
  }
}

await main();
