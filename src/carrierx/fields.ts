/**
 * The one map between CarrierX's Call Detail Record (API names, wire kinds, meanings) and the GraphQL
 * `CallDetailRecord` type. The schema, the boundary decoder, include_fields and the simulator all read it.
 */

/** How a field arrives on the wire, and so which decoder and GraphQL type it gets. */
export type WireKind =
  | 'id' // the record's own UUID
  | 'string'
  | 'decimal' // decimal text such as "0.0025"; kept as text, never a float
  | 'datetime' // ISO-8601 UTC with ms and Z
  | 'boolean' // a real JSON boolean
  | 'string-boolean' // "true" / "false" as a string
  | 'int'
  | 'json' // free-form object or string
  | 'direction'; // one of DIRECTIONS

export const DIRECTIONS = ['any', 'inbound', 'outbound', 'undirected'] as const;

/** Decimal text as CarrierX sends money and durations ("0.0025", "60"); the boundary and the scalar check it. */
export const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;
export type Direction = (typeof DIRECTIONS)[number];

export interface CdrField {
  /** The CarrierX API name, e.g. `sipcallid_dst`. */
  readonly api: string;
  /** The GraphQL field name: mechanical camelCase of the API name, e.g. `sipcallidDst`. */
  readonly name: string;
  readonly kind: WireKind;
  readonly description: string;
}

/** `dr_sid` → `drSid`, `sipcallid_dst` → `sipcallidDst`: split at `_`, capitalise each later part. */
export function toGraphQLName(api: string): string {
  return api
    .split('_')
    .map((part, i) => (i === 0 ? part : part.charAt(0).toUpperCase() + part.slice(1)))
    .join('');
}

const field = (api: string, kind: WireKind, description: string): CdrField => ({
  api,
  name: toGraphQLName(api),
  kind,
  description,
});

/** All 52 fields of CarrierX's Call Detail Record, in the API's (alphabetical) order. */
export const CDR_FIELDS: readonly CdrField[] = [
  field('cic', 'string', 'Carrier Identification Code of the call.'),
  field('cic_original', 'string', 'Carrier Identification Code before any transformation.'),
  field('cic_transformed', 'string', 'Carrier Identification Code after transformations.'),
  field(
    'codec_dst',
    'string',
    'Codec of the destination leg (e.g. g722); null if the call did not complete.',
  ),
  field('codec_src', 'string', 'Codec of the source leg (e.g. amrwb).'),
  field('date_insert', 'datetime', 'When CarrierX inserted the record (UTC).'),
  field('date_start', 'datetime', 'When the call started (UTC).'),
  field('date_stop', 'datetime', 'When the call ended (UTC).'),
  field('date_talk', 'datetime', 'When the call was answered (UTC); null if it was never answered.'),
  field('direction', 'direction', 'Direction of the call.'),
  field('disconnect_originator', 'string', 'Which side hung up: DST (destination) or SRC (source).'),
  field('diversion_dst', 'string', 'Diversion header of the destination leg.'),
  field('diversion_src', 'string', 'Diversion header of the source leg.'),
  field('dr_sid', 'id', 'Secure ID (UUID) of the call detail record.'),
  field('duration', 'decimal', 'Call length in seconds (dateStop minus dateStart), as exact decimal text.'),
  field('duration_billing', 'decimal', 'Billed call length in seconds, as exact decimal text.'),
  field(
    'endpoint_sid_dst',
    'string',
    'Secure ID of the destination endpoint (a System Gateway SID for external numbers).',
  ),
  field(
    'endpoint_sid_src',
    'string',
    'Secure ID of the source endpoint (a System Gateway SID for external numbers).',
  ),
  field(
    'identity',
    'string',
    'The real calling number, taken from the P-Asserted-Identity or Remote-Party-ID header.',
  ),
  field('ip_dst', 'string', 'IP address (and port, if any) of the destination leg, e.g. 10.222.2.197:5060.'),
  field('ip_src', 'string', 'IP address (and port, if any) of the source leg.'),
  field('number_billing', 'string', 'Phone number the call is billed to.'),
  field('number_dst', 'string', 'Destination phone number, as CarrierX stores it (not normalised).'),
  field('number_dst_original', 'string', 'Destination phone number before number transformations.'),
  field('number_dst_transformed', 'string', 'Destination phone number after number transformations.'),
  field('number_external', 'string', 'The external (non-CarrierX) phone number of the call.'),
  field('number_src', 'string', 'Source (calling) phone number, as CarrierX stores it (not normalised).'),
  field('number_src_original', 'string', 'Source phone number before number transformations.'),
  field('number_src_transformed', 'string', 'Source phone number after number transformations.'),
  field('partner_sid', 'string', 'Secure ID of the partner that owns the record.'),
  field('price', 'decimal', 'Price of the call, as exact decimal text.'),
  field(
    'price_lcr_dst',
    'decimal',
    'Least-cost-routing price of the destination leg, as exact decimal text.',
  ),
  field('price_lcr_src', 'decimal', 'Least-cost-routing price of the source leg, as exact decimal text.'),
  field('rate', 'decimal', 'Rate applied to the call, as exact decimal text.'),
  field('rate_lcr_dst', 'decimal', 'Least-cost-routing rate of the destination leg, as exact decimal text.'),
  field('rate_lcr_src', 'decimal', 'Least-cost-routing rate of the source leg, as exact decimal text.'),
  field('sipcallid_dst', 'string', 'SIP Call-ID of the destination leg.'),
  field('sipcallid_src', 'string', 'SIP Call-ID of the source leg.'),
  field('sipcause', 'string', 'Final SIP response code of the call, e.g. "200".'),
  field('stir_attest', 'string', 'STIR/SHAKEN attestation level: A, B or C.'),
  field('stir_identity', 'string-boolean', 'Whether a STIR/SHAKEN Identity header was present.'),
  field('stir_orig_id', 'string', 'STIR/SHAKEN originating identifier.'),
  field('stir_signing_entity', 'string', 'The entity that signed the STIR/SHAKEN PASSporT.'),
  field('stir_verstat', 'string', 'STIR/SHAKEN verification status.'),
  field('transcoded', 'boolean', 'Whether the media was transcoded between the legs.'),
  field('trunk_group_sid_dst', 'string', 'Secure ID of the trunk group of the destination leg.'),
  field('trunk_group_sid_src', 'string', 'Secure ID of the trunk group of the source leg.'),
  field('trunk_sid_dst', 'string', 'Secure ID of the trunk of the destination leg.'),
  field('trunk_sid_src', 'string', 'Secure ID of the trunk of the source leg.'),
  field('type', 'string', 'Type of the record, e.g. telecom.'),
  field('user_data', 'json', 'Free-form user data attached to the call, e.g. { "identity": "<PASSporT>" }.'),
  field('version', 'int', 'Version of the record format.'),
];

/** Every API name CarrierX may send that this service understands. */
export const CDR_API_NAMES: ReadonlySet<string> = new Set(CDR_FIELDS.map((f) => f.api));

const commaLists = new WeakMap<readonly string[], string>();

/**
 * `fields` joined with commas (include_fields, loader keys), once per array: the selection walk hands out the
 * same array each time a query runs, so a hot query joins its 52 names once, not per request.
 */
export function commaList(fields: readonly string[]): string {
  let text = commaLists.get(fields);
  if (text === undefined) {
    text = fields.join(',');
    commaLists.set(fields, text);
  }
  return text;
}
