import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SAMPLE_DR_SID, UNANSWERED_DR_SID } from '../src/carrierx/simulator/index.ts';
import { createRequestHandler } from '../src/http/create-request-handler.ts';
import { createHarness, type Harness } from './helpers/harness.ts';
import { postGraphQL } from './helpers/post.ts';

interface LogLine {
  level: number;
  msg?: string;
  pid?: number;
  err?: { stack?: string };
  [field: string]: unknown;
}

const INFO = 30;
const WARN = 40;
const ERROR = 50;
const ONE_RECORD = `query One($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price } }`;
const MALFORMED = '{"query": ';

const parsed = (h: Harness): LogLine[] => h.logs.map((line) => JSON.parse(line) as LogLine);
/** What an operator sees at the default level (info), debug lines left out. */
const visible = (h: Harness) => parsed(h).filter((line) => line.level >= INFO);

/** Sends `body` as a JSON POST over a real socket, through the fast path's handler. */
const postOverSocket = (port: number, body: string) => postGraphQL(port, body).then((reply) => reply.status);

// Yoga reports a request it refuses to the logger only when its masking replaced the error: in production our
// masking does (it drops the body the parser quotes back), so that is where a malformed body is logged at all.
describe.each([
  ['development', {}, 0],
  ['production', { NODE_ENV: 'production' }, 1],
])('client mistakes in %s', (_mode, env, refusalLines) => {
  let h: Harness;
  let server: Server;
  let port: number;
  beforeAll(async () => {
    h = await createHarness(env);
    server = createServer(createRequestHandler(h.app, { fastPath: true, maxBodyBytes: 256 * 1024 }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await h.close();
  });
  beforeEach(() => {
    h.logs.length = 0;
  });

  it('logs a malformed JSON body once, at info, without a stack', async () => {
    const res = await h.app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: MALFORMED,
    });
    expect(res.status).toBe(400);
    const lines = visible(h);
    expect(lines).toHaveLength(refusalLines);
    for (const line of lines) expect(line).toMatchObject({ level: INFO, code: 'BAD_REQUEST' });
    expect(h.logs.join('\n')).not.toContain('"stack"');
  });

  it('logs a malformed JSON body sent to the fast path once, at info, without a stack', async () => {
    expect(await postOverSocket(port, MALFORMED)).toBe(400);
    const lines = visible(h);
    expect(lines).toHaveLength(refusalLines);
    for (const line of lines) expect(line).toMatchObject({ level: INFO, code: 'BAD_REQUEST' });
    expect(h.logs.join('\n')).not.toContain('"stack"');
  });

  it('logs a record CarrierX does not have (404) once, at info, without a stack', async () => {
    h.simulator.faults.clear();
    const res = await h.execute(ONE_RECORD, { drSid: '00000000-0000-4000-8000-000000000000' });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const lines = visible(h);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: INFO, status: 404 });
    expect(h.logs.join('\n')).not.toContain('"stack"');
  });
});

describe('CarrierX failures', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.simulator.faults.clear();
    h.logs.length = 0;
  });

  it('logs each failed attempt of a 503 at warn with its attempt number, and the giving up once', async () => {
    h.simulator.faults.add({ match: { drSid: UNANSWERED_DR_SID }, fault: { kind: 'status', status: 503 } });
    const res = await h.execute(ONE_RECORD, { drSid: UNANSWERED_DR_SID });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    const lines = visible(h);
    expect(lines.every((line) => line.level === WARN)).toBe(true);
    expect(lines.filter((line) => line.status === 503).map((line) => line.attempt)).toEqual([1, 2, 3]);
    const givingUp = lines.filter((line) => line.status !== 503);
    expect(givingUp).toHaveLength(1);
    expect(givingUp[0]).toMatchObject({ attempts: 3, code: 'UPSTREAM_UNAVAILABLE' });
    expect(h.logs.join('\n')).not.toContain('"stack"');
  });

  it('logs a 429 at warn, not like a 404', async () => {
    h.simulator.faults.add({ fault: { kind: 'rate-limit', retryAfter: '120' } });
    const res = await h.execute(ONE_RECORD, { drSid: SAMPLE_DR_SID });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    const lines = visible(h);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: WARN, status: 429, attempt: 1 });
  });
});

describe('unexpected errors', () => {
  it('logs an unexpected error once, at error, with its stack', async () => {
    const h = await createHarness();
    try {
      h.client.getCallDetailRecord = () => Promise.reject(new TypeError('a bug in this service'));
      const res = await h.execute(ONE_RECORD, { drSid: SAMPLE_DR_SID });
      expect(res.body.errors?.[0]?.message).toBe('Unexpected error.');
      const lines = visible(h);
      expect(lines).toHaveLength(1);
      expect(lines[0]?.level).toBe(ERROR);
      expect(lines[0]?.err?.stack).toContain('TypeError: a bug in this service');
    } finally {
      await h.close();
    }
  });
});

describe('every log line', () => {
  it('carries the process id', async () => {
    const h = await createHarness();
    try {
      await h.execute(ONE_RECORD, { drSid: SAMPLE_DR_SID });
      await h.app.fetch('http://localhost/graphql', { method: 'POST', body: MALFORMED });
      const lines = parsed(h);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line.pid).toBe(process.pid);
    } finally {
      await h.close();
    }
  });
});
