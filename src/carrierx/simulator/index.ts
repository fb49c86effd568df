export {
  CDR_API_FIELDS,
  CHILD_PARTNER_SID,
  DESCENDANT_DR_SID,
  PARENT_PARTNER_SID,
  SAMPLE_DR_SID,
  UNANSWERED_DR_SID,
} from './data.ts';
export type { Fault, FaultRule } from './faults.ts';
export type { NewRecords } from './live.ts';
export type { RecordedRequest } from './request-log.ts';
export { createSimulator, type Simulator, type SimulatorOptions } from './simulator.ts';
export { DEMO_TOKEN, DESCENDANT_TOKEN, NO_SCOPE_TOKEN } from './tokens.ts';
