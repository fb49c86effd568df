import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSimulator,
  DEMO_TOKEN,
  SAMPLE_DR_SID,
  type Simulator,
} from '../src/carrierx/simulator/index.ts';
import { type ServerProcess, startServerProcess } from './helpers/server-process.ts';

// The image, built on this machine (there is no Docker engine here or in CI): the Dockerfile's own steps, read
// from it, run in temporary directories, one per stage. The runtime stage gets only what it copies and what
// `npm ci --omit=dev` installs, so a module the server imports from devDependencies (or not at all) fails here.

const ROOT = path.resolve(import.meta.dirname, '..');

/**
 * What the runtime stage's `npm ci --omit=dev` may put in node_modules, as `du` counts it. Measured 87 MB (333 MB
 * while @graphql-yoga/graphiql was a dependency: Monaco, React, framer-motion, prettier). The margin is for
 * patch releases; a browser or build-time package among the dependencies again would be far over it.
 */
const RUNTIME_NODE_MODULES_BUDGET_MB = 100;

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's stages: their names and instructions, continuation lines joined, comments dropped. */
function parseDockerfile(text: string): { name: string | undefined; steps: Instruction[] }[] {
  const stages: { name: string | undefined; steps: Instruction[] }[] = [];
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      stages.push({ name: /\sAS\s+(\S+)$/i.exec(args)?.[1], steps: [] });
    } else {
      stages.at(-1)?.steps.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

/** An exec-form command (`["node", "..."]`), with `node` as the Node running the tests. */
function execForm(args: string): { file: string; args: string[] } {
  const [file, ...rest] = JSON.parse(args) as string[];
  return { file: file === 'node' ? process.execPath : (file as string), args: rest };
}

describe('the production image (the Dockerfile, run without Docker)', () => {
  const stages = parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  const runtime = stages.at(-1)?.steps ?? [];
  const work = mkdtempSync(path.join(tmpdir(), 'cdr-image-'));
  const dirs = new Map<string, string>();
  const env: Record<string, string> = {};
  let simulator: Simulator;
  let server: ServerProcess;

  beforeAll(async () => {
    // The steps' npm cache: hard links to the user's (so npm still finds what it downloaded before), in a
    // directory of this test's own. The image's `npm cache clean --force` then empties this one only: run on
    // the user's own cache it wiped it, and raced any other npm running meanwhile (ENOTEMPTY under the suite).
    const { stdout: userCache } = await promisify(execFile)('npm', ['config', 'get', 'cache']);
    const npmCache = path.join(work, 'npm-cache');
    if (existsSync(userCache.trim())) {
      // Hard links need one file system; elsewhere the steps download what they need into an empty one.
      await promisify(execFile)('cp', ['-al', userCache.trim(), npmCache]).catch(() => undefined);
    }
    for (const [index, stage] of stages.entries()) {
      const dir = path.join(work, String(index));
      mkdirSync(dir);
      if (stage.name) dirs.set(stage.name, dir);
      const last = index === stages.length - 1;
      for (const { keyword, args } of stage.steps) {
        if (keyword === 'WORKDIR') expect(args).toBe('/app'); // each stage's directory stands for /app
        if (keyword === 'ENV' && last) {
          for (const pair of args.split(/\s+/)) {
            const [name = '', value = ''] = pair.split('=');
            env[name] = value;
          }
        }
        if (keyword === 'COPY') {
          const from = /^--from=(\S+)\s+/.exec(args);
          const paths = args.slice(from?.[0].length ?? 0).split(/\s+/);
          const dest = path.join(dir, paths.pop() as string);
          for (const source of paths) {
            const origin = from
              ? path.join(dirs.get(from[1] as string) as string, source.replace(/^\/app\//, ''))
              : path.join(ROOT, source);
            const target =
              dest.endsWith(path.sep) || paths.length > 1 ? path.join(dest, path.basename(source)) : dest;
            cpSync(origin, target, { recursive: true });
          }
        }
        if (keyword === 'RUN') {
          // The build stage's full install is the one this checkout already has, from the same lockfile: linked,
          // not repeated. Every other step runs as written (npm may use its cache rather than the network).
          if (!last && /^npm ci\b(?!.*--omit)/.test(args)) {
            symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
            continue;
          }
          // Asynchronously: a minute-long install must not block the test worker's event loop.
          await promisify(execFile)('sh', ['-c', args], {
            cwd: dir,
            env: {
              ...process.env,
              ...(last ? env : {}),
              npm_config_prefer_offline: 'true',
              npm_config_cache: npmCache,
            },
          });
        }
      }
    }
    simulator = createSimulator();
    const baseUrl = await simulator.listen(0, '127.0.0.1');
    const cmd = runtime.findLast((step) => step.keyword === 'CMD');
    expect(cmd).toBeDefined();
    server = await startServerProcess(
      // The image's environment, then what a deployment sets: where CarrierX is, and a free port for the test.
      { ...env, CARRIERX_BASE_URL: baseUrl, LOG_LEVEL: 'info' },
      { ...execForm(cmd?.args as string), cwd: path.join(work, String(stages.length - 1)) },
    );
  }, 420_000);

  afterAll(async () => {
    await server?.stop();
    await simulator?.close();
    // The installed tree is thousands of files: removing them takes a while on a busy machine.
    await rm(work, { recursive: true, force: true });
  }, 120_000);

  it('installs no devDependency in the runtime stage', () => {
    const app = path.join(work, String(stages.length - 1));
    expect(existsSync(path.join(app, 'node_modules', 'graphql'))).toBe(true);
    for (const dev of ['tsx', 'esbuild', 'typescript', 'vitest']) {
      expect(existsSync(path.join(app, 'node_modules', dev)), dev).toBe(false);
    }
    expect(existsSync(path.join(app, 'src')), 'no sources in the image').toBe(false);
  });

  it(`installs the runtime dependencies in under ${RUNTIME_NODE_MODULES_BUDGET_MB} MB, with no editor, React or formatter`, async () => {
    const modules = path.join(work, String(stages.length - 1), 'node_modules');
    for (const browserOnly of ['@graphql-yoga/graphiql', 'monaco-editor', 'react', 'react-dom', 'prettier']) {
      expect(existsSync(path.join(modules, browserOnly)), browserOnly).toBe(false);
    }
    const { stdout } = await promisify(execFile)('du', ['-sk', modules]);
    const megabytes = Number(stdout.split('\t')[0]) / 1024;
    expect(megabytes).toBeLessThan(RUNTIME_NODE_MODULES_BUDGET_MB);
  });

  it('serves GraphiQL from dist/ when GRAPHIQL_ENABLED=true, with no internet and no GraphiQL package', async () => {
    const cmd = runtime.findLast((step) => step.keyword === 'CMD');
    const graphiql = await startServerProcess(
      // LOG_LEVEL=info: the `listening` line the helper reads the URL from. Nothing answers at port 9: the page
      // and its assets need no CarrierX.
      {
        ...env,
        CARRIERX_BASE_URL: 'http://127.0.0.1:9/core/v2',
        LOG_LEVEL: 'info',
        GRAPHIQL_ENABLED: 'true',
      },
      { ...execForm(cmd?.args as string), cwd: path.join(work, String(stages.length - 1)) },
    );
    try {
      const page = await fetch(graphiql.url, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      const html = await page.text();
      // Every same-origin URL the page loads: the bundle, the stylesheet and the three Monaco workers.
      const assets = [...html.matchAll(/"(\/graphiql-assets\/[^"]+)"/g)].map((match) => match[1] as string);
      expect(assets).toHaveLength(5);
      for (const asset of assets) {
        // Uncompressed: compression is test/graphiql.test.ts's, and brotli of the 5 MB bundle is seconds here.
        const response = await fetch(new URL(asset, graphiql.url), {
          headers: { 'accept-encoding': 'identity' },
        });
        expect(response.status, asset).toBe(200);
        expect((await response.arrayBuffer()).byteLength, asset).toBeGreaterThan(1000);
      }
    } finally {
      await graphiql.stop();
    }
  }, 60_000);

  it('runs in production mode and answers a query through CarrierX', async () => {
    expect(env.NODE_ENV).toBe('production');
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_TOKEN}` },
      body: JSON.stringify({ query: `{ callDetailRecord(drSid: "${SAMPLE_DR_SID}") { drSid direction } }` }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      data: { callDetailRecord: { drSid: SAMPLE_DR_SID, direction: 'INBOUND' } },
    });
    // Production logs are JSON lines only: no banner, no pretty printer.
    for (const line of server.output.split('\n').filter(Boolean))
      expect(() => JSON.parse(line), line).not.toThrow();
  });

  it("passes the image's HEALTHCHECK, with node alone (slim images have no curl)", () => {
    const healthcheck = runtime.find((step) => step.keyword === 'HEALTHCHECK');
    const command = execForm(healthcheck?.args.replace(/^.*?\bCMD\s+/, '') as string);
    const port = new URL(server.url).port;
    const run = spawnSync(command.file, command.args, {
      env: { ...process.env, ...env, PORT: port },
      timeout: 10_000,
    });
    expect(run.status).toBe(0);
  });
});
