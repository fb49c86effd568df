import {
  appendFileSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error scripts/build.mjs is plain JavaScript (it runs before anything is compiled) and has no types.
import * as buildScript from '../scripts/build.mjs';

interface Output {
  inputs: string[];
  imports: { path: string; kind: string }[];
}

const { build, checkOneGraphql, staleReason } = buildScript as {
  build(root: string): Promise<{ outputs: Record<string, Output> }>;
  checkOneGraphql(metafile: { inputs: Record<string, unknown> }): void;
  staleReason(root: string): string | undefined;
};

const ROOT = path.resolve(import.meta.dirname, '..');

describe('npm start builds dist/ only when it must', () => {
  // A copy of what the build reads, so that this test never rebuilds the dist/ other test files run.
  const root = mkdtempSync(path.join(tmpdir(), 'cdr-build-'));
  for (const entry of ['src', 'scripts/build.mjs', 'package.json', 'package-lock.json']) {
    cpSync(path.join(ROOT, entry), path.join(root, entry), { recursive: true, preserveTimestamps: true });
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('builds when dist/ is missing, then starts without building while nothing changed', async () => {
    expect(staleReason(root)).toBe('dist/ has not been built');
    await build(root);
    expect(staleReason(root)).toBeUndefined();
  });

  it('builds again when a file under src/ is newer than the last build', async () => {
    // Edited after the last build (which took far more than this millisecond) but before the next one.
    const edited = new Date(Date.now() - 1);
    utimesSync(path.join(root, 'src', 'errors.ts'), edited, edited);
    expect(staleReason(root)).toBe('src changed since dist/ was built');
    await build(root);
    expect(staleReason(root)).toBeUndefined();
  });

  it('does not try to build where there is no src/ (an image holds dist/ alone)', () => {
    const image = mkdtempSync(path.join(tmpdir(), 'cdr-image-dist-'));
    try {
      expect(staleReason(image)).toBeUndefined();
    } finally {
      rmSync(image, { recursive: true, force: true });
    }
  });
});

describe('the production bundle', () => {
  // Built from a copy, like the tests above, so that a source added here never reaches the shared dist/.
  const root = mkdtempSync(path.join(tmpdir(), 'cdr-bundle-'));
  for (const entry of ['src', 'scripts/build.mjs', 'package.json', 'package-lock.json']) {
    cpSync(path.join(ROOT, entry), path.join(root, entry), { recursive: true });
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let outputs: Record<string, Output>;

  it('builds', async () => {
    ({ outputs } = await build(root));
    expect(outputs['server.js']).toBeDefined();
  }, 60_000);

  it("copies GraphiQL's browser assets into dist/, so a production install needs no GraphiQL package", () => {
    const files = JSON.parse(
      readFileSync(path.join(root, 'src', 'graphql', 'graphiql', 'assets.json'), 'utf8'),
    ) as string[];
    const graphiql = path.join(ROOT, 'node_modules', '@graphql-yoga', 'graphiql');
    const copied = path.join(root, 'dist', 'graphiql-assets');
    for (const [from, to] of [
      ...files.map((file) => [path.join(graphiql, 'dist', file), file]),
      [path.join(graphiql, 'package.json'), 'package.json'],
      [path.join(graphiql, 'LICENSE'), 'LICENSE'],
    ] as [string, string][]) {
      expect(readFileSync(path.join(copied, to)).equals(readFileSync(from)), to).toBe(true);
    }
  });

  it('loads neither the simulator, the tracing SDK nor the redis client when a server starts', () => {
    // What `node dist/server.js` loads before any `await import()`: server.js and the chunks it imports.
    const loaded = new Set<string>();
    const visit = (file: string) => {
      if (loaded.has(file)) return;
      loaded.add(file);
      for (const imported of outputs[file]?.imports ?? [])
        if (imported.kind === 'import-statement') visit(imported.path);
    };
    visit('server.js');
    // Inputs under node_modules are named through this copy's symlink to the checkout's (../../…/node_modules).
    const inputs = [...loaded]
      .flatMap((file) => outputs[file]?.inputs ?? [])
      .map((input) => input.replace(/^.*?(?=node_modules\/)/, ''));
    expect(inputs).toContain('node_modules/graphql/index.js');
    for (const lazy of [
      'src/carrierx/simulator/data.ts',
      'src/telemetry/tracing-sdk.ts',
      'node_modules/@opentelemetry/sdk-trace-base/',
      'src/records/redis-store.ts',
      'node_modules/@redis/client/',
    ]) {
      expect(
        inputs.filter((input) => input.startsWith(lazy)),
        lazy,
      ).toEqual([]);
    }
  });

  it("maps our code's stack frames to their src/ lines, and leaves the dependencies' code out of the map", () => {
    const dist = path.join(root, 'dist');
    const files = readdirSync(dist).filter((file) => file.endsWith('.js'));
    for (const file of files) {
      const map = JSON.parse(readFileSync(path.join(dist, `${file}.map`), 'utf8'));
      expect(
        map.sources.filter((source: string) => source.includes('node_modules')),
        file,
      ).toEqual([]);
    }
    /** Where `text` first occurs (0-based line and column) in these lines. */
    const at = (text: RegExp, lines: string[]) => {
      const line = lines.findIndex((l) => text.test(l));
      return { line, column: (lines[line] as string).search(text) };
    };
    /** The output file holding `text`, its position there, and what its map says of that position. */
    const inBundle = (text: RegExp) => {
      const file = files.find((f) => text.test(readFileSync(path.join(dist, f), 'utf8'))) as string;
      const position = at(text, readFileSync(path.join(dist, file), 'utf8').split('\n'));
      const map = new SourceMap(JSON.parse(readFileSync(path.join(dist, `${file}.map`), 'utf8')));
      return map.findEntry(position.line, position.column);
    };
    // A line of createLogger's (esbuild may rename the function itself, and drops spaces).
    const original = at(
      /pid: process\.pid/,
      readFileSync(path.join(root, 'src', 'telemetry', 'logger.ts'), 'utf8').split('\n'),
    );
    expect(inBundle(/pid: ?process\.pid/)).toMatchObject({
      originalSource: '../src/telemetry/logger.ts',
      originalLine: original.line,
    });
    // A frame in graphql's code keeps its dist/ position rather than a wrong src/ one.
    expect(inBundle(/Syntax Error: \$\{description\}/)).not.toHaveProperty('originalSource');
  });

  it('leaves a devDependency imported at run time as an import, which a production install fails on', async () => {
    appendFileSync(path.join(root, 'src', 'telemetry', 'logger.ts'), "\nimport 'semver';\n");
    await build(root);
    expect(readFileSync(path.join(root, 'dist', 'server.js'), 'utf8')).toMatch(/(^|;)import ?"semver";/m);
  }, 60_000);

  it('fails the build when the bundle would hold two graphql (two GraphQLError classes)', () => {
    const bundle = (...files: string[]) => ({ inputs: Object.fromEntries(files.map((file) => [file, {}])) });
    expect(() =>
      checkOneGraphql(bundle('node_modules/graphql/index.js', 'node_modules/graphql/error/GraphQLError.js')),
    ).not.toThrow();
    expect(() =>
      checkOneGraphql(bundle('node_modules/graphql/index.js', 'node_modules/graphql/index.mjs')),
    ).toThrow(/more than one graphql/);
    expect(() =>
      checkOneGraphql(
        bundle('node_modules/graphql/index.js', 'node_modules/@x/y/node_modules/graphql/index.js'),
      ),
    ).toThrow(/more than one graphql/);
  });
});
