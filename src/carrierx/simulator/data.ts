import { readFileSync } from 'node:fs';
import { CDR_FIELDS } from '../fields.ts';

/** The record of CarrierX's "Get Call Detail Record by SID" page, served byte-for-byte. */
export const SAMPLE_DR_SID = 'c02a73b2-8401-459a-af7e-f4cc3eee7854';
/** A generated record that was never answered: date_talk null, sipcause 486, duration_billing "0". */
export const UNANSWERED_DR_SID = '5d0c3a9e-7b21-4f6a-9e3c-2a8b14f07d61';
/** A generated record owned by the child partner, readable only with calls.read_descendant. */
export const DESCENDANT_DR_SID = 'a7e4b9c2-3f15-4d8e-b6a0-91c2d5e8f403';
/** The partner that owns the sample and most records; every simulator token belongs to it. */
export const PARENT_PARTNER_SID = 'ed437757-002d-4ecc-aa5a-efdf5e50dba0';
/** A descendant (child) partner of the parent partner. */
export const CHILD_PARTNER_SID = '3b9f2c71-6d4e-4a85-9c1b-7e0a5f2d8c94';

export const DEFAULT_RECORD_COUNT = 1200;
export const DEFAULT_SEED = 20250518;

export type CdrRecord = Readonly<Record<string, unknown>>;

/** The 52 top-level keys of a CDR as CarrierX sends them today, in their (alphabetical) wire order. */
export const CDR_API_FIELDS: readonly string[] = CDR_FIELDS.map((field) => field.api);

/** Reads the sample record; JSON.parse keeps the file's key order and exact value text. */
export function loadSampleRecord(): Record<string, unknown> {
  const text = readFileSync(new URL('./sample-cdr.json', import.meta.url), 'utf8');
  return JSON.parse(text) as Record<string, unknown>;
}

/** mulberry32: a tiny seeded PRNG, so every simulator with the same seed serves the same records. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Formats an integer count of 10^-scale units as a decimal string without trailing zeros ("4.25015", "60"). */
export function formatDecimal(units: number, scale: number): string {
  const digits = String(units).padStart(scale + 1, '0');
  const whole = digits.slice(0, -scale);
  const fraction = digits.slice(-scale).replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole;
}

const AREA_CODES = ['501', '516', '212', '415', '312', '617', '305', '702', '206', '972'];
const CODECS = ['amrwb', 'g722', 'pcmu', 'pcma', 'opus', 'g729'];
const UNANSWERED_CAUSES = ['486', '487', '480', '603'];
// Per-minute rates in micro-dollars; all multiples of 50 so that rate × (6 s increments) stays whole.
const RATES = [2500, 5000, 7500, 10000, 4500, 3750, 1250, 6150];
const PUBLIC_IPS = ['162.251.180.18', '162.251.180.24', '208.78.161.42', '54.172.60.3', '34.203.250.17'];
const CARRIER_IPS = ['12.7.193.174', '64.125.111.10', '199.255.156.2'];
const SIGNING_ENTITIES = ['carrierX', 'Bandwidth', 'Lumen', 'Twilio'];
const VERSTATS = ['TN-Validation-Passed', 'TN-Validation-Failed', 'No-TN-Validation'];
const DAY_MS = 24 * 3600 * 1000;
/** How far back the generated calls go from the anchor. */
export const DATA_WINDOW_DAYS = 90;
const WINDOW_MS = DATA_WINDOW_DAYS * DAY_MS;
// Longer than any generated call (up to 9 s of ringing, then at most an hour of talk) plus its insert delay (at
// most 5 min): the window ends this long before the anchor, so no date of a generated record is after it.
const WINDOW_END_MARGIN_MS = 2 * 3600 * 1000;
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The start (00:00 UTC) of the UTC day holding the instant: the simulator's default anchor. */
export function startOfUtcDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** The seeded draws every generated record is made of. */
function drawsOf(random: () => number) {
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const chance = (p: number) => random() < p;
  const hex = (n: number) => {
    let out = '';
    for (let i = 0; i < n; i++) out += '0123456789abcdef'[Math.floor(random() * 16)];
    return out;
  };
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(random() * 4)]}${hex(3)}-${hex(12)}`;
  const base64url = (n: number) => {
    let out = '';
    for (let i = 0; i < n; i++) out += BASE64URL[Math.floor(random() * 64)];
    return out;
  };
  const digits = () => `1${pick(AREA_CODES)}${int(2000000, 9999999)}`;
  return { random, int, pick, chance, hex, uuid, base64url, digits };
}
type Draws = ReturnType<typeof drawsOf>;

/** The DIDs, endpoints and trunks of the account, drawn first from the seed so every record shares them. */
interface Account {
  partnerNumbers: readonly string[];
  endpoints: readonly string[];
  systemGateway: string;
  trunkGroups: readonly string[];
  trunks: readonly string[];
}

function drawAccount(draw: Draws): Account {
  return {
    partnerNumbers: Array.from({ length: 12 }, draw.digits),
    endpoints: Array.from({ length: 6 }, draw.uuid),
    systemGateway: draw.uuid(),
    trunkGroups: Array.from({ length: 4 }, draw.uuid),
    trunks: Array.from({ length: 8 }, draw.uuid),
  };
}

/** Where a call sits in time, decided once its length is known. */
interface Placement {
  /** The call's start from a uniform draw in [0, 1) and its length (start to stop) in ms. */
  start(draw: number, lengthMs: number): number;
  /** When its record was inserted, from its stop and a drawn delay (5 to 300 s, whole seconds). */
  insert(stopMs: number, delayMs: number): number;
}

/**
 * One generated record. The draws happen in one fixed order whatever the placement, so a seed's dataset stays
 * the same records it always was.
 */
function generateRecord(
  draw: Draws,
  account: Account,
  placement: Placement,
  pinned: { drSid?: string; unanswered?: boolean; descendant?: boolean } = {},
): CdrRecord {
  const { random, int, pick, chance, hex, uuid, base64url, digits } = draw;
  const withPlus = (number: string) => (chance(0.5) ? `+${number}` : number);
  const pinnedUnanswered = pinned.unanswered === true;
  const pinnedDescendant = pinned.descendant === true;
  const drSid = pinned.drSid ?? uuid();
  const descendant = pinnedDescendant || (!pinnedUnanswered && chance(0.1));
  const answered = pinnedDescendant || (!pinnedUnanswered && chance(0.72));
  const roll = random();
  const direction = roll < 0.47 ? 'inbound' : roll < 0.94 ? 'outbound' : 'undirected';

  const partnerDid = pick(account.partnerNumbers);
  const remote = digits();
  const srcDigits = direction === 'inbound' ? remote : partnerDid;
  const dstDigits = direction === 'inbound' ? partnerDid : remote;
  const numberSrc = withPlus(srcDigits);
  const numberDst = withPlus(dstDigits);

  const startDraw = random();
  let talkOffsetMs: number | null = null;
  let durationMicros: number;
  let sipcause: string;
  let disconnectOriginator: string;
  if (answered) {
    talkOffsetMs = int(300, 9000);
    const talkLength = Math.min(3_600_000, 1000 + Math.floor(-Math.log(1 - random()) * 90_000));
    durationMicros = (talkOffsetMs + talkLength) * 1000 + int(0, 999);
    sipcause = '200';
    disconnectOriginator = chance(0.5) ? 'SRC' : 'DST';
  } else {
    durationMicros = int(2000, 45000) * 1000 + int(0, 999);
    sipcause = pinnedUnanswered ? '486' : pick(UNANSWERED_CAUSES);
    // A 487 is the caller cancelling; the other causes are the called side refusing.
    disconnectOriginator = sipcause === '487' ? 'SRC' : 'DST';
  }
  const lengthMs = Math.floor(durationMicros / 1000);
  const startMs = placement.start(startDraw, lengthMs);
  const talkMs = talkOffsetMs === null ? null : startMs + talkOffsetMs;
  const stopMs = startMs + lengthMs;
  const insertMs = placement.insert(stopMs, int(5, 300) * 1000);

  // Billing is 60/6: a one-minute minimum, then six-second increments of talk time.
  let billingSeconds = 0;
  if (talkMs !== null) {
    const talked = stopMs - talkMs;
    billingSeconds = talked <= 60_000 ? 60 : 60 + Math.ceil((talked - 60_000) / 6000) * 6;
  }
  const priceOf = (rate: number) => formatDecimal((rate * billingSeconds) / 60, 6);
  const rate = pick(RATES);
  const rateLcrDst = chance(0.7) ? pick(RATES) : null;
  const rateLcrSrc = chance(0.3) ? pick(RATES) : null;

  const codecSrc = pick(CODECS);
  const codecDst = answered ? (chance(0.6) ? codecSrc : pick(CODECS)) : null;
  const stir = chance(0.6);
  const transformed = chance(0.1);
  const diversion = chance(0.2) ? `+${digits()}` : null;
  const cic = chance(0.05) ? String(int(1000, 9999)).padStart(4, '0') : null;
  const ipSrc = pick(PUBLIC_IPS);
  const ipDst = `10.222.${int(0, 9)}.${int(2, 254)}${chance(0.5) ? ':5060' : ''}`;

  return sortKeys({
    cic,
    cic_original: cic,
    cic_transformed: cic && chance(0.5) ? cic : null,
    codec_dst: codecDst,
    codec_src: codecSrc,
    date_insert: new Date(insertMs).toISOString(),
    date_start: new Date(startMs).toISOString(),
    date_stop: new Date(stopMs).toISOString(),
    date_talk: talkMs === null ? null : new Date(talkMs).toISOString(),
    direction,
    disconnect_originator: disconnectOriginator,
    diversion_dst: diversion,
    diversion_src: diversion,
    dr_sid: drSid,
    duration: formatDecimal(durationMicros, 6),
    duration_billing: String(billingSeconds),
    endpoint_sid_dst: direction === 'inbound' ? pick(account.endpoints) : account.systemGateway,
    endpoint_sid_src: direction === 'inbound' ? account.systemGateway : pick(account.endpoints),
    identity: chance(0.3) ? `+${srcDigits}` : null,
    ip_dst: ipDst,
    ip_src: ipSrc,
    number_billing: partnerDid,
    number_dst: numberDst,
    number_dst_original: transformed ? dstDigits : null,
    number_dst_transformed: transformed ? numberDst : null,
    number_external: remote,
    number_src: numberSrc,
    number_src_original: transformed ? srcDigits : null,
    number_src_transformed: transformed ? numberSrc : null,
    partner_sid: descendant ? CHILD_PARTNER_SID : PARENT_PARTNER_SID,
    price: priceOf(rate),
    price_lcr_dst: rateLcrDst === null ? null : priceOf(rateLcrDst),
    price_lcr_src: rateLcrSrc === null ? null : priceOf(rateLcrSrc),
    rate: formatDecimal(rate, 6),
    rate_lcr_dst: rateLcrDst === null ? null : formatDecimal(rateLcrDst, 6),
    rate_lcr_src: rateLcrSrc === null ? null : formatDecimal(rateLcrSrc, 6),
    sipcallid_dst: `${hex(32)}@${pick(CARRIER_IPS)}`,
    sipcallid_src: `${hex(32)}@${ipSrc}`,
    sipcause,
    stir_attest: stir ? pick(['A', 'A', 'B', 'C']) : null,
    stir_identity: stir && chance(0.5) ? 'true' : 'false',
    stir_orig_id: stir ? numberSrc : null,
    stir_signing_entity: stir ? pick(SIGNING_ENTITIES) : null,
    stir_verstat: stir && chance(0.5) ? pick(VERSTATS) : null,
    transcoded: codecDst !== null && codecDst !== codecSrc,
    trunk_group_sid_dst: chance(0.5) ? pick(account.trunkGroups) : null,
    trunk_group_sid_src: chance(0.4) ? pick(account.trunkGroups) : null,
    trunk_sid_dst: chance(0.5) ? pick(account.trunks) : null,
    trunk_sid_src: chance(0.4) ? pick(account.trunks) : null,
    type: 'telecom',
    user_data: stir
      ? {
          identity: `eyJ0eXAiOiJwYXNzcG9ydCIsImFsZyI6IkVTMjU2In0.${base64url(86)}.${base64url(86)};info=<https://cr.carrierx.com/cert.pem>;alg=ES256;ppt=shaken`,
        }
      : {},
    version: 2,
  });
}

/**
 * Builds the sample record plus `recordCount` generated ones (the first two are the pinned special records).
 * Generated calls start within the `DATA_WINDOW_DAYS` days before `anchorMs` and every one of their dates is
 * before it, so "yesterday" and "the last 7 days" find calls. Only the anchor moves them: for a seed, each
 * record's offset from the anchor, and so their order, is always the same. The sample keeps CarrierX's dates.
 */
export function createDataset(options: {
  recordCount?: number;
  seed?: number;
  anchorMs: number;
}): CdrRecord[] {
  const recordCount = options.recordCount ?? DEFAULT_RECORD_COUNT;
  if (!Number.isInteger(recordCount) || recordCount < 2) {
    throw new RangeError(`recordCount must be an integer of at least 2, got ${recordCount}`);
  }
  const { anchorMs } = options;
  if (!Number.isSafeInteger(anchorMs)) throw new RangeError(`anchor must be a valid date, got ${anchorMs}`);
  const windowStartMs = anchorMs - WINDOW_END_MARGIN_MS - WINDOW_MS;
  const draw = drawsOf(mulberry32(options.seed ?? DEFAULT_SEED));
  // The same DIDs, endpoints and trunks recur across calls, as they do in a real account.
  const account = drawAccount(draw);
  const placement: Placement = {
    start: (uniform) => windowStartMs + Math.floor(uniform * WINDOW_MS),
    insert: (stopMs, delayMs) => Math.ceil(stopMs / 1000) * 1000 + delayMs,
  };
  const records: CdrRecord[] = [loadSampleRecord()];
  for (let index = 0; index < recordCount; index++) {
    const pinned =
      index === 0
        ? { drSid: UNANSWERED_DR_SID, unanswered: true }
        : index === 1
          ? { drSid: DESCENDANT_DR_SID, descendant: true }
          : {};
    records.push(generateRecord(draw, account, placement, pinned));
  }
  return records;
}

/**
 * Makes the records of calls that end while the simulator runs: the `counter`-th new record of a seed is always
 * the same call (its SID, numbers, partner, durations), on the account of that seed's dataset, and only
 * `insertMs` dates it: it ended 0.1 to 5 s before CarrierX inserted its record at `insertMs`.
 */
export function createLiveRecordMaker(
  seed: number = DEFAULT_SEED,
): (counter: number, insertMs: number) => CdrRecord {
  const account = drawAccount(drawsOf(mulberry32(seed)));
  return (counter, insertMs) => {
    // Its own stream per counter (the seed and the counter mixed), so record n does not depend on how many
    // records came before it in the same batch or in the same run.
    const draw = drawsOf(
      mulberry32(Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(counter + 1, 0x85ebca6b)),
    );
    return generateRecord(draw, account, {
      start: (uniform, lengthMs) => insertMs - lengthMs - (100 + Math.floor(uniform * 4900)),
      insert: () => insertMs,
    });
  };
}

function sortKeys(record: Record<string, unknown>): CdrRecord {
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = record[key];
  return sorted;
}
