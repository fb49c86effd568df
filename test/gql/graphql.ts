/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
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