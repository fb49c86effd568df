import { graphql } from './gql/index.ts';

/**
 * The live feed (docs/live.md): each new call detail record that matches the filter, once. Typed, and in the
 * persisted-documents manifest, as the queries are.
 */
export const CallDetailRecordAddedSubscription = graphql(`
  subscription CallDetailRecordAdded($filter: CallDetailRecordFilter) {
    callDetailRecordAdded(filter: $filter) {
      id
      drSid
      dateInsert
      numberSrc
      numberDst
      price
      direction
    }
  }
`);
