// `npm run build`: the server and the simulator as JavaScript in dist/, with source maps. Plain JavaScript
// (not TypeScript) because `npm start` runs it before anything is compiled, and a production install has no tsx.
//
// esbuild, not tsc: it bundles our ~60 modules into a few files (node_modules stay external, installed beside
// dist/ as `npm ci --omit=dev` puts them) in about 0.1 s where `tsc` takes 7 s even without type checking, so
// `npm start` can rebuild a stale dist/ without making anyone wait. Types are checked by `npm run typecheck`.
import {
  chmodSync,
  copyFileSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
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
 * dropped, both being built from the same sources.
 */
export async function build(root = ROOT) {
  const { build: esbuild } = await import('esbuild');
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
      // Dependencies are loaded from node_modules as they are: graphql must stay one copy (its classes are
      // compared with instanceof), pino starts its transports by file name, GraphiQL's assets are found there.
      packages: 'external',
      platform: 'node',
      format: 'esm',
      // The oldest Node in package.json's engines; it keeps `with { type: 'json' }` on external JSON imports.
      target: 'node20.18',
      // The simulator and other modules behind `await import()` stay in chunks of their own: not loaded
      // (nor parsed) by a server with CARRIERX_BASE_URL set.
      splitting: true,
      sourcemap: true,
      metafile: true,
      logLevel: 'warning',
    });
    for (const asset of ASSETS) {
      // Beside whichever output file now holds the module that reads it.
      const output = Object.entries(metafile.outputs).find(([, meta]) => asset.readBy in meta.inputs);
      if (!output) throw new Error(`${asset.readBy} is in no output file`);
      const dir = path.dirname(path.resolve(root, output[0]));
      copyFileSync(path.join(root, asset.source), path.join(dir, path.basename(asset.source)));
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
