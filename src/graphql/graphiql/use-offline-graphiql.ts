import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Plugin } from 'graphql-yoga';
// The allow-list, shared with scripts/build.mjs, which copies exactly these files into dist/.
import ASSET_FILES from './assets.json' with { type: 'json' };

/** Where the GraphiQL assets are served unless `basePath` says otherwise. */
export const DEFAULT_GRAPHIQL_ASSETS_PATH = '/graphiql-assets';

/** Options shared by `useOfflineGraphiQL` and `createGraphiQLRenderer`; both must be given the same `basePath`. */
export interface OfflineGraphiQLOptions {
  /** URL path the assets live under, e.g. `/graphiql-assets` (the default). */
  basePath?: string;
}

/**
 * The directory `npm run build` copies GraphiQL's assets into, beside the built module that reads them, with the
 * package's package.json (its version) and LICENSE. The production install has no @graphql-yoga/graphiql: it is
 * a devDependency, so that its 100 MB of editor, React and formatter stay out of the runtime.
 */
const BUILT_ASSETS_DIR = 'graphiql-assets';

/** Where GraphiQL's files are read from, and the @graphql-yoga/graphiql version they come from. */
export interface GraphiQLAssets {
  dir: string;
  version: string;
}

/**
 * Finds GraphiQL's files: beside this module once built (dist/), else in the installed package (running src/
 * with tsx or vitest, where the devDependencies are). Throws, naming both places, when neither has them.
 */
export function findGraphiQLAssets(): GraphiQLAssets {
  const built = fileURLToPath(new URL(`./${BUILT_ASSETS_DIR}/`, import.meta.url));
  if (existsSync(path.join(built, 'package.json'))) return { dir: built, ...readVersion(built) };
  let installed: string;
  try {
    installed = path.dirname(createRequire(import.meta.url).resolve('@graphql-yoga/graphiql/package.json'));
  } catch {
    throw new Error(
      `GraphiQL's assets are neither in ${built} (\`npm run build\` puts them there) nor installed (@graphql-yoga/graphiql is a devDependency): build dist/ where the devDependencies are, or set GRAPHIQL_ENABLED=false`,
    );
  }
  return { dir: path.join(installed, 'dist'), ...readVersion(installed) };
}

function readVersion(dir: string): { version: string } {
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  return { version };
}

const JAVASCRIPT = 'text/javascript; charset=utf-8';

// Keyed by the path inside the package's dist/: the only files ever read or served. These are exactly what
// Yoga's own GraphiQL page loads from unpkg. The graphql worker's double dot is the package's real file name.
const ASSETS = new Map<string, string>(
  ASSET_FILES.map((file) => [file, file.endsWith('.css') ? 'text/css; charset=utf-8' : JAVASCRIPT]),
);

/** The URLs the GraphiQL page loads, all under `<basePath>/<version>/`. */
export function graphiqlAssetUrls(
  options: OfflineGraphiQLOptions = {},
  version = findGraphiQLAssets().version,
) {
  const prefix = versionedPrefix(options, version);
  return {
    script: `${prefix}yoga-graphiql.umd.js`,
    stylesheet: `${prefix}graphiql.css`,
    // Keyed by the labels Monaco passes to MonacoEnvironment.getWorkerUrl.
    workers: {
      editorWorkerService: `${prefix}monacoeditorwork/editor.worker.bundle.js`,
      json: `${prefix}monacoeditorwork/json.worker.bundle.js`,
      graphql: `${prefix}monacoeditorwork/graphql.worker..bundle.js`,
    },
  };
}

function normalizeBasePath(basePath = DEFAULT_GRAPHIQL_ASSETS_PATH): string {
  const trimmed = basePath.replace(/\/+$/, '');
  if (!trimmed.startsWith('/')) {
    throw new Error(`GraphiQL assets basePath must start with "/", got ${JSON.stringify(basePath)}`);
  }
  return trimmed;
}

// The version is part of every asset URL, so a new version is a new URL and the year-long caching holds.
function versionedPrefix(options: OfflineGraphiQLOptions, version: string): string {
  return `${normalizeBasePath(options.basePath)}/${version}/`;
}

type Encoding = 'br' | 'gzip';

interface Asset {
  contentType: string;
  body: Uint8Array<ArrayBuffer>;
  etag: string;
  encoded: Map<Encoding, Promise<Uint8Array<ArrayBuffer>>>;
}

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

// Brotli quality 11 takes ~13 s on the 5 MB bundle, which the first visitor would wait for; 9 takes ~1 s
// and is within 10% of its size.
function compress(body: Uint8Array, encoding: Encoding): Promise<Buffer> {
  if (encoding === 'gzip') return gzip(body, { level: 9 });
  return brotli(body, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 9,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength,
    },
  });
}

function toArrayBufferView(buffer: Buffer): Uint8Array<ArrayBuffer> {
  return new Uint8Array(buffer.buffer as ArrayBuffer, buffer.byteOffset, buffer.byteLength);
}

/** Picks the best encoding the client accepts (RFC 9110 Accept-Encoding, honouring `q=0`). */
function negotiateEncoding(acceptEncoding: string | null): Encoding | undefined {
  if (!acceptEncoding) return undefined;
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    weights.set(name.trim(), Number.isNaN(weight) ? 0 : weight);
  }
  const weightOf = (name: Encoding) => weights.get(name) ?? weights.get('*') ?? 0;
  const br = weightOf('br');
  const gz = weightOf('gzip');
  if (br > 0 && br >= gz) return 'br';
  if (gz > 0) return 'gzip';
  return undefined;
}

function etagFor(asset: Asset, encoding: Encoding | undefined): string {
  return encoding ? `"${asset.etag}-${encoding}"` : `"${asset.etag}"`;
}

// Every representation of an immutable asset is still fresh, so any of our tags for it means "not modified".
function matchesIfNoneMatch(header: string | null, asset: Asset): boolean {
  if (!header) return false;
  const current = [etagFor(asset, undefined), etagFor(asset, 'gzip'), etagFor(asset, 'br')];
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || current.includes(tag));
}

/**
 * Serves the GraphiQL bundle, stylesheet and Monaco workers from dist/ (or, unbuilt, from the installed
 * `@graphql-yoga/graphiql`), so the page from `renderGraphiQL` works with no internet access. Throws when
 * neither has them, so a server with GraphiQL on and no assets fails at start rather than at the first visit.
 */
export function useOfflineGraphiQL(options: OfflineGraphiQLOptions = {}): Plugin {
  const basePath = `${normalizeBasePath(options.basePath)}/`;
  const { dir: distDir, version } = findGraphiQLAssets();
  const prefix = versionedPrefix(options, version);
  // Per plugin instance, so tests and apps never share state; each file is read and hashed once, on first use.
  const loaded = new Map<string, Promise<Asset>>();

  function load(name: string, contentType: string): Promise<Asset> {
    let asset = loaded.get(name);
    if (!asset) {
      asset = readFile(path.join(distDir, name)).then((buffer) => ({
        contentType,
        body: toArrayBufferView(buffer),
        etag: createHash('sha256').update(buffer).digest('base64url').slice(0, 32),
        encoded: new Map(),
      }));
      // A failed read (package missing) must not be cached forever.
      asset.catch(() => loaded.delete(name));
      loaded.set(name, asset);
    }
    return asset;
  }

  function encoded(asset: Asset, encoding: Encoding): Promise<Uint8Array<ArrayBuffer>> {
    let body = asset.encoded.get(encoding);
    if (!body) {
      body = compress(asset.body, encoding).then(toArrayBufferView);
      body.catch(() => asset.encoded.delete(encoding));
      asset.encoded.set(encoding, body);
    }
    return body;
  }

  return {
    async onRequest({ request, url, fetchAPI, endResponse }) {
      if (!url.pathname.startsWith(basePath)) return;

      const contentType = url.pathname.startsWith(prefix)
        ? ASSETS.get(url.pathname.slice(prefix.length))
        : undefined;
      // Lookup is by exact string in the allow-list and never touches the file system with request input,
      // so `..`, encoded slashes and other versions all land here.
      if (contentType === undefined) {
        endResponse(new fetchAPI.Response('Not Found', { status: 404 }));
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(new fetchAPI.Response(null, { status: 405, headers: { Allow: 'GET, HEAD' } }));
        return;
      }

      const asset = await load(url.pathname.slice(prefix.length), contentType);
      const encoding = negotiateEncoding(request.headers.get('accept-encoding'));
      const headers: Record<string, string> = {
        'Cache-Control': 'public, max-age=31536000, immutable',
        ETag: etagFor(asset, encoding),
        Vary: 'Accept-Encoding',
      };
      if (matchesIfNoneMatch(request.headers.get('if-none-match'), asset)) {
        endResponse(new fetchAPI.Response(null, { status: 304, headers }));
        return;
      }

      const body = encoding ? await encoded(asset, encoding) : asset.body;
      headers['Content-Type'] = asset.contentType;
      headers['Content-Length'] = String(body.byteLength);
      if (encoding) headers['Content-Encoding'] = encoding;
      endResponse(new fetchAPI.Response(request.method === 'HEAD' ? null : body, { status: 200, headers }));
    },
  };
}
