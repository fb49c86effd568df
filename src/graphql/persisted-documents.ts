import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Kind, parse } from 'graphql';

/** The documents a deployment trusts, by the lower-case hex sha256 of their text. */
export type PersistedDocuments = ReadonlyMap<string, string>;

/** A sha256 hash as the manifests and clients spell it: 64 hex digits, optionally prefixed `sha256:`. */
const DOCUMENT_ID = /^(?:sha256:)?([0-9a-fA-F]{64})$/;

/** The hex sha256 of a document's text, as GraphQL Code Generator's client preset and Apollo clients compute it. */
export function documentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The hash an id names (`sha256:<hex>` or `<hex>`), lower case; undefined when it is not a sha256 id. */
export function hashOfDocumentId(id: string): string | undefined {
  return DOCUMENT_ID.exec(id)?.[1]?.toLowerCase();
}

/**
 * Reads persisted-documents manifests: JSON objects of `"sha256:<hex>": "<document>"`, as the client preset of
 * GraphQL Code Generator writes them (`persistedDocuments: { hashAlgorithm: 'sha256' }`). Every entry is checked
 * here, once, at startup: a key that is not a sha256 id, a hash that is not the hash of its document (a manifest
 * edited by hand or from another build), or a document that does not parse is an error naming the file and key,
 * rather than a document no client can ever run.
 */
export function readPersistedDocuments(paths: readonly string[]): PersistedDocuments {
  const documents = new Map<string, string>();
  for (const file of paths) {
    const where = path.resolve(file);
    let manifest: unknown;
    try {
      manifest = JSON.parse(readFileSync(where, 'utf8'));
    } catch (error) {
      const reason =
        (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not readable JSON';
      throw new Error(`${file}: ${reason}`);
    }
    if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
      throw new Error(
        `${file}: not a persisted-documents manifest (a JSON object of "sha256:<hash>": document)`,
      );
    }
    for (const [id, text] of Object.entries(manifest)) {
      const hash = hashOfDocumentId(id);
      const key = JSON.stringify(id.slice(0, 80));
      if (hash === undefined) throw new Error(`${file}: ${key} is not a sha256 document id`);
      if (typeof text !== 'string') throw new Error(`${file}: the document of ${key} is not a string`);
      if (documentHash(text) !== hash) throw new Error(`${file}: ${key} is not the sha256 of its document`);
      try {
        parse(text);
      } catch {
        throw new Error(`${file}: the document of ${key} is not valid GraphQL`);
      }
      documents.set(hash, text);
    }
  }
  return documents;
}

/** The names of the operations the documents define (their metrics get a label each, src/telemetry/metrics.ts). */
export function operationNamesOf(documents: PersistedDocuments): Set<string> {
  const names = new Set<string>();
  for (const text of documents.values()) {
    for (const definition of parse(text).definitions) {
      if (definition.kind === Kind.OPERATION_DEFINITION && definition.name) names.add(definition.name.value);
    }
  }
  return names;
}

/** Documents registered by automatic persisted queries, by hex sha256; the least recently used go first. */
export interface RegisteredDocuments {
  get(hash: string): string | undefined;
  set(hash: string, text: string): void;
  readonly size: number;
}

/**
 * The store automatic persisted queries register into (src/graphql/plugins/use-persisted-documents.ts): a
 * least-recently-used map of at most `maxEntries` documents, in this process. Each document has passed the
 * query limits (MAX_QUERY_LENGTH), so the bound is a memory bound. Per process, not in the record cache's
 * store: a document another process has not seen costs its client one more round trip there (NOT_FOUND, then
 * the text), which is what Apollo's and urql's links do anyway, and no document text travels to Redis.
 */
export function createRegisteredDocuments(maxEntries: number): RegisteredDocuments {
  const documents = new Map<string, string>();
  return {
    get(hash) {
      const text = documents.get(hash);
      if (text !== undefined) {
        // A Map iterates in insertion order: re-inserting makes it the most recently used.
        documents.delete(hash);
        documents.set(hash, text);
      }
      return text;
    },
    set(hash, text) {
      documents.delete(hash);
      documents.set(hash, text);
      if (documents.size > maxEntries) {
        const oldest = documents.keys().next().value as string;
        documents.delete(oldest);
      }
    },
    get size() {
      return documents.size;
    },
  };
}
