import { DR_SID } from '../../carrierx/record.ts';

/**
 * Global ids (Relay's Global Object Identification) of call detail records: how they are made and read back.
 * Apart from the schema (node.ts) so that the benchmark and the tests make ids the one way the service does.
 */

// The text an id encodes: a version, the type, the record's dr_sid in lower case. The version lets a later form
// be told apart from this one; the type, another type's ids, should this graph ever issue any.
const ID_PREFIX = 'v1:CallDetailRecord:';
// base64url of ID_PREFIX and a 36-character UUID, unpadded: 75 characters, no more, no fewer.
const ID_LENGTH = Math.ceil(((ID_PREFIX.length + 36) * 4) / 3);
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The global id of the record with this dr_sid: one id per record, whatever case the SID was written in. */
export function globalIdOf(drSid: string): string {
  return Buffer.from(`${ID_PREFIX}${drSid.toLowerCase()}`).toString('base64url');
}

/**
 * The dr_sid a global id stands for, or undefined when the id is not one `globalIdOf` makes. Strict: only the
 * exact bytes this service issues pass (no padding, no other spelling of the same bytes, a lower-case UUID), so
 * nothing a caller makes up reaches CarrierX unless it decodes to a UUID.
 */
export function drSidOfGlobalId(id: string): string | undefined {
  if (id.length !== ID_LENGTH || !BASE64URL.test(id)) return undefined;
  const text = Buffer.from(id, 'base64url').toString('latin1');
  if (!text.startsWith(ID_PREFIX)) return undefined;
  const drSid = text.slice(ID_PREFIX.length);
  // The round trip rules out the other spellings base64 decoders accept for the same bytes (stray low bits).
  if (!DR_SID.test(drSid) || drSid !== drSid.toLowerCase() || globalIdOf(drSid) !== id) return undefined;
  return drSid;
}
