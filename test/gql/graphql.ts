/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** Conditions on a date field, combined with "and" (e.g. gt and lt for a range). */
export type CallDetailRecordDateTimeFilter = {
  /** At or after this instant. */
  ge?: string | null | undefined;
  /** After this instant. */
  gt?: string | null | undefined;
  /** At or before this instant (to the millisecond). Sent as CarrierX `le` when CARRIERX_FILTER_OPERATORS names it, otherwise as `lt` the next millisecond. */
  le?: string | null | undefined;
  /** Before this instant. */
  lt?: string | null | undefined;
};

/** Direction of a call, as CarrierX documents it. */
export type CallDetailRecordDirection =
  /** CarrierX "any". */
  | 'ANY'
  /** CarrierX "inbound". */
  | 'INBOUND'
  /** CarrierX "outbound". */
  | 'OUTBOUND'
  /** CarrierX "undirected". */
  | 'UNDIRECTED';

/** Which records to list; every condition set must hold (CarrierX joins filter conditions only with "and"). */
export type CallDetailRecordFilter = {
  /** When CarrierX inserted the record (UTC). */
  dateInsert?: CallDetailRecordDateTimeFilter | null | undefined;
  /** When the call started (UTC). */
  dateStart?: CallDetailRecordDateTimeFilter | null | undefined;
  /** Direction of the call. */
  direction?: CallDetailRecordDirection | null | undefined;
  /** Secure ID of the destination endpoint (a System Gateway SID for external numbers). */
  endpointSidDst?: CallDetailRecordIdFilter | null | undefined;
  /** Secure ID of the source endpoint (a System Gateway SID for external numbers). */
  endpointSidSrc?: CallDetailRecordIdFilter | null | undefined;
  /** Phone number the call is billed to. */
  numberBilling?: CallDetailRecordNumberFilter | null | undefined;
  /** Destination phone number, as CarrierX stores it (not normalised). */
  numberDst?: CallDetailRecordNumberFilter | null | undefined;
  /** Source (calling) phone number, as CarrierX stores it (not normalised). */
  numberSrc?: CallDetailRecordNumberFilter | null | undefined;
  /** Secure ID of the partner that owns the record. */
  partnerSid?: CallDetailRecordIdFilter | null | undefined;
  /** Final SIP response code of the call, e.g. "200". */
  sipcause?: CallDetailRecordStringFilter | null | undefined;
  /** STIR/SHAKEN attestation level: A, B or C. */
  stirAttest?: CallDetailRecordStringFilter | null | undefined;
  /** Secure ID of the trunk group of the destination leg. */
  trunkGroupSidDst?: CallDetailRecordIdFilter | null | undefined;
  /** Secure ID of the trunk group of the source leg. */
  trunkGroupSidSrc?: CallDetailRecordIdFilter | null | undefined;
};

/** Conditions on a secure ID field. */
export type CallDetailRecordIdFilter = {
  /** Equal to this ID. */
  eq?: string | null | undefined;
  /** Equal to any of these values (1 to 10). Unless CarrierX is configured to take `in` (CARRIERX_FILTER_OPERATORS), each value is one list call, merged here in the list's order: at most 10 calls for the whole filter (an `in` on two fields takes one per combination), each counted as a page against MAX_RECORDS_PER_OPERATION, and such a list pages forward only (first/after). */
  in?: Array<string> | null | undefined;
};

/** Conditions on a phone number field, combined with "and". CarrierX stores numbers as it received them, with or without a leading + ("+15162065451" and "15162065451" both occur): `phone` matches both. Values of at most 256 characters, without control characters, backslashes or both quote kinds. */
export type CallDetailRecordNumberFilter = {
  /** Equal to this text, as stored (one spelling of the number). */
  eq?: string | null | undefined;
  /** Equal to any of these values (1 to 10). Unless CarrierX is configured to take `in` (CARRIERX_FILTER_OPERATORS), each value is one list call, merged here in the list's order: at most 10 calls for the whole filter (an `in` on two fields takes one per combination), each counted as a page against MAX_RECORDS_PER_OPERATION, and such a list pages forward only (first/after). */
  in?: Array<string> | null | undefined;
  /** Matches this pattern: `%` matches any run of characters. As stored: "+1516%" misses numbers stored without the +. */
  like?: string | null | undefined;
  /** This number however it is stored: "+15162065451" or "15162065451" matches both spellings (digits with an optional leading +; an `in` of the two forms). */
  phone?: string | null | undefined;
};

/** The order of a list of call detail records; dr_sid breaks ties. */
export type CallDetailRecordOrder = {
  direction: CallDetailRecordOrderDirection;
  field: CallDetailRecordOrderField;
};

/** Ascending or descending. */
export type CallDetailRecordOrderDirection =
  /** Smallest (earliest) first. */
  | 'ASC'
  /** Largest (latest) first. */
  | 'DESC';

/** A field call detail records can be listed in the order of. */
export type CallDetailRecordOrderField =
  /** CarrierX's date_insert. */
  | 'DATE_INSERT'
  /** CarrierX's date_start. */
  | 'DATE_START'
  /** CarrierX's date_stop. */
  | 'DATE_STOP'
  /** CarrierX's duration. */
  | 'DURATION'
  /** CarrierX's price. */
  | 'PRICE';

/** Conditions on a text field, combined with "and". Values of at most 256 characters, without control characters, backslashes or both quote kinds. */
export type CallDetailRecordStringFilter = {
  /** Equal to this text. */
  eq?: string | null | undefined;
  /** Equal to any of these values (1 to 10). Unless CarrierX is configured to take `in` (CARRIERX_FILTER_OPERATORS), each value is one list call, merged here in the list's order: at most 10 calls for the whole filter (an `in` on two fields takes one per combination), each counted as a page against MAX_RECORDS_PER_OPERATION, and such a list pages forward only (first/after). */
  in?: Array<string> | null | undefined;
  /** Matches this pattern: `%` matches any run of characters (e.g. "4%"). */
  like?: string | null | undefined;
};

export type PageQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
  filter?: CallDetailRecordFilter | null | undefined;
  orderBy?: CallDetailRecordOrder | null | undefined;
}>;


export type PageQuery = { callDetailRecords: { totalCount: number | null, nodes: Array<{ drSid: string }>, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null } } | null };

export type PriceQueryVariables = Exact<{
  drSid: string;
}>;


export type PriceQuery = { callDetailRecord: { drSid: string, price: string | null } | null };

export type TwoRecordsQueryVariables = Exact<{
  a: string;
  b: string;
}>;


export type TwoRecordsQuery = { a: { drSid: string, price: string | null } | null, b: { drSid: string, price: string | null } | null };

export type SubgraphSdlQueryVariables = Exact<{ [key: string]: never; }>;


export type SubgraphSdlQuery = { _service: { sdl: string | null } };

export type EntitiesQueryVariables = Exact<{
  representations: Array<unknown> | unknown;
}>;


export type EntitiesQuery = { _entities: Array<{ drSid: string, cost: string | null, partner: { partnerSid: string } | null } | null> };

export type EntityPartnerFragment = { partner: { partnerSid: string } | null };

export type OneFieldQueryVariables = Exact<{
  drSid: string;
}>;


export type OneFieldQuery = { callDetailRecord: { price: string | null } | null };

export type AliasesQueryVariables = Exact<{
  drSid: string;
}>;


export type AliasesQuery = { callDetailRecord: { cost: string | null, alsoCost: string | null, caller: string | null } | null };

export type CodecsFragment = { codecSrc: string | null };

export type BillingFragment = { durationBilling: string | null, codecSrc: string | null };

export type FragmentsQueryVariables = Exact<{
  drSid: string;
}>;


export type FragmentsQuery = { callDetailRecord: { ipDst: string | null, sipcause: string | null, durationBilling: string | null, codecSrc: string | null } | null };

export type ConditionalQueryVariables = Exact<{
  drSid: string;
  withPrice: boolean;
  skipRate: boolean;
}>;


export type ConditionalQuery = { callDetailRecord: { type: string | null, price?: string | null, rate?: string | null } | null };

export type TypenameOnlyQueryVariables = Exact<{
  drSid: string;
}>;


export type TypenameOnlyQuery = { callDetailRecord: { __typename: 'CallDetailRecord' } | null };

export type DerivedQueryVariables = Exact<{
  drSid: string;
}>;


export type DerivedQuery = { callDetailRecord: { ringDuration: string | null, talkDuration: string | null } | null };

export type SameSidTwiceQueryVariables = Exact<{
  drSid: string;
}>;


export type SameSidTwiceQuery = { money: { price: string | null, rate: string | null } | null, numbers: { numberSrc: string | null, numberDst: string | null } | null };

export type CaseInsensitiveQueryVariables = Exact<{
  lower: string;
  upper: string;
}>;


export type CaseInsensitiveQuery = { a: { price: string | null } | null, b: { rate: string | null } | null };

export type TwoSidsQueryVariables = Exact<{
  a: string;
  b: string;
}>;


export type TwoSidsQuery = { a: { drSid: string } | null, b: { drSid: string, dateTalk: string | null } | null };

export type TwiceQueryVariables = Exact<{
  drSid: string;
}>;


export type TwiceQuery = { callDetailRecord: { price: string | null } | null };

export type ApolloRecordQueryVariables = Exact<{
  drSid: string;
}>;


export type ApolloRecordQuery = { callDetailRecord: { __typename: 'CallDetailRecord', id: string, drSid: string, price: string | null } | null };

export type ApolloNodeQueryVariables = Exact<{
  id: string | number;
}>;


export type ApolloNodeQuery = { node: { __typename: 'CallDetailRecord', price: string | null, id: string } | null };

export type FilteredPageQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
  filter?: CallDetailRecordFilter | null | undefined;
  orderBy?: CallDetailRecordOrder | null | undefined;
}>;


export type FilteredPageQuery = { callDetailRecords: { totalCount: number | null, nodes: Array<{ drSid: string }>, edges: Array<{ cursor: string }>, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, endCursor: string | null } } | null };

export type IdsEverywhereQueryVariables = Exact<{
  drSid: string;
}>;


export type IdsEverywhereQuery = { callDetailRecord: { id: string, drSid: string } | null, callDetailRecords: { nodes: Array<{ id: string, drSid: string }> } | null };

export type NodeByIdQueryVariables = Exact<{
  id: string | number;
}>;


export type NodeByIdQuery = { node: { __typename: 'CallDetailRecord', drSid: string, price: string | null, id: string } | null };

export type NodesAndRecordQueryVariables = Exact<{
  ids: Array<string | number> | string | number;
  drSid: string;
}>;


export type NodesAndRecordQuery = { nodes: Array<{ drSid: string, price: string | null, id: string } | null> | null, callDetailRecord: { drSid: string, price: string | null } | null };

export type NodeIdOnlyQueryVariables = Exact<{
  id: string | number;
}>;


export type NodeIdOnlyQuery = { node: { id: string } | null };

export type NodeThroughFragmentsQueryVariables = Exact<{
  id: string | number;
}>;


export type NodeThroughFragmentsQuery = { node: { talkDuration: string | null } | null };

export type NodeFieldsFragment = { talkDuration: string | null };

export type ManyNodesQueryVariables = Exact<{
  ids: Array<string | number> | string | number;
}>;


export type ManyNodesQuery = { nodes: Array<{ id: string } | null> | null };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const EntityPartnerFragmentDoc = new TypedDocumentString(`
    fragment EntityPartner on CallDetailRecord {
  partner {
    partnerSid
  }
}
    `, {"fragmentName":"EntityPartner"}) as unknown as TypedDocumentString<EntityPartnerFragment, unknown>;
export const CodecsFragmentDoc = new TypedDocumentString(`
    fragment Codecs on CallDetailRecord {
  codecSrc
}
    `, {"fragmentName":"Codecs"}) as unknown as TypedDocumentString<CodecsFragment, unknown>;
export const BillingFragmentDoc = new TypedDocumentString(`
    fragment Billing on CallDetailRecord {
  durationBilling
  ...Codecs
}
    fragment Codecs on CallDetailRecord {
  codecSrc
}`, {"fragmentName":"Billing"}) as unknown as TypedDocumentString<BillingFragment, unknown>;
export const NodeFieldsFragmentDoc = new TypedDocumentString(`
    fragment NodeFields on Node {
  ... on CallDetailRecord {
    talkDuration
  }
}
    `, {"fragmentName":"NodeFields"}) as unknown as TypedDocumentString<NodeFieldsFragment, unknown>;
export const PageDocument = new TypedDocumentString(`
    query Page($first: Int, $after: String, $last: Int, $before: String, $filter: CallDetailRecordFilter, $orderBy: CallDetailRecordOrder) {
  callDetailRecords(
    first: $first
    after: $after
    last: $last
    before: $before
    filter: $filter
    orderBy: $orderBy
  ) {
    totalCount
    nodes {
      drSid
    }
    pageInfo {
      hasNextPage
      hasPreviousPage
      startCursor
      endCursor
    }
  }
}
    `) as unknown as TypedDocumentString<PageQuery, PageQueryVariables>;
export const PriceDocument = new TypedDocumentString(`
    query Price($drSid: UUID!) {
  callDetailRecord(drSid: $drSid) {
    drSid
    price
  }
}
    `) as unknown as TypedDocumentString<PriceQuery, PriceQueryVariables>;
export const TwoRecordsDocument = new TypedDocumentString(`
    query TwoRecords($a: UUID!, $b: UUID!) {
  a: callDetailRecord(drSid: $a) {
    drSid
    price
  }
  b: callDetailRecord(drSid: $b) {
    drSid
    price
  }
}
    `) as unknown as TypedDocumentString<TwoRecordsQuery, TwoRecordsQueryVariables>;
export const SubgraphSdlDocument = new TypedDocumentString(`
    query SubgraphSdl {
  _service {
    sdl
  }
}
    `) as unknown as TypedDocumentString<SubgraphSdlQuery, SubgraphSdlQueryVariables>;
export const EntitiesDocument = new TypedDocumentString(`
    query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on CallDetailRecord {
      drSid
      cost: price
      ...EntityPartner
    }
  }
}
    fragment EntityPartner on CallDetailRecord {
  partner {
    partnerSid
  }
}`) as unknown as TypedDocumentString<EntitiesQuery, EntitiesQueryVariables>;
export const OneFieldDocument = new TypedDocumentString(`
    query OneField($drSid: UUID!) {
  callDetailRecord(drSid: $drSid) {
    price
  }
}
    `) as unknown as TypedDocumentString<OneFieldQuery, OneFieldQueryVariables>;
export const AliasesDocument = new TypedDocumentString(`
    query Aliases($drSid: UUID!) {
  callDetailRecord(drSid: $drSid) {
    cost: price
    alsoCost: price
    caller: numberSrc
  }
}
    `) as unknown as TypedDocumentString<AliasesQuery, AliasesQueryVariables>;
export const FragmentsDocument = new TypedDocumentString(`
    query Fragments($drSid: UUID!) {
  callDetailRecord(drSid: $drSid) {
    ...Billing
    ... on CallDetailRecord {
      ipDst
    }
    ... {
      sipcause
    }
  }
}
    fragment Codecs on CallDetailRecord {
  codecSrc
}
fragment Billing on CallDetailRecord {
  durationBilling
  ...Codecs
}`) as unknown as TypedDocumentString<FragmentsQuery, FragmentsQueryVariables>;
export const ConditionalDocument = new TypedDocumentString(`
    query Conditional($drSid: UUID!, $withPrice: Boolean!, $skipRate: Boolean!) {
  callDetailRecord(drSid: $drSid) {
    type
    price @include(if: $withPrice)
    rate @skip(if: $skipRate)
  }
}
    `) as unknown as TypedDocumentString<ConditionalQuery, ConditionalQueryVariables>;
export const TypenameOnlyDocument = new TypedDocumentString(`
    query TypenameOnly($drSid: UUID!) {
  callDetailRecord(drSid: $drSid) {
    __typename
  }
}
    `) as unknown as TypedDocumentString<TypenameOnlyQuery, TypenameOnlyQueryVariables>;
export const DerivedDocument = new TypedDocumentString(`
    query Derived($drSid: UUID!) {
  callDetailRecord(drSid: $drSid) {
    ringDuration
    talkDuration
  }
}
    `) as unknown as TypedDocumentString<DerivedQuery, DerivedQueryVariables>;
export const SameSidTwiceDocument = new TypedDocumentString(`
    query SameSidTwice($drSid: UUID!) {
  money: callDetailRecord(drSid: $drSid) {
    price
    rate
  }
  numbers: callDetailRecord(drSid: $drSid) {
    numberSrc
    numberDst
  }
}
    `) as unknown as TypedDocumentString<SameSidTwiceQuery, SameSidTwiceQueryVariables>;
export const CaseInsensitiveDocument = new TypedDocumentString(`
    query CaseInsensitive($lower: UUID!, $upper: UUID!) {
  a: callDetailRecord(drSid: $lower) {
    price
  }
  b: callDetailRecord(drSid: $upper) {
    rate
  }
}
    `) as unknown as TypedDocumentString<CaseInsensitiveQuery, CaseInsensitiveQueryVariables>;
export const TwoSidsDocument = new TypedDocumentString(`
    query TwoSids($a: UUID!, $b: UUID!) {
  a: callDetailRecord(drSid: $a) {
    drSid
  }
  b: callDetailRecord(drSid: $b) {
    drSid
    dateTalk
  }
}
    `) as unknown as TypedDocumentString<TwoSidsQuery, TwoSidsQueryVariables>;
export const TwiceDocument = new TypedDocumentString(`
    query Twice($drSid: UUID!) {
  callDetailRecord(drSid: $drSid) {
    price
  }
}
    `) as unknown as TypedDocumentString<TwiceQuery, TwiceQueryVariables>;
export const ApolloRecordDocument = new TypedDocumentString(`
    query ApolloRecord($drSid: UUID!) {
  callDetailRecord(drSid: $drSid) {
    __typename
    id
    drSid
    price
  }
}
    `) as unknown as TypedDocumentString<ApolloRecordQuery, ApolloRecordQueryVariables>;
export const ApolloNodeDocument = new TypedDocumentString(`
    query ApolloNode($id: ID!) {
  node(id: $id) {
    __typename
    id
    ... on CallDetailRecord {
      price
    }
  }
}
    `) as unknown as TypedDocumentString<ApolloNodeQuery, ApolloNodeQueryVariables>;
export const FilteredPageDocument = new TypedDocumentString(`
    query FilteredPage($first: Int, $after: String, $last: Int, $before: String, $filter: CallDetailRecordFilter, $orderBy: CallDetailRecordOrder) {
  callDetailRecords(
    first: $first
    after: $after
    last: $last
    before: $before
    filter: $filter
    orderBy: $orderBy
  ) {
    totalCount
    nodes {
      drSid
    }
    edges {
      cursor
    }
    pageInfo {
      hasNextPage
      hasPreviousPage
      endCursor
    }
  }
}
    `) as unknown as TypedDocumentString<FilteredPageQuery, FilteredPageQueryVariables>;
export const IdsEverywhereDocument = new TypedDocumentString(`
    query IdsEverywhere($drSid: UUID!) {
  callDetailRecord(drSid: $drSid) {
    id
    drSid
  }
  callDetailRecords(first: 3) {
    nodes {
      id
      drSid
    }
  }
}
    `) as unknown as TypedDocumentString<IdsEverywhereQuery, IdsEverywhereQueryVariables>;
export const NodeByIdDocument = new TypedDocumentString(`
    query NodeById($id: ID!) {
  node(id: $id) {
    __typename
    id
    ... on CallDetailRecord {
      drSid
      price
    }
  }
}
    `) as unknown as TypedDocumentString<NodeByIdQuery, NodeByIdQueryVariables>;
export const NodesAndRecordDocument = new TypedDocumentString(`
    query NodesAndRecord($ids: [ID!]!, $drSid: UUID!) {
  nodes(ids: $ids) {
    id
    ... on CallDetailRecord {
      drSid
      price
    }
  }
  callDetailRecord(drSid: $drSid) {
    drSid
    price
  }
}
    `) as unknown as TypedDocumentString<NodesAndRecordQuery, NodesAndRecordQueryVariables>;
export const NodeIdOnlyDocument = new TypedDocumentString(`
    query NodeIdOnly($id: ID!) {
  node(id: $id) {
    id
  }
}
    `) as unknown as TypedDocumentString<NodeIdOnlyQuery, NodeIdOnlyQueryVariables>;
export const NodeThroughFragmentsDocument = new TypedDocumentString(`
    query NodeThroughFragments($id: ID!) {
  node(id: $id) {
    ...NodeFields
  }
}
    fragment NodeFields on Node {
  ... on CallDetailRecord {
    talkDuration
  }
}`) as unknown as TypedDocumentString<NodeThroughFragmentsQuery, NodeThroughFragmentsQueryVariables>;
export const ManyNodesDocument = new TypedDocumentString(`
    query ManyNodes($ids: [ID!]!) {
  nodes(ids: $ids) {
    id
  }
}
    `) as unknown as TypedDocumentString<ManyNodesQuery, ManyNodesQueryVariables>;