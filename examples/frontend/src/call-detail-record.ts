import { graphql } from './gql/index.ts';

/** A frontend's operation: typed by the code generated from graphql.config.yml, scalars as strings. */
export const CallDetailRecordQuery = graphql(`
  query CallDetailRecord($drSid: UUID!) {
    callDetailRecord(drSid: $drSid) {
      id
      drSid
      dateStart
      price
      direction
      userData
    }
  }
`);
