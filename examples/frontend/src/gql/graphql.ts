/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
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

/** Conditions on a text field, combined with "and". Values of at most 256 characters, without control characters, backslashes or both quote kinds. */
export type CallDetailRecordStringFilter = {
  /** Equal to this text. */
  eq?: string | null | undefined;
  /** Equal to any of these values (1 to 10). Unless CarrierX is configured to take `in` (CARRIERX_FILTER_OPERATORS), each value is one list call, merged here in the list's order: at most 10 calls for the whole filter (an `in` on two fields takes one per combination), each counted as a page against MAX_RECORDS_PER_OPERATION, and such a list pages forward only (first/after). */
  in?: Array<string> | null | undefined;
  /** Matches this pattern: `%` matches any run of characters (e.g. "4%"). */
  like?: string | null | undefined;
};

export type CallDetailRecordAddedSubscriptionVariables = Exact<{
  filter?: CallDetailRecordFilter | null | undefined;
}>;


export type CallDetailRecordAddedSubscription = { callDetailRecordAdded: { __typename: 'CallDetailRecord', id: string, drSid: string, dateInsert: string | null, numberSrc: string | null, numberDst: string | null, price: string | null, direction: CallDetailRecordDirection | null } };

export type CallDetailRecordQueryVariables = Exact<{
  drSid: string;
}>;


export type CallDetailRecordQuery = { __typename: 'Query', callDetailRecord: { __typename: 'CallDetailRecord', id: string, drSid: string, dateStart: string | null, price: string | null, direction: CallDetailRecordDirection | null, userData: unknown } | null };


export const CallDetailRecordAddedDocument = {"__meta__":{"hash":"sha256:68056e2714a2c077f65212b61cabf02d7c25339f694dde48ca7270b095f157e4"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"CallDetailRecordAdded"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"CallDetailRecordFilter"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"callDetailRecordAdded"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"drSid"}},{"kind":"Field","name":{"kind":"Name","value":"dateInsert"}},{"kind":"Field","name":{"kind":"Name","value":"numberSrc"}},{"kind":"Field","name":{"kind":"Name","value":"numberDst"}},{"kind":"Field","name":{"kind":"Name","value":"price"}},{"kind":"Field","name":{"kind":"Name","value":"direction"}}]}}]}}]} as unknown as DocumentNode<CallDetailRecordAddedSubscription, CallDetailRecordAddedSubscriptionVariables>;
export const CallDetailRecordDocument = {"__meta__":{"hash":"sha256:3d2655b5b939eb144dd6c8f7a853e095220e4721dbce21b27bf70f2569712ee7"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"CallDetailRecord"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"drSid"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UUID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"callDetailRecord"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"drSid"},"value":{"kind":"Variable","name":{"kind":"Name","value":"drSid"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"drSid"}},{"kind":"Field","name":{"kind":"Name","value":"dateStart"}},{"kind":"Field","name":{"kind":"Name","value":"price"}},{"kind":"Field","name":{"kind":"Name","value":"direction"}},{"kind":"Field","name":{"kind":"Name","value":"userData"}}]}}]}}]} as unknown as DocumentNode<CallDetailRecordQuery, CallDetailRecordQueryVariables>;