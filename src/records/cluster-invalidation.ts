import type { Cluster, Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';

// With WEB_CONCURRENCY and the in-process store, each worker holds its own entries: an invalidation received by
// one worker must reach the others. The receiving worker asks its primary, which tells every live worker
// (the receiver too) to drop the records and answers once each one has, or when the wait ends.

/** The longest an invalidation waits for every worker's confirmation. */
export const CLUSTER_INVALIDATION_WAIT_MS = 5_000;

const ASK = 'cdr-cache:invalidate';
const ANSWER = 'cdr-cache:invalidated';
const DROP = 'cdr-cache:drop';
const DROPPED = 'cdr-cache:dropped';

interface Message {
  type?: unknown;
  id?: unknown;
  drSids?: unknown;
  ok?: unknown;
  unconfirmed?: unknown;
}

const isMessage = (value: unknown): value is Message => typeof value === 'object' && value !== null;
const isSidList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((sid) => typeof sid === 'string');

/**
 * In the primary: relays each worker's invalidation to every live worker and answers the asking worker when all
 * have confirmed (a worker that exits meanwhile took its entries with it), or after `waitMs` with how many did
 * not. Other cluster messages (prom-client's) are left alone.
 */
export function relayClusterInvalidations(
  cluster: Pick<Cluster, 'on' | 'off' | 'workers'>,
  waitMs = CLUSTER_INVALIDATION_WAIT_MS,
): void {
  const pending = new Map<string, { waiting: Set<Worker>; done(): void }>();

  cluster.on('message', (from: Worker, message: unknown) => {
    if (!isMessage(message) || typeof message.id !== 'string') return;
    if (message.type === DROPPED) {
      const round = pending.get(message.id);
      round?.waiting.delete(from);
      if (round && round.waiting.size === 0) round.done();
      return;
    }
    if (message.type !== ASK || !isSidList(message.drSids)) return;
    const id = message.id;
    const waiting = new Set(
      Object.values(cluster.workers ?? {}).filter((w): w is Worker => w?.isConnected() === true),
    );
    const timer = setTimeout(() => finish(), waitMs);
    const onExit = (worker: Worker) => {
      waiting.delete(worker);
      if (waiting.size === 0) finish();
    };
    const finish = () => {
      if (!pending.delete(id)) return;
      clearTimeout(timer);
      cluster.off('exit', onExit);
      if (from.isConnected()) {
        from.send({ type: ANSWER, id, ok: waiting.size === 0, unconfirmed: waiting.size });
      }
    };
    pending.set(id, { waiting, done: finish });
    cluster.on('exit', onExit);
    for (const worker of waiting) worker.send({ type: DROP, id, drSids: message.drSids });
  });
}

/** The worker's side of the IPC channel: `process` in a cluster worker. */
export interface WorkerChannel {
  send?: ((message: unknown) => boolean) | undefined;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * In a worker: drops the primary's relayed invalidations with `dropLocal`, and returns the invalidation the
 * cache's endpoint calls: it resolves once every worker has dropped the records, and rejects when the primary
 * does not answer within `waitMs` or some worker did not confirm.
 */
export function createClusterInvalidation(
  channel: WorkerChannel,
  dropLocal: (drSids: readonly string[]) => Promise<void>,
  waitMs = CLUSTER_INVALIDATION_WAIT_MS,
): (drSids: readonly string[]) => Promise<void> {
  const send = (message: unknown) => {
    if (!channel.send) throw new Error('not a cluster worker: no channel to the primary');
    channel.send(message);
  };
  channel.on('message', (message) => {
    if (!isMessage(message) || message.type !== DROP || typeof message.id !== 'string') return;
    if (!isSidList(message.drSids)) return;
    const id = message.id;
    void dropLocal(message.drSids).then(
      () => send({ type: DROPPED, id }),
      // Not confirmed: the primary's wait ends and the asking worker reports the failure.
      () => {},
    );
  });

  return (drSids) =>
    new Promise<void>((resolve, reject) => {
      const id = randomUUID();
      // A little longer than the primary's own wait, which answers with what it has by then.
      const timer = setTimeout(() => {
        channel.off('message', onMessage);
        reject(new Error('the cluster primary did not confirm the invalidation'));
      }, waitMs + 1_000);
      const onMessage = (message: unknown) => {
        if (!isMessage(message) || message.type !== ANSWER || message.id !== id) return;
        clearTimeout(timer);
        channel.off('message', onMessage);
        if (message.ok === true) resolve();
        else reject(new Error(`${String(message.unconfirmed)} worker(s) did not confirm the invalidation`));
      };
      channel.on('message', onMessage);
      try {
        send({ type: ASK, id, drSids: [...drSids] });
      } catch (error) {
        clearTimeout(timer);
        channel.off('message', onMessage);
        reject(error);
      }
    });
}
