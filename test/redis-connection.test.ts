import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection, type RedisConnection } from '../src/redis.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { type RedisServer, startRedisServer } from './helpers/redis-server.ts';

// src/redis.ts bounds each command by a timer of its own; Redis's answer must win over it whenever it came in time.

const TIMEOUT_MS = 50;

let redis: RedisServer;
let connection: RedisConnection;

beforeAll(async () => {
  redis = await startRedisServer();
  connection = createRedisConnection({
    url: redis.url,
    timeoutMs: TIMEOUT_MS,
    logger: createLogger({ level: 'silent' }),
    messages: { unavailable: 'Redis unavailable', back: 'Redis is back' },
  });
  await connection.connected;
});

afterAll(async () => {
  await connection?.close();
  await redis?.stop();
});

/** Holds this process's event loop for `ms`, as a fan-out to many subscribers does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Nothing else runs meanwhile: no timer, no socket read.
  }
}

describe('a Redis command', () => {
  it('gets the answer Redis sent in time even when this process held its event loop past the timeout', async () => {
    const answered = connection.command(() => connection.client.ping());
    busy(4 * TIMEOUT_MS);
    await expect(answered).resolves.toBe('PONG');
    // And Redis is still taken as answering: the next command is sent.
    await expect(connection.command(() => connection.client.ping())).resolves.toBe('PONG');
  });
});
