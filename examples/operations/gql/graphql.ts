/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** Direction of a call, as CarrierX documents it. */
export type Direction =
  /** CarrierX "any". */
  | 'ANY'
  /** CarrierX "inbound". */
  | 'INBOUND'
  /** CarrierX "outbound". */
  | 'OUTBOUND'
  /** CarrierX "undirected". */
  | 'UNDIRECTED';

export type CallDetailRecordQueryVariables = Exact<{
  drSid: string;
}>;


export type CallDetailRecordQuery = { callDetailRecord: { drSid: string, direction: Direction | null, numberSrc: string | null, numberDst: string | null, dateStart: string | null, dateTalk: string | null, dateStop: string | null, ringDuration: string | null, talkDuration: string | null, durationBilling: string | null, price: string | null, sipcause: string | null, stirAttest: string | null, partner: { partnerSid: string } | null } | null };


export const CallDetailRecordDocument = {"__meta__":{"hash":"sha256:bdde2128a11b5b93ef7ba34aebf12509d5473c54c44d829f2cc1dbc9c174ce82"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"CallDetailRecord"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"drSid"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UUID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"callDetailRecord"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"drSid"},"value":{"kind":"Variable","name":{"kind":"Name","value":"drSid"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"drSid"}},{"kind":"Field","name":{"kind":"Name","value":"direction"}},{"kind":"Field","name":{"kind":"Name","value":"numberSrc"}},{"kind":"Field","name":{"kind":"Name","value":"numberDst"}},{"kind":"Field","name":{"kind":"Name","value":"dateStart"}},{"kind":"Field","name":{"kind":"Name","value":"dateTalk"}},{"kind":"Field","name":{"kind":"Name","value":"dateStop"}},{"kind":"Field","name":{"kind":"Name","value":"ringDuration"}},{"kind":"Field","name":{"kind":"Name","value":"talkDuration"}},{"kind":"Field","name":{"kind":"Name","value":"durationBilling"}},{"kind":"Field","name":{"kind":"Name","value":"price"}},{"kind":"Field","name":{"kind":"Name","value":"sipcause"}},{"kind":"Field","name":{"kind":"Name","value":"stirAttest"}},{"kind":"Field","name":{"kind":"Name","value":"partner"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"partnerSid"}}]}}]}}]}}]} as unknown as DocumentNode<CallDetailRecordQuery, CallDetailRecordQueryVariables>;