import { builder } from './builder.ts';
import './call-detail-record.ts';
import './references.ts';

// The Federation version the subgraph declares: the newest that @apollo/subgraph and composition 2.14 accept.
const FEDERATION_LINK = 'https://specs.apollo.dev/federation/v2.6';

/** The schema served at /graphql: the public schema plus federation's `_service` and `_entities`. */
export const schema = builder.toSubGraphSchema({ linkUrl: FEDERATION_LINK, federationDirectives: ['@key'] });

/** The schema as clients see it, without federation's plumbing: what schema/schema.graphql shows. */
export const publicSchema = builder.toSchema({ sortSchema: false });
