import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { CarrierXClient } from './carrierx/client.ts';
import type { Config } from './config.ts';
import { type Context, createContextFactory } from './context.ts';
import { renderGraphiQL } from './graphiql/render-graphiql.ts';
import { useOfflineGraphiQL } from './graphiql/use-offline-graphiql.ts';
import type { Logger } from './logger.ts';
import { schema } from './schema/index.ts';

export interface AppDeps {
  config: Config;
  client: CarrierXClient;
  logger: Logger;
  /** A token GraphiQL pre-fills in its headers, for the embedded simulator's demo. */
  demoToken?: string;
  /** A record GraphiQL's example query asks for. */
  exampleDrSid?: string;
}

export type App = YogaServerInstance<Record<string, unknown>, Context>;

export const EXAMPLE_DR_SID = 'c02a73b2-8401-459a-af7e-f4cc3eee7854';

/** GraphiQL's first tab: a query a newcomer can run as it is. */
export function exampleQuery(drSid: string): string {
  return `# Only the fields you select are fetched from CarrierX.
query CallDetailRecord($drSid: UUID! = "${drSid}") {
  callDetailRecord(drSid: $drSid) {
    drSid
    direction
    numberSrc
    numberDst
    dateStart
    ringDuration
    talkDuration
    price
    stirAttest
  }
}
`;
}

/** Builds the GraphQL server (no I/O, nothing listens): the entry point wires it to HTTP. */
export function createApp(deps: AppDeps): App {
  const { config, client, logger } = deps;
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    landingPage: false,
    context: createContextFactory({
      client,
      logger,
      fallbackToken: config.carrierx.token,
      maxParallelPerRequest: config.carrierx.maxParallelPerRequest,
      maxRecordsPerOperation: config.limits.maxRecordsPerOperation,
      requestDeadlineMs: config.limits.requestDeadlineMs,
    }),
    // Unexpected errors become "Unexpected error." in every mode: no stack or internal message leaves.
    maskedErrors: { isDev: false },
    logging: {
      debug: (...args) => logger.debug(args.length === 1 ? args[0] : { args }),
      info: (...args) => logger.info(args.length === 1 ? args[0] : { args }),
      warn: (...args) => logger.warn(args.length === 1 ? args[0] : { args }),
      error: (...args) => logger.error(args.length === 1 ? args[0] : { args }),
    },
    // Served from the installed bundle: Yoga's default page needs unpkg, which offline machines cannot reach.
    renderGraphiQL,
    plugins: [useOfflineGraphiQL()],
    graphiql: {
      title: 'CarrierX Call Detail Records',
      defaultQuery: exampleQuery(deps.exampleDrSid ?? EXAMPLE_DR_SID),
      headers: JSON.stringify(deps.demoToken ? { Authorization: `Bearer ${deps.demoToken}` } : {}, null, 2),
    },
  });
}
