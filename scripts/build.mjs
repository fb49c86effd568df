// `npm run build`: the server and the simulator as JavaScript in dist/, with source maps. Plain JavaScript
// (not TypeScript) because `npm start` runs it before anything is compiled, and a production install has no tsx.
//
// esbuild, not tsc: it bundles our ~60 modules and the dependencies they import into a few files in under a
// second where `tsc` takes 7 s even without type checking, so `npm start` can rebuild a stale dist/ without
// making anyone wait. Types are checked by `npm run typecheck`. node_modules is still installed beside dist/
// (`npm ci --omit=dev`): pino-pretty is read from it at run time. GraphiQL's browser assets are copied into
// dist/, so that their package (a devDependency, 100 MB of editor, React and formatter) is not installed there.
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file is scripts/build.mjs. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Written last into a finished build; its mtime is when that build started reading src/. */
const STAMP = '.build-stamp';

/** What decides the output besides src/: a change to any of these makes dist/ stale too. */
const INPUTS = ['src', 'package.json', 'package-lock.json', 'scripts/build.mjs'];

/** Files read at run time beside the module that reads them (new URL('./x', import.meta.url)), not imported. */
const ASSETS = [
  { source: 'src/carrierx/simulator/sample-cdr.json', readBy: 'src/carrierx/simulator/data.ts' },
];

/**
 * GraphiQL's browser assets: the files its page loads (the allow-list the server serves), with the package's
 * package.json (the server reads the version from it) and LICENSE (the bundle is MIT code we redistribute).
 * Copied into dist/graphiql-assets/ beside the module that serves them (src/graphql/graphiql/use-offline-graphiql.ts
 * looks there first).
 */
function graphiqlAssets(root) {
  const manifest = createRequire(path.join(root, 'package.json')).resolve(
    '@graphql-yoga/graphiql/package.json',
  );
  const dir = path.dirname(manifest);
  const files = JSON.parse(readFileSync(path.join(root, 'src/graphql/graphiql/assets.json'), 'utf8'));
  return {
    readBy: 'src/graphql/graphiql/use-offline-graphiql.ts',
    target: 'graphiql-assets',
    copies: [
      ...files.map((file) => ({ from: path.join(dir, 'dist', file), to: file })),
      { from: manifest, to: 'package.json' },
      { from: path.join(dir, 'LICENSE'), to: 'LICENSE' },
    ],
  };
}

/**
 * What the bundle leaves to node_modules: pino-pretty (loaded by file name, only at a developer's terminal) and
 * every devDependency, so that a runtime import of one stays an import and fails where only the dependencies
 * are installed (the production-install test), as it would fail unbundled.
 */
function external(root) {
  const { devDependencies = {} } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  return ['pino-pretty', ...Object.keys(devDependencies)];
}

/**
 * graphql ships a CommonJS build (index.js) and an ES module one (index.mjs), and its classes are compared with
 * instanceof: a bundle holding both, or two installed copies, would have two GraphQLError classes, and Yoga
 * would mask our errors as "Unexpected error.". esbuild's defaults for Node (mainFields `main,module`, no
 * `.mjs` among the extensions it tries) give `import` and `require` alike the CommonJS files, as Node does;
 * this check fails the build if an option or a dependency ever changes that.
 */
export function checkOneGraphql(metafile) {
  const files = Object.keys(metafile.inputs).filter((input) => /(^|\/)node_modules\/graphql\//.test(input));
  const copies = new Set(files.map((file) => file.slice(0, file.lastIndexOf('node_modules/graphql/'))));
  const esm = files.filter((file) => file.endsWith('.mjs'));
  if (copies.size > 1 || esm.length > 0) {
    throw new Error(
      `the bundle holds more than one graphql (${[...copies].map((c) => `${c}node_modules/graphql`).join(', ')}${esm.length ? `; ES module files: ${esm.slice(0, 3).join(', ')}` : ''}): its classes would not be one`,
    );
  }
}

/**
 * The map without the dependencies' code: a stack frame in a dependency keeps its dist/ position, a frame in
 * our code still names its src/ line. Node (--enable-source-maps) parses the whole map at start and keeps every
 * segment: the dependencies' 4 MB of code made that 2.4 MB of map, +8 MB of idle RSS and tens of ms of start.
 * `codec` is @jridgewell/sourcemap-codec (decode/encode of the mappings, with absolute values per segment).
 */
export function withoutDependencies(map, { decode, encode }) {
  const newIndex = new Map();
  const sources = [];
  map.sources.forEach((source, index) => {
    if (/(^|\/)node_modules\//.test(source)) return;
    newIndex.set(index, sources.length);
    sources.push(source);
  });
  const names = [];
  const nameIndex = new Map();
  const lines = decode(map.mappings).map((line) => {
    const out = [];
    let mapped = false; // whether the last segment kept on this line maps somewhere
    for (const segment of line) {
      if (segment.length >= 4 && newIndex.has(segment[1])) {
        const kept = [segment[0], newIndex.get(segment[1]), segment[2], segment[3]];
        if (segment.length === 5) {
          const name = map.names[segment[4]];
          if (!nameIndex.has(name)) nameIndex.set(name, names.push(name) - 1);
          kept.push(nameIndex.get(name));
        }
        out.push(kept);
        mapped = true;
      } else if (mapped) {
        // An unmapped segment ends the previous mapping here (minified code shares lines).
        out.push([segment[0]]);
        mapped = false;
      }
    }
    return out;
  });
  return { ...map, sources, names, mappings: encode(lines), sourcesContent: undefined };
}

/** The newest mtime (ms) of a file or of any file under a directory. */
function newestMtime(file) {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted or renamed file changes its directory's mtime
  for (const entry of readdirSync(file)) newest = Math.max(newest, newestMtime(path.join(file, entry)));
  return newest;
}

/**
 * Why dist/ must be built before it runs: missing, or older than a source. Undefined when it is up to date, or
 * when there is no src/ to build from (a container holds dist/ alone). A stat of ~80 files: about a millisecond.
 */
export function staleReason(root = ROOT) {
  if (!statSync(path.join(root, 'src'), { throwIfNoEntry: false })) return undefined;
  const built = statSync(path.join(root, 'dist', STAMP), { throwIfNoEntry: false });
  if (!built) return 'dist/ has not been built';
  const changed = INPUTS.find((input) => newestMtime(path.join(root, input)) > built.mtimeMs);
  return changed ? `${changed} changed since dist/ was built` : undefined;
}

/**
 * Builds into a fresh directory, then swaps it in for dist/ with renames: a process that starts meanwhile
 * never sees half a build, and of two builds racing (test files, `npm start`s) one wins and the other is
 * dropped, both being built from the same sources. Returns each output file's inputs and the files it imports.
 */
export async function build(root = ROOT) {
  const { build: esbuild } = await import('esbuild');
  const codec = await import('@jridgewell/sourcemap-codec');
  const started = new Date();
  const temp = mkdtempSync(path.join(root, '.dist-'));
  // mkdtemp makes it private (0700); dist/ is read by whichever user runs the server (the image's non-root one).
  chmodSync(temp, 0o755);
  try {
    const { metafile } = await esbuild({
      absWorkingDir: root,
      entryPoints: ['src/server.ts', 'src/carrierx/simulator/main.ts'],
      outbase: 'src',
      outdir: temp,
      bundle: true,
      // The dependencies are bundled too: loading ~1,500 files from node_modules (ESM resolution, stat,
      // realpath, one compile each) was almost all of a 2 s start. What stays outside is listed in external().
      external: external(root),
      platform: 'node',
      format: 'esm',
      // The oldest Node in package.json's engines.
      target: 'node20.18',
      // Bundled CommonJS packages call require() (Node's built-ins, optional peers): an ESM file has none.
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
      // The simulator and other modules behind `await import()` (the tracing SDK, the redis client) stay in
      // chunks of their own: not loaded (nor parsed) by a server that does not use them.
      splitting: true,
      sourcemap: true,
      sourcesContent: false,
      minifyWhitespace: true,
      minifySyntax: true,
      metafile: true,
      logLevel: 'warning',
    });
    checkOneGraphql(metafile);
    for (const output of Object.keys(metafile.outputs).filter((file) => file.endsWith('.map'))) {
      const file = path.resolve(root, output);
      writeFileSync(file, JSON.stringify(withoutDependencies(JSON.parse(readFileSync(file, 'utf8')), codec)));
    }
    const besideReader = (readBy) => {
      // Beside whichever output file now holds the module that reads it.
      const output = Object.entries(metafile.outputs).find(([, meta]) => readBy in meta.inputs);
      if (!output) throw new Error(`${readBy} is in no output file`);
      return path.dirname(path.resolve(root, output[0]));
    };
    for (const asset of ASSETS) {
      copyFileSync(
        path.join(root, asset.source),
        path.join(besideReader(asset.readBy), path.basename(asset.source)),
      );
    }
    const graphiql = graphiqlAssets(root);
    const graphiqlDir = path.join(besideReader(graphiql.readBy), graphiql.target);
    for (const { from, to } of graphiql.copies) {
      mkdirSync(path.dirname(path.join(graphiqlDir, to)), { recursive: true });
      copyFileSync(from, path.join(graphiqlDir, to));
    }
    writeFileSync(path.join(temp, STAMP), `${started.toISOString()}\n`);
    utimesSync(path.join(temp, STAMP), started, started);
    const old = `${temp}-old`;
    try {
      renameSync(path.join(root, 'dist'), old);
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
    }
    try {
      renameSync(temp, path.join(root, 'dist'));
    } catch (error) {
      // Another build put its dist/ in place between our two renames: keep it.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    }
    rmSync(old, { recursive: true, force: true });
    // What went where, named relative to dist/: for the tests, which check what a start loads.
    const inDist = (file) => path.relative(temp, path.resolve(root, file));
    return {
      outputs: Object.fromEntries(
        Object.entries(metafile.outputs).map(([file, meta]) => [
          inDist(file),
          {
            inputs: Object.keys(meta.inputs),
            imports: meta.imports
              .filter((imported) => !imported.external)
              .map((imported) => ({ path: inDist(imported.path), kind: imported.kind })),
          },
        ]),
      ),
    };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** Builds dist/ when it is missing or stale; says so on stderr (stdout is the server's, JSON in production). */
export async function ensureBuilt(root = ROOT) {
  const reason = staleReason(root);
  if (!reason) return;
  process.stderr.write(`building dist/ (${reason})\n`);
  try {
    await import('esbuild');
  } catch {
    process.stderr.write(
      'dist/ is missing or older than src/, and esbuild (a devDependency) is not installed to rebuild it: run `npm ci && npm run build` where the dev dependencies are, or start an up-to-date dist/\n',
    );
    process.exit(1);
  }
  await build(root);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build();
