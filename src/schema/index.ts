import { builder } from './builder.ts';
import './call-detail-record.ts';
import './references.ts';

// The Federation version the subgraph declares: the newest that @apollo/subgraph and composition 2.14 accept.
const FEDERATION_LINK = 'https://specs.apollo.dev/federation/v2.6';

/** The schema served at /graphql: the CDR types plus federation's `_service` and `_entities`. */
export const schema = builder.toSubGraphSchema({ linkUrl: FEDERATION_LINK, federationDirectives: ['@key'] });
