import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, realpathSync, watch } from 'node:fs';
import path from 'node:path';
import { Kind, parse } from 'graphql';
import type { Logger } from '../telemetry/logger.ts';

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

/** A manifest's text as read from its file; throws an error naming the file when it cannot be read. */
function readManifest(file: string): string {
  try {
    return readFileSync(path.resolve(file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`${file}: ${code === 'ENOENT' ? 'no such file' : `not readable (${code ?? 'error'})`}`);
  }
}

/** The documents of manifests already read, each entry checked (see readPersistedDocuments). */
function documentsOf(manifests: readonly { file: string; text: string }[]): PersistedDocuments {
  const documents = new Map<string, string>();
  for (const { file, text: json } of manifests) {
    let manifest: unknown;
    try {
      manifest = JSON.parse(json);
    } catch {
      throw new Error(`${file}: not readable JSON`);
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

/**
 * Reads persisted-documents manifests: JSON objects of `"sha256:<hex>": "<document>"`, as the client preset of
 * GraphQL Code Generator writes them (`persistedDocuments: { hashAlgorithm: 'sha256' }`). Every entry is checked
 * here, once per read: a key that is not a sha256 id, a hash that is not the hash of its document (a manifest
 * edited by hand or from another build), or a document that does not parse is an error naming the file and key,
 * rather than a document no client can ever run.
 */
export function readPersistedDocuments(paths: readonly string[]): PersistedDocuments {
  return documentsOf(paths.map((file) => ({ file, text: readManifest(file) })));
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

/** What sets a reload off: an operator's signal, or a manifest's directory changing. */
export type ReloadTrigger = 'SIGHUP' | 'file change';

/** The persisted documents in force, replaced whole when the manifests are read again. */
export interface LivePersistedDocuments {
  /** The set in force. A request reads it once and keeps it: it sees the old set or the new, never half of each. */
  current(): PersistedDocuments;
  /**
   * Reads the manifests again and puts their documents in force, all at once. A manifest that cannot be read or
   * fails a check keeps the set in force and logs one warning naming the file and the problem. True when the
   * set in force changed.
   */
  reload(trigger: ReloadTrigger): boolean;
  /** Hears each change of the set in force, once it is in force. */
  onChange(listener: (documents: PersistedDocuments) => void): void;
  /** Reloads when a manifest's directory changes (debounced); returns what stops watching. */
  watch(debounceMs?: number): () => void;
}

export interface LivePersistedDocumentsOptions {
  /** The manifests' paths (PERSISTED_DOCUMENTS). */
  paths: readonly string[];
  /** Their documents as read at startup. */
  documents: PersistedDocuments;
  /** PERSISTED_DOCUMENTS_ONLY: a reload to no documents at all would refuse every operation, and is refused. */
  only: boolean;
  logger: Logger;
}

/**
 * An editor saves in several steps (vim: rename the old file, write the new, delete the backup), codegen writes
 * its files one by one, and Kubernetes swaps a ConfigMap's directory link: one reload once they have settled.
 */
const RELOAD_DEBOUNCE_MS = 200;

/** Whether two sets hold the same documents (a document is its hash: same hashes, same texts). */
function sameDocuments(a: PersistedDocuments, b: PersistedDocuments): boolean {
  if (a.size !== b.size) return false;
  for (const hash of a.keys()) if (!b.has(hash)) return false;
  return true;
}

/**
 * The manifests' documents, reloadable without a restart (SIGHUP, or a file change with `watch`). A reload that
 * fails changes nothing: the documents in force stay in force, and the warning says what to fix.
 */
export function createLivePersistedDocuments(options: LivePersistedDocumentsOptions): LivePersistedDocuments {
  const { paths, only, logger } = options;
  let documents = options.documents;
  const listeners: ((documents: PersistedDocuments) => void)[] = [];
  // The last failure reported: a file change that leaves the same problem (another file written in the same
  // directory, the editor's next step) is not reported again.
  let lastProblem: string | undefined;

  function reload(trigger: ReloadTrigger): boolean {
    let next: PersistedDocuments;
    try {
      next = readPersistedDocuments(paths);
      if (only && next.size === 0) {
        throw new Error(
          'the manifests hold no document, and PERSISTED_DOCUMENTS_ONLY would refuse every operation',
        );
      }
    } catch (error) {
      const problem = (error as Error).message;
      if (trigger === 'SIGHUP' || problem !== lastProblem) {
        logger.warn(
          { trigger, problem, documents: documents.size },
          `persisted documents not reloaded, the ${documents.size} in force stay: ${problem}`,
        );
      }
      lastProblem = problem;
      return false;
    }
    lastProblem = undefined;
    if (sameDocuments(documents, next)) {
      // A directory event is often not about the manifest at all: only an operator's signal is answered.
      if (trigger === 'SIGHUP')
        logger.info({ trigger, documents: next.size }, 'persisted documents unchanged');
      return false;
    }
    let added = 0;
    for (const hash of next.keys()) if (!documents.has(hash)) added++;
    const removed = documents.size + added - next.size;
    documents = next;
    for (const listener of listeners) listener(next);
    logger.info({ trigger, documents: next.size, added, removed }, 'persisted documents reloaded');
    return true;
  }

  function watchManifests(debounceMs = RELOAD_DEBOUNCE_MS): () => void {
    let timer: NodeJS.Timeout | undefined;
    const changed = () => {
      clearTimeout(timer);
      timer = setTimeout(() => reload('file change'), debounceMs);
      timer.unref();
    };
    // The directories, not the files: an editor or a ConfigMap that replaces a file leaves a watch on the old
    // one hearing nothing more. What changed is not judged by name (a ConfigMap's link is not the manifest's
    // name): the reload reads the manifests, and a set that did not change is no change. A manifest that is a
    // link is watched where it is named and where its file is.
    const directories = new Set<string>();
    for (const file of paths) {
      directories.add(path.dirname(path.resolve(file)));
      try {
        directories.add(path.dirname(realpathSync(file)));
      } catch {
        // Gone since startup: its own directory is watched for its return.
      }
    }
    const watchers: FSWatcher[] = [];
    for (const directory of directories) {
      try {
        const watcher = watch(directory, { persistent: false }, changed);
        watcher.on('error', (error) => {
          logger.warn(
            { directory, err: error },
            'stopped watching a persisted-documents manifest directory: SIGHUP still reloads the manifests',
          );
          watcher.close();
        });
        watchers.push(watcher);
      } catch (error) {
        logger.warn(
          { directory, err: error },
          'cannot watch a persisted-documents manifest directory: SIGHUP still reloads the manifests',
        );
      }
    }
    return () => {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    };
  }

  return {
    current: () => documents,
    reload,
    onChange(listener) {
      listeners.push(listener);
    },
    watch: watchManifests,
  };
}
