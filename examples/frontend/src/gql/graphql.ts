/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
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

export type CallDetailRecordQueryVariables = Exact<{
  drSid: string;
}>;


export type CallDetailRecordQuery = { __typename: 'Query', callDetailRecord: { __typename: 'CallDetailRecord', drSid: string, dateStart: string | null, price: string | null, direction: CallDetailRecordDirection | null, userData: unknown } | null };


export const CallDetailRecordDocument = {"__meta__":{"hash":"sha256:b669019c7899f2c80daf7161dc587eb4309338c092847a4f6e8a7970f2b92a3b"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"CallDetailRecord"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"drSid"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UUID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"callDetailRecord"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"drSid"},"value":{"kind":"Variable","name":{"kind":"Name","value":"drSid"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"drSid"}},{"kind":"Field","name":{"kind":"Name","value":"dateStart"}},{"kind":"Field","name":{"kind":"Name","value":"price"}},{"kind":"Field","name":{"kind":"Name","value":"direction"}},{"kind":"Field","name":{"kind":"Name","value":"userData"}}]}}]}}]} as unknown as DocumentNode<CallDetailRecordQuery, CallDetailRecordQueryVariables>;