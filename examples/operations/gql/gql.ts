/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query CallDetailRecord($drSid: UUID!) {\n  callDetailRecord(drSid: $drSid) {\n    drSid\n    direction\n    numberSrc\n    numberDst\n    dateStart\n    dateTalk\n    dateStop\n    ringDuration\n    talkDuration\n    durationBilling\n    price\n    sipcause\n    stirAttest\n    partner {\n      partnerSid\n    }\n  }\n}": typeof types.CallDetailRecordDocument,
    "query CallDetailRecordsPage($first: Int = 20, $after: String, $numberSrc: String = \"+1516%\", $from: DateTime, $to: DateTime) {\n  callDetailRecords(\n    first: $first\n    after: $after\n    filter: {direction: OUTBOUND, numberSrc: {like: $numberSrc}, dateStart: {ge: $from, lt: $to}}\n    orderBy: {field: DATE_START, direction: DESC}\n  ) {\n    totalCount\n    edges {\n      cursor\n      node {\n        drSid\n        dateStart\n        numberSrc\n        numberDst\n        sipcause\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": typeof types.CallDetailRecordsPageDocument,
    "query CallDurationsPage($first: Int = 20, $after: String) {\n  callDetailRecords(\n    first: $first\n    after: $after\n    filter: {sipcause: {eq: \"200\"}}\n    orderBy: {field: PRICE, direction: DESC}\n  ) {\n    nodes {\n      drSid\n      dateStart\n      ringDuration\n      talkDuration\n      duration\n      durationBilling\n      price\n      rate\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": typeof types.CallDurationsPageDocument,
};
const documents: Documents = {
    "query CallDetailRecord($drSid: UUID!) {\n  callDetailRecord(drSid: $drSid) {\n    drSid\n    direction\n    numberSrc\n    numberDst\n    dateStart\n    dateTalk\n    dateStop\n    ringDuration\n    talkDuration\n    durationBilling\n    price\n    sipcause\n    stirAttest\n    partner {\n      partnerSid\n    }\n  }\n}": types.CallDetailRecordDocument,
    "query CallDetailRecordsPage($first: Int = 20, $after: String, $numberSrc: String = \"+1516%\", $from: DateTime, $to: DateTime) {\n  callDetailRecords(\n    first: $first\n    after: $after\n    filter: {direction: OUTBOUND, numberSrc: {like: $numberSrc}, dateStart: {ge: $from, lt: $to}}\n    orderBy: {field: DATE_START, direction: DESC}\n  ) {\n    totalCount\n    edges {\n      cursor\n      node {\n        drSid\n        dateStart\n        numberSrc\n        numberDst\n        sipcause\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": types.CallDetailRecordsPageDocument,
    "query CallDurationsPage($first: Int = 20, $after: String) {\n  callDetailRecords(\n    first: $first\n    after: $after\n    filter: {sipcause: {eq: \"200\"}}\n    orderBy: {field: PRICE, direction: DESC}\n  ) {\n    nodes {\n      drSid\n      dateStart\n      ringDuration\n      talkDuration\n      duration\n      durationBilling\n      price\n      rate\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": types.CallDurationsPageDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query CallDetailRecord($drSid: UUID!) {\n  callDetailRecord(drSid: $drSid) {\n    drSid\n    direction\n    numberSrc\n    numberDst\n    dateStart\n    dateTalk\n    dateStop\n    ringDuration\n    talkDuration\n    durationBilling\n    price\n    sipcause\n    stirAttest\n    partner {\n      partnerSid\n    }\n  }\n}"): (typeof documents)["query CallDetailRecord($drSid: UUID!) {\n  callDetailRecord(drSid: $drSid) {\n    drSid\n    direction\n    numberSrc\n    numberDst\n    dateStart\n    dateTalk\n    dateStop\n    ringDuration\n    talkDuration\n    durationBilling\n    price\n    sipcause\n    stirAttest\n    partner {\n      partnerSid\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query CallDetailRecordsPage($first: Int = 20, $after: String, $numberSrc: String = \"+1516%\", $from: DateTime, $to: DateTime) {\n  callDetailRecords(\n    first: $first\n    after: $after\n    filter: {direction: OUTBOUND, numberSrc: {like: $numberSrc}, dateStart: {ge: $from, lt: $to}}\n    orderBy: {field: DATE_START, direction: DESC}\n  ) {\n    totalCount\n    edges {\n      cursor\n      node {\n        drSid\n        dateStart\n        numberSrc\n        numberDst\n        sipcause\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"): (typeof documents)["query CallDetailRecordsPage($first: Int = 20, $after: String, $numberSrc: String = \"+1516%\", $from: DateTime, $to: DateTime) {\n  callDetailRecords(\n    first: $first\n    after: $after\n    filter: {direction: OUTBOUND, numberSrc: {like: $numberSrc}, dateStart: {ge: $from, lt: $to}}\n    orderBy: {field: DATE_START, direction: DESC}\n  ) {\n    totalCount\n    edges {\n      cursor\n      node {\n        drSid\n        dateStart\n        numberSrc\n        numberDst\n        sipcause\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query CallDurationsPage($first: Int = 20, $after: String) {\n  callDetailRecords(\n    first: $first\n    after: $after\n    filter: {sipcause: {eq: \"200\"}}\n    orderBy: {field: PRICE, direction: DESC}\n  ) {\n    nodes {\n      drSid\n      dateStart\n      ringDuration\n      talkDuration\n      duration\n      durationBilling\n      price\n      rate\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"): (typeof documents)["query CallDurationsPage($first: Int = 20, $after: String) {\n  callDetailRecords(\n    first: $first\n    after: $after\n    filter: {sipcause: {eq: \"200\"}}\n    orderBy: {field: PRICE, direction: DESC}\n  ) {\n    nodes {\n      drSid\n      dateStart\n      ringDuration\n      talkDuration\n      duration\n      durationBilling\n      price\n      rate\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;