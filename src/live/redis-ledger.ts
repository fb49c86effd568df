import { createHash, randomUUID } from 'node:crypto';
import type { CdrRecord } from '../carrierx/record.ts';
import { reviveDatetimes } from '../records/redis-store.ts';
import { createRedisConnection, luaScript } from '../redis.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { FeedLog, FeedStart, Hold, Ledger } from './ledger.ts';
import {
  advance,
  decodeEventId,
  missedSince,
  type PollPosition,
  type Position,
  positionOf,
  startHorizon,
  startPosition,
} from './state.ts';
import type { LiveEvent } from './types.ts';

export interface RedisLedgerOptions {
  /** redis:// or rediss:// (REDIS_URL). Never logged. */
  url: string;
  /** The most one Redis command may take (REDIS_TIMEOUT_MS). */
  timeoutMs: number;
  /** Put before every key (CACHE_KEY_PREFIX), so several services can share one Redis. */
  keyPrefix: string;
  /** LIVE_LEASE_MS: a feed whose holder died is polled again by another replica within it. */
  leaseMs: number;
  /** Events kept per feed for resuming by id (LIVE_REPLAY_RECORDS). */
  replayRecords: number;
  /** LIVE_LOOKBACK_MS: the records delivered within it are remembered, as the poller remembers them. */
  lookbackMs: number;
  /** The most events one append carries (a poll's page): the log keeps at least as many, for every reader. */
  pageSize: number;
  logger: Logger;
}

/**
 * Lua registering this process's (ARGV[1]) fields in the fields hash `hash` until Redis's now + `ttl` ms, as
 * `<until> <fields as JSON>` (what `hold` reads back); leaves `now` set. Redis's clock, so that every replica's
 * fields expire by one clock, not by each host's.
 */
function registerFields(hash: string, fields: string, ttl: string): string {
  return `local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('HSET', ${hash}, ARGV[1], (now + tonumber(${ttl})) .. ' ' .. ${fields})`;
}

/**
 * Takes or renews the lease (KEYS[1]) for ARGV[1] if it is free or already its own, creates the feed's state
 * (KEYS[2]) from ARGV[4..5] if there is none, registers ARGV[1]'s fields (ARGV[6]) in KEYS[4] until Redis's now
 * + ARGV[7] ms, and keeps the feed's keys ARGV[3] ms longer. Returns {0} when another process holds the lease,
 * else {1, position, the fields hash (flat), Redis's now in ms}.
 */
const HOLD = `local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  holder = ARGV[1]
elseif holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('HSET', KEYS[2], 'position', ARGV[4], 'horizon', ARGV[5], 'horizonEntry', '0-0')
end
${registerFields('KEYS[4]', 'ARGV[6]', 'ARGV[7]')}
for _, key in ipairs({KEYS[2], KEYS[3], KEYS[4]}) do redis.call('PEXPIRE', key, ARGV[3]) end
if holder ~= ARGV[1] then return {0} end
return {1, redis.call('HGET', KEYS[2], 'position'), redis.call('HGETALL', KEYS[4]), now}`;

/** Registers ARGV[1]'s fields (ARGV[2]) in KEYS[1] until Redis's now + ARGV[3] ms; keeps the hash ARGV[4] ms. */
const WANT = `${registerFields('KEYS[1]', 'ARGV[2]', 'ARGV[3]')}
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

/**
 * If ARGV[1] holds the lease (KEYS[1]): appends each (id, payload) pair from ARGV[6] on to the log (KEYS[3]),
 * trims it to ARGV[3] entries (the last one trimmed becomes the state's horizon), sets the state's position to
 * ARGV[2], keeps the keys ARGV[4] ms and publishes the last entry's id on ARGV[5]. All or nothing: 1, or 0 when
 * the lease is another's (or nobody's).
 */
const APPEND = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local last = nil
for i = 6, #ARGV, 2 do
  last = redis.call('XADD', KEYS[3], '*', 'i', ARGV[i], 'e', ARGV[i + 1])
end
local excess = redis.call('XLEN', KEYS[3]) - tonumber(ARGV[3])
if excess > 0 then
  local dropped = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', excess)
  local newest = dropped[#dropped]
  redis.call('HSET', KEYS[2], 'horizon', newest[2][2], 'horizonEntry', newest[1])
  redis.call('XTRIM', KEYS[3], 'MAXLEN', ARGV[3])
end
redis.call('HSET', KEYS[2], 'position', ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
if last then redis.call('PUBLISH', ARGV[5], last) end
return 1`;

/**
 * The log's (KEYS[2]) entries after ARGV[1] (at most ARGV[2]), with the id of the last entry trimmed from it
 * (KEYS[1]'s horizonEntry): a reader whose cursor is before that one has missed entries. With ARGV[1] '', the
 * id of the log's last entry instead ('0-0' for none): where a new reader starts.
 */
const READ = `if ARGV[1] == '' then
  local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
  if #last == 0 then return '0-0' end
  return last[1][1]
end
return {redis.call('HGET', KEYS[1], 'horizonEntry') or '0-0', redis.call('XRANGE', KEYS[2], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])}`;

/** The state's (KEYS[1]) horizon (false when the feed has none) and the log's (KEYS[2]) entries up to ARGV[1]. */
const SINCE = `return {redis.call('HGET', KEYS[1], 'horizon'), redis.call('XRANGE', KEYS[2], '-', ARGV[1])}`;

/** Gives up ARGV[1]'s lease (KEYS[1]) if it holds it, and its fields (KEYS[2]). */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('HDEL', KEYS[2], ARGV[1])
return 1`;

const SCRIPTS = {
  HOLD: luaScript(HOLD),
  WANT: luaScript(WANT),
  APPEND: luaScript(APPEND),
  READ: luaScript(READ),
  SINCE: luaScript(SINCE),
  RELEASE: luaScript(RELEASE),
};
type Script = keyof typeof SCRIPTS;

/** A feed heard on its channel still reads its log every this many ticks, for a message lost in a reconnect. */
const CATCH_UP_TICKS = 10;

/** Entries read per command while catching up. */
const READ_COUNT = 500;

/** A log entry as Redis returns it: its stream id and its fields, flat. */
type StreamEntry = [string, string[]];

/** -1, 0 or 1 as stream id `a` comes before, with or after `b`. */
function compareStreamIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}

/** A horizon as the state keeps it: an event id, or `start:<ms>:<dr_sid>` for where the feed started. */
function encodeHorizon(position: Position): string {
  return `start:${position.at}:${position.drSid}`;
}

function decodeHorizon(text: string): Position {
  if (!text.startsWith('start:')) return decodeEventId(text);
  const [, at, drSid = ''] = text.split(':');
  return { at: Number(at), drSid };
}

/** The payload of an appended event: the record and the fields its round asked for. */
function encodeEntry(event: LiveEvent): string {
  const { drSid, values, invalid } = event.record;
  return JSON.stringify({ fields: event.fields, record: { drSid, values, invalid } });
}

function decodeEntry([, flat]: StreamEntry): LiveEvent {
  const id = flat[flat.indexOf('i') + 1] as string;
  const payload = JSON.parse(flat[flat.indexOf('e') + 1] as string) as {
    fields: string[];
    record: { drSid: string; values: Record<string, unknown>; invalid?: Record<string, string> };
  };
  reviveDatetimes(payload.record.values);
  const record: CdrRecord = {
    drSid: payload.record.drSid,
    values: payload.record.values,
    invalid: payload.record.invalid ?? undefined,
  };
  return { id, record, fields: payload.fields };
}

/**
 * Feeds' logs in Redis, shared by every replica and worker of the fleet. Per feed (its key hashed, in one hash
 * slot): a lease naming the process that polls it, its state (the position the next round asks from, the replay
 * horizon), its log (a stream of the events delivered, the last LIVE_REPLAY_RECORDS kept) and the fields each
 * process's subscribers select. The holder appends each page's events and the position after them in one script
 * that first checks it still holds the lease: a holder that lost it (paused, cut off) writes nothing, and whoever
 * takes over polls from the last position written, so that nothing is delivered twice or lost. Every process reads
 * the log from where it joined, woken by a pub/sub message on each append (and checking every tick besides, for a
 * message lost while its connection was down).
 *
 * The lease lives two thirds of LIVE_LEASE_MS and is renewed every sixth: its holder must miss several renewals
 * to lose it, and a follower (which asks every sixth) takes it over within LIVE_LEASE_MS of the holder's death.
 */
export function createRedisLedger(options: RedisLedgerOptions): Ledger {
  const { keyPrefix, leaseMs, logger } = options;
  const leaseTtlMs = Math.max(3, Math.round((leaseMs * 2) / 3));
  const tickMs = Math.max(1, Math.round(leaseMs / 6));
  // A feed's keys outlive the last process following it by this much, then Redis drops them.
  const keepMs = leaseMs * 2;
  // A process's fields count for as long as its lease would: it renews them every tick.
  const fieldsTtlMs = leaseMs;
  const maxLength = Math.max(options.replayRecords, options.pageSize);
  // One id per process (worker): the lease's holder and the owner of its fields.
  const token = randomUUID();
  const connection = createRedisConnection({
    url: options.url,
    timeoutMs: options.timeoutMs,
    logger,
    messages: {
      unavailable: 'Redis unavailable; live feeds wait for it',
      back: 'Redis is back; live feeds go on',
    },
  });
  // Pub/sub needs a connection of its own. Its errors are the main connection's too, which logs them.
  const listener = connection.client.duplicate();
  listener.on('error', () => {});
  /** Each open feed's reader. */
  const wakers = new Set<() => void>();
  // Back after a dropped connection: what was published meanwhile was not heard, so every feed reads its log.
  listener.on('ready', () => {
    for (const wake of wakers) wake();
  });
  // Not awaited: until it is ready, feeds read on each tick instead of on each message.
  listener.connect().catch(() => {});

  async function run<T>(script: Script, keys: string[], args: string[]): Promise<T> {
    return (await connection.evalScript(SCRIPTS[script], keys, args)) as T;
  }

  function open(key: string, start: FeedStart, receive: (entries: readonly LiveEvent[]) => void): FeedLog {
    const base = `${keyPrefix}live:{${createHash('sha256').update(key).digest('base64url').slice(0, 32)}}:`;
    const lease = `${base}lease`;
    const state = `${base}state`;
    const log = `${base}log`;
    const fieldsKey = `${base}fields`;
    const channel = `${base}new`;
    const horizon = encodeHorizon(startHorizon(start.watermark, start.resumeFrom));
    /**
     * Where this process knows the feed is: its start, then after each event it received. Should Redis lose the
     * feed's state (a restart without persistence), the next holder starts from here, not from the start again.
     */
    const known: PollPosition = startPosition(start.watermark, start.resumeFrom);
    /** The last log entry this process received (undefined until it has asked where the log ends). */
    let cursor: string | undefined;
    let subscribed = false;
    let closed = false;
    /** Set while this process holds the lease; aborted when it loses it. */
    let holding: AbortController | undefined;
    let lastRenewal = 0;
    let lastFields: readonly string[] = [];
    /** Reads and resumes, one at a time, in order: what a resume hands over and what is read next never overlap. */
    let serial: Promise<unknown> = Promise.resolve();

    function serially<T>(step: () => Promise<T>): Promise<T> {
      const next = serial.then(step);
      serial = next.catch(() => {});
      return next;
    }

    function lose(): void {
      holding?.abort();
      holding = undefined;
    }

    /** Reads what was appended since the cursor and hands it to `receive`. */
    async function readNew(): Promise<void> {
      if (closed) return;
      if (!subscribed && listener.isReady) {
        await listener.subscribe(channel, wake);
        subscribed = true;
      }
      if (cursor === undefined) {
        // From here on: what was appended before this process opened the feed is its resume log, not news.
        cursor = await run<string>('READ', [state, log], ['']);
        return;
      }
      for (;;) {
        const after: string = cursor;
        const [trimmed, entries] = await run<[string, StreamEntry[]]>(
          'READ',
          [state, log],
          [after, String(READ_COUNT)],
        );
        if (compareStreamIds(trimmed, after) > 0) {
          // This process fell so far behind that the log dropped entries it had not read: its subscribers have
          // a gap they cannot be told about any other way.
          logger.error({ feed: base }, 'Live feed: this process fell behind its feed log; entries were lost');
          cursor = trimmed;
          continue;
        }
        const batch = entries.map(decodeEntry);
        const last = entries[entries.length - 1];
        if (last) {
          cursor = last[0];
          for (const entry of batch) {
            const at = positionOf(entry.record);
            if (at) advance(known, at, options.lookbackMs);
          }
          receive(batch);
        }
        if (entries.length < READ_COUNT) return;
      }
    }

    function wake(): void {
      serially(readNew).catch(() => {
        // Redis away: the next tick reads again.
      });
    }

    const holdArgs = (fields: readonly string[]) => [
      token,
      String(leaseTtlMs),
      String(keepMs),
      JSON.stringify(known),
      horizon,
      JSON.stringify(fields),
      String(fieldsTtlMs),
    ];

    async function hold(fields: readonly string[]): Promise<Hold | undefined> {
      lastFields = fields;
      const reply = await run<[number, string?, string[]?, number?]>(
        'HOLD',
        [lease, state, log, fieldsKey],
        holdArgs(fields),
      );
      if (reply[0] !== 1 || closed) {
        lose();
        return undefined;
      }
      lastRenewal = performance.now();
      holding ??= new AbortController();
      const [, position, registered = [], now = 0] = reply;
      const union = new Set(fields);
      for (let i = 1; i < registered.length; i += 2) {
        const text = registered[i] as string;
        const space = text.indexOf(' ');
        if (Number(text.slice(0, space)) < now) continue;
        for (const name of JSON.parse(text.slice(space + 1)) as string[]) union.add(name);
      }
      return {
        position: JSON.parse(position as string) as PollPosition,
        fields: [...union].sort(),
        signal: holding.signal,
      };
    }

    // Every tick: renew the lease while holding it (a round may outlast it: a Retry-After, a long catch-up). Read
    // the log every tick until the channel is listened to, then every CATCH_UP_TICKS: a message is lost only
    // while the listener reconnects (it reads on 'ready' too), or in the moment before it has resubscribed.
    let ticks = 0;
    const timer = setInterval(() => {
      if (holding) {
        hold(lastFields).catch(() => {
          // Redis away: past the lease's life, another process may hold it already.
          if (performance.now() - lastRenewal > leaseTtlMs) lose();
        });
      }
      ticks += 1;
      if (!subscribed || ticks % CATCH_UP_TICKS === 0) wake();
    }, tickMs);
    timer.unref();
    wakers.add(wake);
    wake();

    return {
      retryMs: tickMs,
      hold,
      async want(fields) {
        lastFields = fields;
        await run('WANT', [fieldsKey], [token, JSON.stringify(fields), String(fieldsTtlMs), String(keepMs)]);
      },
      async append(entries, position) {
        if (!holding || closed) return false;
        const args = [token, JSON.stringify(position), String(maxLength), String(keepMs), channel];
        for (const event of entries) args.push(event.id, encodeEntry(event));
        let written: number;
        try {
          written = await run<number>('APPEND', [lease, state, log], args);
        } catch (error) {
          // Written or not, the position in Redis says which: the next holder (maybe this process again)
          // starts from it.
          logger.warn({ err: { message: (error as Error).message } }, 'Live feed: appending to Redis failed');
          written = 0;
        }
        if (written !== 1) {
          lose();
          return false;
        }
        wake();
        return true;
      },
      resume(from, join) {
        return serially(async () => {
          // Up to the log's end first: the id may be of an event another replica's reader handed out already.
          await readNew();
          const upTo = cursor ?? '0-0';
          const [kept, entries] = await run<[string | null, StreamEntry[]]>('SINCE', [state, log], [upTo]);
          // No state: no process has polled this feed yet; this one starts it from `from` (its start).
          if (!kept) return join([]);
          const events = entries.map(decodeEntry);
          join(missedSince({ events, horizon: decodeHorizon(kept) }, from));
        });
      },
      async close() {
        closed = true;
        clearInterval(timer);
        wakers.delete(wake);
        lose();
        if (subscribed) await listener.unsubscribe(channel).catch(() => {});
        await run('RELEASE', [lease, fieldsKey], [token]).catch(() => {
          // Redis away: the lease and the fields expire by themselves.
        });
      },
    };
  }

  let closing: Promise<void> | undefined;
  return {
    open,
    close() {
      // Once: a closed node-redis client throws when closed again.
      closing ??= (async () => {
        if (listener.isReady) await listener.close().catch(() => listener.destroy());
        else if (listener.isOpen) listener.destroy();
        await connection.close();
      })();
      return closing;
    },
  };
}
