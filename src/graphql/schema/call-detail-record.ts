import { type GraphQLObjectType, type GraphQLResolveInfo, responsePathAsArray } from 'graphql';
import { UUIDResolver } from 'graphql-scalars';
import { CDR_FIELDS, type CdrField, DIRECTIONS, type WireKind } from '../../carrierx/fields.ts';
import { type CdrView, viewOf } from '../../carrierx/record.ts';
import { ServiceError } from '../../errors.ts';
import { staleAgeOf } from '../../records/cdr-cache.ts';
import { canonicalSid } from '../../records/cdr-loader.ts';
import type { Context } from '../context.ts';
import { builder } from './builder.ts';
import { COST, costs } from './cost.ts';
import { needs, selectedApiFields } from './selection.ts';

export const CallDetailRecordDirectionEnum = builder.enumType('CallDetailRecordDirection', {
  description: 'Direction of a call, as CarrierX documents it.',
  values: Object.fromEntries(
    DIRECTIONS.map((value) => [value.toUpperCase(), { value, description: `CarrierX "${value}".` }]),
  ),
});

const OUTPUT_TYPES = {
  id: 'ID',
  string: 'String',
  decimal: 'Decimal',
  datetime: 'DateTime',
  boolean: 'Boolean',
  'string-boolean': 'Boolean',
  int: 'Int',
  json: 'JSON',
  direction: CallDetailRecordDirectionEnum,
} as const satisfies Record<WireKind, unknown>;

export const CallDetailRecordRef = builder.objectRef<CdrView>('CallDetailRecord');

/**
 * Seconds between two instants as exact decimal text (CarrierX dates carry milliseconds). A date CarrierX sent
 * wrong is this field's error too (its Error value, as the record holds it).
 */
export function secondsBetween(from: unknown, to: unknown): string | Error | null {
  if (from instanceof Error) return from;
  if (to instanceof Error) return to;
  if (!(from instanceof Date) || !(to instanceof Date)) return null;
  const ms = to.getTime() - from.getTime();
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  const fraction = String(abs % 1000)
    .padStart(3, '0')
    .replace(/0+$/, '');
  return `${sign}${Math.floor(abs / 1000)}${fraction ? `.${fraction}` : ''}`;
}

CallDetailRecordRef.implement({
  description:
    'A CarrierX Call Detail Record: one call, its legs, numbers, timing, price and STIR/SHAKEN details. Only the fields a query selects are fetched from CarrierX.',
  // Found by its SID (the root field, a federation representation): a call for one record. A page's records
  // weigh a record each, at the connection's fields.
  directives: costs(COST.call + COST.record),
  fields: (t) => ({
    ...Object.fromEntries(
      CDR_FIELDS.map((f: CdrField) => [
        f.name,
        // No resolver: a property of the view (see viewOf), a bad value's Error included.
        t.expose(f.name as never, {
          // The map's kinds decide the types; Pothos cannot infer them through the loop.
          type: OUTPUT_TYPES[f.kind] as 'String',
          // Pothos types `nullable` per field; the loop decides it at run time.
          nullable: (f.kind !== 'id') as true,
          description: f.description,
          extensions: needs(f.api),
        }),
      ]),
    ),
    ringDuration: t.field({
      type: 'Decimal',
      description: 'Seconds from dateStart to dateTalk (ringing time); null if the call was never answered.',
      extensions: needs('date_start', 'date_talk'),
      resolve: (record) => secondsBetween(record.dateStart, record.dateTalk) as string | null,
    }),
    talkDuration: t.field({
      type: 'Decimal',
      description: 'Seconds from dateTalk to dateStop (talk time); null if the call was never answered.',
      extensions: needs('date_talk', 'date_stop'),
      resolve: (record) => secondsBetween(record.dateTalk, record.dateStop) as string | null,
    }),
  }),
});

/**
 * Loads one CDR for the field being resolved, asking CarrierX only for what the selection needs. The root
 * field and federation's `_entities` both come through here.
 */
export function loadCallDetailRecord(
  context: Context,
  drSid: string,
  info: GraphQLResolveInfo,
): Promise<CdrView> {
  const type = info.schema.getType('CallDetailRecord') as GraphQLObjectType;
  // UUIDs are case-insensitive: one spelling per record keeps the loader's de-duplication exact.
  const record = context.loaders.cdr.load({
    drSid: canonicalSid(drSid),
    fields: selectedApiFields(info, type),
  });
  const { stale } = context;
  // Only with a cache can a record be stale; without one, nothing else is done per load.
  if (!stale) return record.then(viewOf);
  return record.then((loaded) => {
    const ageSeconds = staleAgeOf(loaded);
    if (ageSeconds !== undefined) stale.push({ path: responsePathAsArray(info.path), ageSeconds });
    return viewOf(loaded);
  });
}

builder.queryField('callDetailRecord', (t) =>
  t.field({
    type: CallDetailRecordRef,
    description:
      'A call detail record by its secure ID. Null, with a NOT_FOUND error, when CarrierX has no such record.',
    args: { drSid: t.arg({ type: 'UUID', required: true, description: "The record's dr_sid (a UUID)." }) },
    resolve: (_root, { drSid }, context, info) => loadCallDetailRecord(context, drSid, info),
  }),
);

// A federation entity: other graphs reference a CDR by drSid, and the gateway resolves it through `_entities`,
// which comes through the same loader and selection pushdown as the root field.
builder.asEntity(CallDetailRecordRef, {
  key: builder.selection<{ drSid: string }>('drSid'),
  // Async on purpose: a rejection nulls only this representation; a synchronous throw would null them all.
  resolveReference: async (reference, context, info) => {
    let drSid: string;
    try {
      drSid = UUIDResolver.parseValue(reference.drSid) as string;
    } catch {
      throw new ServiceError('BAD_USER_INPUT', 'A CallDetailRecord representation needs a UUID drSid.');
    }
    return loadCallDetailRecord(context, drSid, info);
  },
});
