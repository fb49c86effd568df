import type { GraphQLObjectType } from 'graphql';
import type { YogaInitialContext } from 'graphql-yoga';
import { viewOf } from '../../carrierx/record.ts';
import { resolveCredentials } from '../../credentials.ts';
import { ServiceError } from '../../errors.ts';
import type { LiveEvent } from '../../live/feed.ts';
import type { Context } from '../context.ts';
import { builder } from './builder.ts';
import { CallDetailRecordRef, loadCallDetailRecord } from './call-detail-record.ts';
import { CallDetailRecordFilterInput } from './call-detail-records.ts';
import { COST, costs } from './cost.ts';
import { selectedApiFields } from './selection.ts';

/** The header a reconnecting EventSource sends: the `id:` of the last event it received. */
const LAST_EVENT_ID = 'last-event-id';

// Per subscription (its context): the id of the event being executed. A subscription's events execute one at
// a time, so the result that follows is this event's (src/graphql/plugins/use-sse-event-ids.ts labels it).
const currentEventIds = new WeakMap<object, string>();

/** The feed's id of the event this subscription's context is executing now. */
export function currentEventIdOf(context: object): string | undefined {
  return currentEventIds.get(context);
}

builder.subscriptionType({});

builder.subscriptionField('callDetailRecordAdded', (t) =>
  t.field({
    type: CallDetailRecordRef,
    // An event always carries its record; a failure ends the subscription instead.
    nullable: false,
    description:
      'Every new call detail record matching the filter, once each, in date_insert order. CarrierX publishes no callback for new records: they are found by polling its list endpoint (LIVE_POLL_INTERVAL_MS), one poll shared by every subscriber with the same token and filter. Over SSE each event carries an id; a reconnect sending it back as Last-Event-ID resumes after it. Only the fields selected are fetched.',
    args: { filter: t.arg({ type: CallDetailRecordFilterInput }) },
    // What each event costs: its record, which the feed's shared poll already fetched (the poll's calls are
    // the feed's, bounded by LIVE_MAX_POLLERS, not this subscription's). The estimate is of one event, as
    // IBM's spec and Apollo's demand control weigh a subscription: its selection, the operation type adding 0.
    directives: costs(COST.record),
    subscribe: (_root, args, context, info) => {
      const { request } = context as Context & YogaInitialContext;
      const { live } = context;
      if (!live) throw new ServiceError('BAD_REQUEST', 'Subscriptions are not served here.');
      const credentials = resolveCredentials(request.headers.get('authorization'), live.fallbackToken);
      if ('error' in credentials) throw credentials.error;
      // The feed validates the filter and the resume id, and refuses past its limits, before it subscribes.
      return live.feed.subscribe({
        authorization: credentials.authorization,
        filter: args.filter,
        fields: selectedApiFields(info, info.schema.getType('CallDetailRecord') as GraphQLObjectType),
        lastEventId: request.headers.get(LAST_EVENT_ID) ?? undefined,
        signal: request.signal,
      });
    },
    resolve: (event: LiveEvent, _args, context, info) => {
      currentEventIds.set(context, event.id);
      // Each event is an execution of its own: what its selection loads, it loads afresh.
      context.loaders.nextEvent();
      const selected = selectedApiFields(info, info.schema.getType('CallDetailRecord') as GraphQLObjectType);
      if (selected.every((name) => event.fields.includes(name))) return viewOf(event.record);
      // A replayed event, fetched for the subscribers of its time: a client resuming with a wider selection
      // has the record read again rather than nulls where its new fields would be.
      return loadCallDetailRecord(context, event.record.drSid, info);
    },
  }),
);
