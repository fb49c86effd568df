import { type CarrierXClient, carrierXClientFor } from '../../src/carrierx/client.ts';
import {
  createSimulator,
  DEMO_TOKEN,
  type Simulator,
  type SimulatorOptions,
} from '../../src/carrierx/simulator/index.ts';
import { type Config, loadConfig } from '../../src/config/index.ts';
import { type App, type AppDeps, createApp } from '../../src/graphql/app.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import type { TypedDocumentString } from '../gql/graphql.ts';

export interface GraphQLResponse<TData> {
  status: number;
  body: {
    data?: TData | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
    extensions?: Record<string, unknown>;
  };
  text: string;
}

export interface Harness {
  app: App;
  /** The validated configuration the app was built from. */
  config: Config;
  /** The one upstream client, for its policies' state(). */
  client: CarrierXClient;
  simulator: Simulator;
  /** The simulator's CarrierX base URL, e.g. http://127.0.0.1:PORT/core/v2. */
  baseUrl: string;
  /** Every line the server logged, raw JSON text. */
  logs: string[];
  /** Runs an operation in-process through yoga.fetch; `token: null` sends no Authorization header. */
  execute<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables> | string,
    variables?: TVariables,
    options?: { token?: string | null; authorization?: string; headers?: Record<string, string> },
  ): Promise<GraphQLResponse<TResult>>;
  /** The include_fields of each CDR GET the simulator received since the last reset, as sorted lists. */
  includeFieldsSeen(): string[][];
  close(): Promise<void>;
}

/**
 * What every harness starts from; `env` overrides it. Waits are short so failure paths finish fast, and the
 * breaker opens only in tests about the breaker: faults injected by one test must not leak into the next.
 */
export const TEST_ENV: Record<string, string> = {
  REQUEST_DEADLINE_MS: '2000',
  CARRIERX_RETRY_BASE_DELAY_MS: '5',
  CARRIERX_RETRY_MAX_DELAY_MS: '20',
  CARRIERX_BREAKER_THRESHOLD: '10000',
  // Likewise the retry budget, only in tests about it: retries one test spent must not refuse the next one's.
  CARRIERX_RETRY_BUDGET_RATIO: '10',
  // Tests that count log lines count the ones they are about; test/observability.test.ts turns it on.
  ACCESS_LOG: 'false',
  // Most tests count CarrierX calls per query; the cache's own tests (test/cache.test.ts) turn it on.
  CACHE_TTL_MS: '0',
};

/** A server wired to a fresh embedded simulator on a loopback port, with its logs captured. */
export async function createHarness(
  env: Record<string, string> = {},
  appOptions: Pick<
    AppDeps,
    'demoToken' | 'cacheStore' | 'onCacheLookup' | 'cacheClock' | 'persistedDocuments'
  > = {},
  simulatorOptions: SimulatorOptions = {},
): Promise<Harness> {
  const simulator = createSimulator(simulatorOptions);
  const baseUrl = await simulator.listen(0, '127.0.0.1');
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => logs.push(line) } });
  const config = loadConfig({ ...TEST_ENV, CARRIERX_BASE_URL: baseUrl, ...env });
  const client = carrierXClientFor(config.carrierx, baseUrl, logger);
  const app = createApp({ config, client, logger, ...appOptions });

  return {
    app,
    config,
    client,
    simulator,
    baseUrl,
    logs,
    async execute(document, variables, options = {}) {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json',
      };
      Object.assign(headers, options.headers);
      const token = options.token === undefined ? DEMO_TOKEN : options.token;
      if (options.authorization !== undefined) headers.authorization = options.authorization;
      else if (token !== null) headers.authorization = `Bearer ${token}`;
      const response = await app.fetch('http://localhost/graphql', {
        method: 'POST',
        headers,
        body: JSON.stringify({ query: document.toString(), variables }),
      });
      const text = await response.text();
      return { status: response.status, body: JSON.parse(text), text };
    },
    includeFieldsSeen() {
      return simulator.requests
        .filter((r) => r.path.includes('/calls/call_drs/'))
        .map((r) => (r.query.include_fields ?? '').split(',').sort());
    },
    async close() {
      await client.close();
      await simulator.close();
    },
  };
}
