import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { register as metricsRegistry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import {
  createLivePersistedDocuments,
  documentHash,
  type LivePersistedDocuments,
  readPersistedDocuments,
} from '../src/graphql/persisted-documents.ts';
import { createRequestHandler, type RequestHandler } from '../src/http/create-request-handler.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { operationNameLabel } from '../src/telemetry/metrics.ts';
import { createHarness, type Harness } from './helpers/harness.ts';
import { createListeners } from './helpers/listen.ts';
import { postGraphQL } from './helpers/post.ts';
import { startServerProcess } from './helpers/server-process.ts';

const AUTH = { authorization: 'Bearer carrierx-demo-token' };
const variables = { drSid: SAMPLE_DR_SID };
const PRICE = 'query ReloadPrice($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price } }';
const DIRECTION =
  'query ReloadDirection($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid direction } }';
/** Never run: its name is labelled in the metrics only while a manifest holds it. */
const LABELLED = 'query ReloadLabelled { __typename }';
const idOf = (text: string) => `sha256:${documentHash(text)}`;
const manifestOf = (...texts: string[]) => JSON.stringify(Object.fromEntries(texts.map((t) => [idOf(t), t])));

/** A directory of this test's own, removed at the end of the file. */
const directories: string[] = [];
function manifestFile(content: string): string {
  const directory = mkdtempSync(path.join(tmpdir(), 'persisted-reload-'));
  directories.push(directory);
  const file = path.join(directory, 'manifest.json');
  writeFileSync(file, content);
  return file;
}
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

/** A reloadable set read from `file`, logging into `logs`. */
function liveDocuments(file: string, logs: string[], only = true): LivePersistedDocuments {
  return createLivePersistedDocuments({
    paths: [file],
    documents: readPersistedDocuments([file]),
    only,
    logger: createLogger({ level: 'info', destination: { write: (line: string) => logs.push(line) } }),
  });
}

const codeOf = (reply: { text: string }) =>
  (JSON.parse(reply.text) as { errors?: { extensions?: { code?: string } }[] }).errors?.map(
    (error) => error.extensions?.code,
  );
const messages = (logs: string[]) => logs.map((line) => JSON.parse(line) as { level: number; msg: string });

/** Operations run prepared in this process so far (graphql_prepared_operations_total). */
async function preparedRuns(): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('graphql_prepared_operations_total')?.get();
  return metric?.values[0]?.value ?? 0;
}

describe('reloading the persisted documents of PERSISTED_DOCUMENTS_ONLY', () => {
  const { listen, closeAll } = createListeners();
  let file: string;
  let logs: string[];
  let documents: LivePersistedDocuments;
  let h: Harness;
  let handler: RequestHandler;
  let port: number;
  const send = (body: unknown) => postGraphQL(port, JSON.stringify(body), AUTH);

  beforeAll(async () => {
    file = manifestFile(manifestOf(PRICE, DIRECTION));
    logs = [];
    documents = liveDocuments(file, logs);
    h = await createHarness(
      { PERSISTED_DOCUMENTS: file, PERSISTED_DOCUMENTS_ONLY: 'true' },
      { persistedDocuments: documents },
    );
    handler = createRequestHandler(h.app, { fastPath: true, maxBodyBytes: 256 * 1024 });
    port = await listen(handler);
  });
  afterAll(async () => {
    closeAll();
    await h.close();
  });

  it('stops running an operation that left the manifest, even one the server had prepared', async () => {
    writeFileSync(file, manifestOf(PRICE, DIRECTION));
    documents.reload('SIGHUP');
    // Run twice: the second run is served prepared, from the compiled document the first one left.
    await send({ query: PRICE, variables });
    const before = await preparedRuns();
    const prepared = await send({ query: PRICE, variables });
    expect(codeOf(prepared)).toBeUndefined();
    expect(await preparedRuns()).toBe(before + 1);

    writeFileSync(file, manifestOf(DIRECTION));
    expect(documents.reload('SIGHUP')).toBe(true);
    const asText = await send({ query: PRICE, variables });
    expect(asText.status).toBe(400);
    expect(codeOf(asText)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
    const byId = await send({ documentId: idOf(PRICE), variables });
    expect(codeOf(byId)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(await preparedRuns()).toBe(before + 1);
    // What stayed in the manifest still runs.
    const stayed = await send({ documentId: idOf(DIRECTION), variables });
    expect(JSON.parse(stayed.text).data.callDetailRecord.direction).toBeDefined();
  });

  it('runs an operation added to the manifest once it is reloaded', async () => {
    writeFileSync(file, manifestOf(DIRECTION));
    documents.reload('SIGHUP');
    expect(codeOf(await send({ documentId: idOf(PRICE), variables }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    writeFileSync(file, manifestOf(PRICE, DIRECTION));
    expect(documents.reload('SIGHUP')).toBe(true);
    const answer = await send({ documentId: idOf(PRICE), variables });
    expect(JSON.parse(answer.text).data.callDetailRecord.price).toBe('0.0025');
  });

  it('keeps the documents in force and logs one warning when the manifest is broken', async () => {
    writeFileSync(file, manifestOf(PRICE, DIRECTION));
    documents.reload('SIGHUP');
    const before = logs.length;
    writeFileSync(file, '{ "sha256:00": ');
    expect(documents.reload('SIGHUP')).toBe(false);
    const warnings = messages(logs.slice(before)).filter((line) => line.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toMatch(/persisted documents not reloaded.*manifest\.json: not readable JSON/);
    expect(codeOf(await send({ documentId: idOf(PRICE), variables }))).toBeUndefined();
    // Nor a manifest emptied, under PERSISTED_DOCUMENTS_ONLY: it would refuse every operation.
    writeFileSync(file, '{}');
    expect(documents.reload('SIGHUP')).toBe(false);
    expect(messages(logs).at(-1)?.msg).toMatch(/PERSISTED_DOCUMENTS_ONLY would refuse every operation/);
    expect(codeOf(await send({ documentId: idOf(DIRECTION), variables }))).toBeUndefined();
  });

  it('labels the metrics of the reloaded manifest’s operations, and no longer of those that left it', async () => {
    writeFileSync(file, manifestOf(PRICE, LABELLED));
    documents.reload('SIGHUP');
    writeFileSync(file, manifestOf(PRICE, DIRECTION));
    documents.reload('SIGHUP');
    // Past the cap of distinct client names, only reserved names get a label of their own.
    for (let i = 0; i < 150; i++) operationNameLabel(`ClientOperation${i}`);
    expect(operationNameLabel('ReloadDirection')).toBe('ReloadDirection');
    expect(operationNameLabel('ReloadLabelled')).toBe('other');
  });
});

describe('reloading persisted documents with the answer cache on', () => {
  const { listen, closeAll } = createListeners();
  let file: string;
  let documents: LivePersistedDocuments;
  let h: Harness;
  let handler: RequestHandler;
  let port: number;
  beforeAll(async () => {
    file = manifestFile(manifestOf(PRICE, DIRECTION));
    documents = liveDocuments(file, []);
    h = await createHarness(
      { PERSISTED_DOCUMENTS: file, PERSISTED_DOCUMENTS_ONLY: 'true', CACHE_TTL_MS: '60000' },
      { persistedDocuments: documents },
    );
    handler = createRequestHandler(h.app, { fastPath: true, maxBodyBytes: 256 * 1024 });
    port = await listen(handler);
  });
  afterAll(async () => {
    closeAll();
    await h.close();
  });

  it('does not serve a kept answer for a document that left the manifest', async () => {
    const body = JSON.stringify({ documentId: idOf(PRICE), variables });
    await postGraphQL(port, body, AUTH);
    const answered = handler.stats.answered;
    expect(codeOf(await postGraphQL(port, body, AUTH))).toBeUndefined();
    expect(handler.stats.answered).toBe(answered + 1);

    writeFileSync(file, manifestOf(DIRECTION));
    expect(documents.reload('SIGHUP')).toBe(true);
    const after = await postGraphQL(port, body, AUTH);
    expect(after.status).toBe(400);
    expect(codeOf(after)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    expect(handler.stats.answered).toBe(answered + 1);
  });
});

describe('a persisted-documents manifest changed on disk', () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  /** Waits until `documents` holds exactly the documents of `texts` (the watch is debounced). */
  const holds = (documents: LivePersistedDocuments, ...texts: string[]) =>
    expect
      .poll(() => [...documents.current().keys()].sort(), { timeout: 10_000, interval: 50 })
      .toEqual(texts.map(documentHash).sort());

  it('is reloaded when it is written in place', async () => {
    const file = manifestFile(manifestOf(PRICE));
    const documents = liveDocuments(file, []);
    stop = documents.watch(20);
    writeFileSync(file, manifestOf(PRICE, DIRECTION));
    await holds(documents, PRICE, DIRECTION);
  });

  it('is reloaded when an editor replaces the file, again and again', async () => {
    const file = manifestFile(manifestOf(PRICE));
    const documents = liveDocuments(file, []);
    stop = documents.watch(20);
    // As editors save: the new text in another file, renamed over the manifest (a new inode each time).
    const replace = (content: string) => {
      writeFileSync(`${file}.tmp`, content);
      renameSync(`${file}.tmp`, file);
    };
    replace(manifestOf(DIRECTION));
    await holds(documents, DIRECTION);
    replace(manifestOf(PRICE, DIRECTION));
    await holds(documents, PRICE, DIRECTION);
  });

  it('keeps the documents in force while it is broken, warning once, and takes the repaired file', async () => {
    const file = manifestFile(manifestOf(PRICE));
    const logs: string[] = [];
    const documents = liveDocuments(file, logs);
    stop = documents.watch(20);
    writeFileSync(file, '{ "truncated');
    await expect
      .poll(() => messages(logs).filter((line) => line.level === 40).length, { timeout: 10_000 })
      .toBe(1);
    // Another file written beside it is another directory event: the same problem is not reported again.
    writeFileSync(path.join(path.dirname(file), 'other.txt'), 'x');
    writeFileSync(file, '{ "truncated');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(messages(logs).filter((line) => line.level === 40)).toHaveLength(1);
    await holds(documents, PRICE);
    writeFileSync(file, manifestOf(DIRECTION));
    await holds(documents, DIRECTION);
  });
});

describe('SIGHUP to a running server', () => {
  it('reloads the manifest in every worker, which then run only its documents', async () => {
    const file = manifestFile(manifestOf(PRICE));
    const server = await startServerProcess({
      PERSISTED_DOCUMENTS: file,
      PERSISTED_DOCUMENTS_ONLY: 'true',
      WEB_CONCURRENCY: '2',
      LOG_LEVEL: 'info',
    });
    try {
      const port = Number(new URL(server.url).port);
      const send = (text: string) =>
        postGraphQL(port, JSON.stringify({ documentId: idOf(text), variables }), AUTH);
      expect(codeOf(await send(DIRECTION))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
      writeFileSync(file, manifestOf(DIRECTION));
      process.kill(server.pid, 'SIGHUP');
      // Each worker answers the signal, with the new set (or, when its file watch was first, finding it in force).
      const answered = () =>
        server.output
          .split('\n')
          .filter((line) => line.includes('"trigger":"SIGHUP"'))
          .map((line) => (JSON.parse(line) as { pid: number }).pid);
      await expect.poll(() => new Set(answered()).size, { timeout: 15_000 }).toBe(2);
      expect(answered()).toHaveLength(2);
      // Each request on a connection of its own: the primary hands them to the workers in turn.
      for (let i = 0; i < 6; i++) {
        expect(codeOf(await send(DIRECTION)), `request ${i}`).toBeUndefined();
        expect(codeOf(await send(PRICE)), `request ${i}`).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
      }
      // The server is still running: SIGHUP reloaded it, it did not end it.
      expect(server.output).not.toMatch(/shutting down|exited/);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
