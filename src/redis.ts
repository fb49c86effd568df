import { hash } from 'node:crypto';
import { createClient, TimeoutError } from 'redis';
import type { Logger } from './telemetry/logger.ts';
import { observeRedis, type RedisOutcome, recordRedisCommand } from './telemetry/metrics.ts';

export interface RedisConnectionOptions {
  /** redis:// or rediss:// (TLS), with a password if the server wants one. Never logged. */
  url: string;
  /** The most one command may take; past it the command fails (and the caller does without Redis). */
  timeoutMs: number;
  logger: Logger;
  /** What the rate-limited warnings say Redis being away and back means for this user of it. */
  messages: { unavailable: string; back: string };
  /** Whether `cdr_cache_redis_up` reports this connection (the record cache's). */
  observe?: boolean;
}

/** A Lua script and its SHA1, which EVALSHA names it by. */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

export function luaScript(source: string): LuaScript {
  return { source, sha: hash('sha1', source, 'hex') };
}

/** One connection to Redis whose every command is bounded in time (see createRedisConnection). */
export interface RedisConnection {
  /** node-redis's client: commands go through `command`, never straight to it. */
  readonly client: ReturnType<typeof createClient>;
  /** Settles once the first connection is made (never rejects). */
  readonly connected: Promise<void>;
  /** `run`'s command, failed after `timeoutMs` whatever the client does; timed and counted. */
  command<T>(run: () => Promise<T>): Promise<T>;
  /** Runs `script` by its SHA as a `command`, loading it with EVAL when this Redis does not have it yet. */
  evalScript(script: LuaScript, keys: string[], args: string[]): Promise<unknown>;
  /** Waits (at most `timeoutMs`) for the commands still unanswered, then closes. */
  close(): Promise<void>;
}

/** A Redis command that got no answer within the store's `timeoutMs`. */
class RedisTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`Redis did not answer within ${timeoutMs} ms`);
    this.name = 'RedisTimeoutError';
  }
}

/**
 * A connection for the record cache and the live feed. Every command fails at once while Redis is away (no offline
 * queue), and after `timeoutMs` when it does not answer; the client reconnects by itself. A command that times out
 * marks Redis as not answering: from then on commands fail at once, without being sent, until a PING sent meanwhile
 * is answered. The client's own connection errors are logged, rate-limited, with `messages.unavailable`.
 *
 * node-redis's own command timeout (`commandOptions.timeout`) is no bound: it only runs while a command waits to
 * be written. Once written to a server that stops reading without closing the connection (SIGSTOP, a stalled
 * host or VM), a command waits for its answer for as long as the connection lasts, and so does every command
 * pipelined behind it on the one connection. Hence a timer of our own around each command.
 */
export function createRedisConnection(options: RedisConnectionOptions): RedisConnection {
  const { logger, timeoutMs, messages } = options;
  let lastWarning = Number.NEGATIVE_INFINITY;
  /** False from a command's timeout until Redis answers again (the PING `probe` sends, or a new connection). */
  let answering = true;
  let probing = false;
  /** Commands sent and not yet answered (timed out ones included), for close(). */
  let unsettled = 0;
  let onSettled: (() => void) | undefined;
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    // Kept: a command still unwritten when it times out is dropped from the queue rather than sent late.
    commandOptions: { timeout: timeoutMs },
    socket: {
      connectTimeout: Math.max(timeoutMs, 1_000),
      // Forever, at most every 2 s: Redis coming back is noticed without a restart.
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** Math.min(retries, 5), 2_000),
    },
  });
  const warn = (error: Error) => {
    if (Date.now() - lastWarning < 30_000) return;
    lastWarning = Date.now();
    // The message only: the error may carry the URL, and with it a password.
    logger.warn({ err: { name: error.name, message: error.message } }, messages.unavailable);
  };
  const back = () => {
    if (lastWarning !== Number.NEGATIVE_INFINITY) logger.info(messages.back);
    lastWarning = Number.NEGATIVE_INFINITY;
  };
  client.on('error', warn);
  // Ready: a new connection whose handshake (CLIENT SETINFO) Redis answered.
  client.on('ready', () => {
    answering = true;
    back();
  });
  // Not awaited: the server starts and serves while Redis is unreachable.
  const connected = client.connect().then(
    () => {},
    () => {},
  );
  if (options.observe) observeRedis(() => answering && client.isReady);

  /** `sent`, counted in `unsettled` until it settles. */
  function track<T>(sent: Promise<T>): Promise<T> {
    unsettled += 1;
    const done = () => {
      unsettled -= 1;
      if (unsettled === 0) onSettled?.();
    };
    sent.then(done, done);
    return sent;
  }

  /** One PING at a time while Redis is not answering; its answer, however late, says Redis is back. */
  function probe(): void {
    if (probing || !client.isReady) return;
    probing = true;
    track(client.ping()).then(
      () => {
        probing = false;
        answering = true;
        back();
      },
      () => {
        // The connection broke or the PING could not be written: the next command tries again.
        probing = false;
      },
    );
  }

  /** `run`'s command, failed after `timeoutMs` whatever the client does; timed and counted. */
  function command<T>(run: () => Promise<T>): Promise<T> {
    if (!answering) {
      probe();
      return Promise.reject(
        new Error('Redis is not answering: a command timed out, and no PING answered since'),
      );
    }
    const startedAt = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let sent: Promise<T>;
    try {
      sent = track(run());
    } catch (error) {
      sent = Promise.reject(error);
    }
    // The race listens to `sent` to the end: its late answer or rejection is dropped, never left unhandled.
    // Checked once the loop has read what arrived: after this process held its own event loop past the
    // timeout (a fan-out to a thousand subscribers, a burst of connections), the timer is due before the poll
    // phase reads the answer Redis sent meanwhile, which is no timeout of Redis's.
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => setImmediate(() => reject(new RedisTimeoutError(timeoutMs))), timeoutMs);
    });
    return Promise.race([sent, expired]).then(
      (value) => {
        clearTimeout(timer);
        if (options.observe) recordRedisCommand('ok', (performance.now() - startedAt) / 1000);
        return value;
      },
      (error: unknown) => {
        clearTimeout(timer);
        const timedOut = error instanceof RedisTimeoutError || error instanceof TimeoutError;
        const outcome: RedisOutcome = timedOut ? 'timeout' : 'error';
        if (options.observe) recordRedisCommand(outcome, (performance.now() - startedAt) / 1000);
        if (timedOut && answering) {
          answering = false;
          warn(error as Error);
          probe();
        }
        throw error;
      },
    );
  }

  async function evalScript(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    const call = { keys, arguments: args };
    try {
      return await command(() => client.evalSha(script.sha, call));
    } catch (error) {
      // Not loaded yet (a new or restarted Redis): EVAL loads it for the next EVALSHA.
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return command(() => client.eval(script.source, call));
    }
  }

  return {
    client,
    connected,
    command,
    evalScript,
    async close() {
      if (!client.isOpen) {
        client.destroy();
        return;
      }
      if (unsettled > 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          onSettled = resolve;
          timer = setTimeout(resolve, timeoutMs);
        });
        clearTimeout(timer);
      }
      // close() waits for every answer, from a frozen Redis forever: with some still unanswered, the socket is
      // dropped instead (destroy() after close() would throw: the client counts as closed already).
      if (unsettled > 0) client.destroy();
      else await client.close();
    },
  };
}
