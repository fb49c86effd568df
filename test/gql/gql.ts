/* eslint-disable */
import * as types from './graphql.js';



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
    "\n  query Page(\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n    $filter: CallDetailRecordFilter\n    $orderBy: CallDetailRecordOrder\n  ) {\n    callDetailRecords(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {\n      totalCount\n      nodes { drSid }\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n    }\n  }\n": typeof types.PageDocument,
    "\n  query Price($drSid: UUID!) {\n    callDetailRecord(drSid: $drSid) {\n      drSid\n      price\n    }\n  }\n": typeof types.PriceDocument,
    "\n  query TwoRecords($a: UUID!, $b: UUID!) {\n    a: callDetailRecord(drSid: $a) {\n      drSid\n      price\n    }\n    b: callDetailRecord(drSid: $b) {\n      drSid\n      price\n    }\n  }\n": typeof types.TwoRecordsDocument,
    "query SubgraphSdl { _service { sdl } }": typeof types.SubgraphSdlDocument,
    "\n    query Entities($representations: [_Any!]!) {\n      _entities(representations: $representations) {\n        ... on CallDetailRecord {\n          drSid\n          cost: price\n          ...EntityPartner\n        }\n      }\n    }\n  ": typeof types.EntitiesDocument,
    "\n    fragment EntityPartner on CallDetailRecord {\n      partner {\n        partnerSid\n      }\n    }\n  ": typeof types.EntityPartnerFragmentDoc,
    "\n        query OneField($drSid: UUID!) {\n          callDetailRecord(drSid: $drSid) {\n            price\n          }\n        }\n      ": typeof types.OneFieldDocument,
    "\n        query Aliases($drSid: UUID!) {\n          callDetailRecord(drSid: $drSid) {\n            cost: price\n            alsoCost: price\n            caller: numberSrc\n          }\n        }\n      ": typeof types.AliasesDocument,
    "\n      fragment Codecs on CallDetailRecord {\n        codecSrc\n      }\n    ": typeof types.CodecsFragmentDoc,
    "\n      fragment Billing on CallDetailRecord {\n        durationBilling\n        ...Codecs\n      }\n    ": typeof types.BillingFragmentDoc,
    "\n        query Fragments($drSid: UUID!) {\n          callDetailRecord(drSid: $drSid) {\n            ...Billing\n            ... on CallDetailRecord {\n              ipDst\n            }\n            ... {\n              sipcause\n            }\n          }\n        }\n      ": typeof types.FragmentsDocument,
    "\n      query Conditional($drSid: UUID!, $withPrice: Boolean!, $skipRate: Boolean!) {\n        callDetailRecord(drSid: $drSid) {\n          type\n          price @include(if: $withPrice)\n          rate @skip(if: $skipRate)\n        }\n      }\n    ": typeof types.ConditionalDocument,
    "\n        query TypenameOnly($drSid: UUID!) {\n          callDetailRecord(drSid: $drSid) {\n            __typename\n          }\n        }\n      ": typeof types.TypenameOnlyDocument,
    "\n      query Derived($drSid: UUID!) {\n        callDetailRecord(drSid: $drSid) {\n          ringDuration\n          talkDuration\n        }\n      }\n    ": typeof types.DerivedDocument,
    "\n        query SameSidTwice($drSid: UUID!) {\n          money: callDetailRecord(drSid: $drSid) {\n            price\n            rate\n          }\n          numbers: callDetailRecord(drSid: $drSid) {\n            numberSrc\n            numberDst\n          }\n        }\n      ": typeof types.SameSidTwiceDocument,
    "\n        query CaseInsensitive($lower: UUID!, $upper: UUID!) {\n          a: callDetailRecord(drSid: $lower) {\n            price\n          }\n          b: callDetailRecord(drSid: $upper) {\n            rate\n          }\n        }\n      ": typeof types.CaseInsensitiveDocument,
    "\n        query TwoSids($a: UUID!, $b: UUID!) {\n          a: callDetailRecord(drSid: $a) {\n            drSid\n          }\n          b: callDetailRecord(drSid: $b) {\n            drSid\n            dateTalk\n          }\n        }\n      ": typeof types.TwoSidsDocument,
    "\n      query Twice($drSid: UUID!) {\n        callDetailRecord(drSid: $drSid) {\n          price\n        }\n      }\n    ": typeof types.TwiceDocument,
    "\n    query ApolloRecord($drSid: UUID!) {\n      callDetailRecord(drSid: $drSid) {\n        __typename\n        id\n        drSid\n        price\n      }\n    }\n  ": typeof types.ApolloRecordDocument,
    "\n    query ApolloNode($id: ID!) {\n      node(id: $id) {\n        __typename\n        id\n        ... on CallDetailRecord {\n          price\n        }\n      }\n    }\n  ": typeof types.ApolloNodeDocument,
    "\n  query FilteredPage($first: Int, $after: String, $last: Int, $before: String, $filter: CallDetailRecordFilter, $orderBy: CallDetailRecordOrder) {\n    callDetailRecords(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {\n      totalCount\n      nodes { drSid }\n      edges { cursor }\n      pageInfo { hasNextPage hasPreviousPage endCursor }\n    }\n  }\n": typeof types.FilteredPageDocument,
    "\n  query IdsEverywhere($drSid: UUID!) {\n    callDetailRecord(drSid: $drSid) {\n      id\n      drSid\n    }\n    callDetailRecords(first: 3) {\n      nodes {\n        id\n        drSid\n      }\n    }\n  }\n": typeof types.IdsEverywhereDocument,
    "\n  query NodeById($id: ID!) {\n    node(id: $id) {\n      __typename\n      id\n      ... on CallDetailRecord {\n        drSid\n        price\n      }\n    }\n  }\n": typeof types.NodeByIdDocument,
    "\n  query NodesAndRecord($ids: [ID!]!, $drSid: UUID!) {\n    nodes(ids: $ids) {\n      id\n      ... on CallDetailRecord {\n        drSid\n        price\n      }\n    }\n    callDetailRecord(drSid: $drSid) {\n      drSid\n      price\n    }\n  }\n": typeof types.NodesAndRecordDocument,
    "query NodeIdOnly($id: ID!) { node(id: $id) { id } }": typeof types.NodeIdOnlyDocument,
    "\n        query NodeThroughFragments($id: ID!) {\n          node(id: $id) {\n            ...NodeFields\n          }\n        }\n      ": typeof types.NodeThroughFragmentsDocument,
    "\n      fragment NodeFields on Node {\n        ... on CallDetailRecord {\n          talkDuration\n        }\n      }\n    ": typeof types.NodeFieldsFragmentDoc,
    "query ManyNodes($ids: [ID!]!) { nodes(ids: $ids) { id } }": typeof types.ManyNodesDocument,
};
const documents: Documents = {
    "\n  query Page(\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n    $filter: CallDetailRecordFilter\n    $orderBy: CallDetailRecordOrder\n  ) {\n    callDetailRecords(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {\n      totalCount\n      nodes { drSid }\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n    }\n  }\n": types.PageDocument,
    "\n  query Price($drSid: UUID!) {\n    callDetailRecord(drSid: $drSid) {\n      drSid\n      price\n    }\n  }\n": types.PriceDocument,
    "\n  query TwoRecords($a: UUID!, $b: UUID!) {\n    a: callDetailRecord(drSid: $a) {\n      drSid\n      price\n    }\n    b: callDetailRecord(drSid: $b) {\n      drSid\n      price\n    }\n  }\n": types.TwoRecordsDocument,
    "query SubgraphSdl { _service { sdl } }": types.SubgraphSdlDocument,
    "\n    query Entities($representations: [_Any!]!) {\n      _entities(representations: $representations) {\n        ... on CallDetailRecord {\n          drSid\n          cost: price\n          ...EntityPartner\n        }\n      }\n    }\n  ": types.EntitiesDocument,
    "\n    fragment EntityPartner on CallDetailRecord {\n      partner {\n        partnerSid\n      }\n    }\n  ": types.EntityPartnerFragmentDoc,
    "\n        query OneField($drSid: UUID!) {\n          callDetailRecord(drSid: $drSid) {\n            price\n          }\n        }\n      ": types.OneFieldDocument,
    "\n        query Aliases($drSid: UUID!) {\n          callDetailRecord(drSid: $drSid) {\n            cost: price\n            alsoCost: price\n            caller: numberSrc\n          }\n        }\n      ": types.AliasesDocument,
    "\n      fragment Codecs on CallDetailRecord {\n        codecSrc\n      }\n    ": types.CodecsFragmentDoc,
    "\n      fragment Billing on CallDetailRecord {\n        durationBilling\n        ...Codecs\n      }\n    ": types.BillingFragmentDoc,
    "\n        query Fragments($drSid: UUID!) {\n          callDetailRecord(drSid: $drSid) {\n            ...Billing\n            ... on CallDetailRecord {\n              ipDst\n            }\n            ... {\n              sipcause\n            }\n          }\n        }\n      ": types.FragmentsDocument,
    "\n      query Conditional($drSid: UUID!, $withPrice: Boolean!, $skipRate: Boolean!) {\n        callDetailRecord(drSid: $drSid) {\n          type\n          price @include(if: $withPrice)\n          rate @skip(if: $skipRate)\n        }\n      }\n    ": types.ConditionalDocument,
    "\n        query TypenameOnly($drSid: UUID!) {\n          callDetailRecord(drSid: $drSid) {\n            __typename\n          }\n        }\n      ": types.TypenameOnlyDocument,
    "\n      query Derived($drSid: UUID!) {\n        callDetailRecord(drSid: $drSid) {\n          ringDuration\n          talkDuration\n        }\n      }\n    ": types.DerivedDocument,
    "\n        query SameSidTwice($drSid: UUID!) {\n          money: callDetailRecord(drSid: $drSid) {\n            price\n            rate\n          }\n          numbers: callDetailRecord(drSid: $drSid) {\n            numberSrc\n            numberDst\n          }\n        }\n      ": types.SameSidTwiceDocument,
    "\n        query CaseInsensitive($lower: UUID!, $upper: UUID!) {\n          a: callDetailRecord(drSid: $lower) {\n            price\n          }\n          b: callDetailRecord(drSid: $upper) {\n            rate\n          }\n        }\n      ": types.CaseInsensitiveDocument,
    "\n        query TwoSids($a: UUID!, $b: UUID!) {\n          a: callDetailRecord(drSid: $a) {\n            drSid\n          }\n          b: callDetailRecord(drSid: $b) {\n            drSid\n            dateTalk\n          }\n        }\n      ": types.TwoSidsDocument,
    "\n      query Twice($drSid: UUID!) {\n        callDetailRecord(drSid: $drSid) {\n          price\n        }\n      }\n    ": types.TwiceDocument,
    "\n    query ApolloRecord($drSid: UUID!) {\n      callDetailRecord(drSid: $drSid) {\n        __typename\n        id\n        drSid\n        price\n      }\n    }\n  ": types.ApolloRecordDocument,
    "\n    query ApolloNode($id: ID!) {\n      node(id: $id) {\n        __typename\n        id\n        ... on CallDetailRecord {\n          price\n        }\n      }\n    }\n  ": types.ApolloNodeDocument,
    "\n  query FilteredPage($first: Int, $after: String, $last: Int, $before: String, $filter: CallDetailRecordFilter, $orderBy: CallDetailRecordOrder) {\n    callDetailRecords(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {\n      totalCount\n      nodes { drSid }\n      edges { cursor }\n      pageInfo { hasNextPage hasPreviousPage endCursor }\n    }\n  }\n": types.FilteredPageDocument,
    "\n  query IdsEverywhere($drSid: UUID!) {\n    callDetailRecord(drSid: $drSid) {\n      id\n      drSid\n    }\n    callDetailRecords(first: 3) {\n      nodes {\n        id\n        drSid\n      }\n    }\n  }\n": types.IdsEverywhereDocument,
    "\n  query NodeById($id: ID!) {\n    node(id: $id) {\n      __typename\n      id\n      ... on CallDetailRecord {\n        drSid\n        price\n      }\n    }\n  }\n": types.NodeByIdDocument,
    "\n  query NodesAndRecord($ids: [ID!]!, $drSid: UUID!) {\n    nodes(ids: $ids) {\n      id\n      ... on CallDetailRecord {\n        drSid\n        price\n      }\n    }\n    callDetailRecord(drSid: $drSid) {\n      drSid\n      price\n    }\n  }\n": types.NodesAndRecordDocument,
    "query NodeIdOnly($id: ID!) { node(id: $id) { id } }": types.NodeIdOnlyDocument,
    "\n        query NodeThroughFragments($id: ID!) {\n          node(id: $id) {\n            ...NodeFields\n          }\n        }\n      ": types.NodeThroughFragmentsDocument,
    "\n      fragment NodeFields on Node {\n        ... on CallDetailRecord {\n          talkDuration\n        }\n      }\n    ": types.NodeFieldsFragmentDoc,
    "query ManyNodes($ids: [ID!]!) { nodes(ids: $ids) { id } }": types.ManyNodesDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Page(\n    $first: Int\n    $after: String\n    $last: Int\n    $before: String\n    $filter: CallDetailRecordFilter\n    $orderBy: CallDetailRecordOrder\n  ) {\n    callDetailRecords(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {\n      totalCount\n      nodes { drSid }\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n    }\n  }\n"): typeof import('./graphql.js').PageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Price($drSid: UUID!) {\n    callDetailRecord(drSid: $drSid) {\n      drSid\n      price\n    }\n  }\n"): typeof import('./graphql.js').PriceDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TwoRecords($a: UUID!, $b: UUID!) {\n    a: callDetailRecord(drSid: $a) {\n      drSid\n      price\n    }\n    b: callDetailRecord(drSid: $b) {\n      drSid\n      price\n    }\n  }\n"): typeof import('./graphql.js').TwoRecordsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query SubgraphSdl { _service { sdl } }"): typeof import('./graphql.js').SubgraphSdlDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    query Entities($representations: [_Any!]!) {\n      _entities(representations: $representations) {\n        ... on CallDetailRecord {\n          drSid\n          cost: price\n          ...EntityPartner\n        }\n      }\n    }\n  "): typeof import('./graphql.js').EntitiesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    fragment EntityPartner on CallDetailRecord {\n      partner {\n        partnerSid\n      }\n    }\n  "): typeof import('./graphql.js').EntityPartnerFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n        query OneField($drSid: UUID!) {\n          callDetailRecord(drSid: $drSid) {\n            price\n          }\n        }\n      "): typeof import('./graphql.js').OneFieldDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n        query Aliases($drSid: UUID!) {\n          callDetailRecord(drSid: $drSid) {\n            cost: price\n            alsoCost: price\n            caller: numberSrc\n          }\n        }\n      "): typeof import('./graphql.js').AliasesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n      fragment Codecs on CallDetailRecord {\n        codecSrc\n      }\n    "): typeof import('./graphql.js').CodecsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n      fragment Billing on CallDetailRecord {\n        durationBilling\n        ...Codecs\n      }\n    "): typeof import('./graphql.js').BillingFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n        query Fragments($drSid: UUID!) {\n          callDetailRecord(drSid: $drSid) {\n            ...Billing\n            ... on CallDetailRecord {\n              ipDst\n            }\n            ... {\n              sipcause\n            }\n          }\n        }\n      "): typeof import('./graphql.js').FragmentsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n      query Conditional($drSid: UUID!, $withPrice: Boolean!, $skipRate: Boolean!) {\n        callDetailRecord(drSid: $drSid) {\n          type\n          price @include(if: $withPrice)\n          rate @skip(if: $skipRate)\n        }\n      }\n    "): typeof import('./graphql.js').ConditionalDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n        query TypenameOnly($drSid: UUID!) {\n          callDetailRecord(drSid: $drSid) {\n            __typename\n          }\n        }\n      "): typeof import('./graphql.js').TypenameOnlyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n      query Derived($drSid: UUID!) {\n        callDetailRecord(drSid: $drSid) {\n          ringDuration\n          talkDuration\n        }\n      }\n    "): typeof import('./graphql.js').DerivedDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n        query SameSidTwice($drSid: UUID!) {\n          money: callDetailRecord(drSid: $drSid) {\n            price\n            rate\n          }\n          numbers: callDetailRecord(drSid: $drSid) {\n            numberSrc\n            numberDst\n          }\n        }\n      "): typeof import('./graphql.js').SameSidTwiceDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n        query CaseInsensitive($lower: UUID!, $upper: UUID!) {\n          a: callDetailRecord(drSid: $lower) {\n            price\n          }\n          b: callDetailRecord(drSid: $upper) {\n            rate\n          }\n        }\n      "): typeof import('./graphql.js').CaseInsensitiveDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n        query TwoSids($a: UUID!, $b: UUID!) {\n          a: callDetailRecord(drSid: $a) {\n            drSid\n          }\n          b: callDetailRecord(drSid: $b) {\n            drSid\n            dateTalk\n          }\n        }\n      "): typeof import('./graphql.js').TwoSidsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n      query Twice($drSid: UUID!) {\n        callDetailRecord(drSid: $drSid) {\n          price\n        }\n      }\n    "): typeof import('./graphql.js').TwiceDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    query ApolloRecord($drSid: UUID!) {\n      callDetailRecord(drSid: $drSid) {\n        __typename\n        id\n        drSid\n        price\n      }\n    }\n  "): typeof import('./graphql.js').ApolloRecordDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    query ApolloNode($id: ID!) {\n      node(id: $id) {\n        __typename\n        id\n        ... on CallDetailRecord {\n          price\n        }\n      }\n    }\n  "): typeof import('./graphql.js').ApolloNodeDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query FilteredPage($first: Int, $after: String, $last: Int, $before: String, $filter: CallDetailRecordFilter, $orderBy: CallDetailRecordOrder) {\n    callDetailRecords(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {\n      totalCount\n      nodes { drSid }\n      edges { cursor }\n      pageInfo { hasNextPage hasPreviousPage endCursor }\n    }\n  }\n"): typeof import('./graphql.js').FilteredPageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query IdsEverywhere($drSid: UUID!) {\n    callDetailRecord(drSid: $drSid) {\n      id\n      drSid\n    }\n    callDetailRecords(first: 3) {\n      nodes {\n        id\n        drSid\n      }\n    }\n  }\n"): typeof import('./graphql.js').IdsEverywhereDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query NodeById($id: ID!) {\n    node(id: $id) {\n      __typename\n      id\n      ... on CallDetailRecord {\n        drSid\n        price\n      }\n    }\n  }\n"): typeof import('./graphql.js').NodeByIdDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query NodesAndRecord($ids: [ID!]!, $drSid: UUID!) {\n    nodes(ids: $ids) {\n      id\n      ... on CallDetailRecord {\n        drSid\n        price\n      }\n    }\n    callDetailRecord(drSid: $drSid) {\n      drSid\n      price\n    }\n  }\n"): typeof import('./graphql.js').NodesAndRecordDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query NodeIdOnly($id: ID!) { node(id: $id) { id } }"): typeof import('./graphql.js').NodeIdOnlyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n        query NodeThroughFragments($id: ID!) {\n          node(id: $id) {\n            ...NodeFields\n          }\n        }\n      "): typeof import('./graphql.js').NodeThroughFragmentsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n      fragment NodeFields on Node {\n        ... on CallDetailRecord {\n          talkDuration\n        }\n      }\n    "): typeof import('./graphql.js').NodeFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ManyNodes($ids: [ID!]!) { nodes(ids: $ids) { id } }"): typeof import('./graphql.js').ManyNodesDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
