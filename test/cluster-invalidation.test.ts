import type { Cluster, Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  createClusterInvalidation,
  relayClusterInvalidations,
  type WorkerChannel,
} from '../src/records/cluster-invalidation.ts';

// The IPC of a cluster in one process: each fake worker is both the primary's Worker and the worker's `process`.
function fakeCluster() {
  const primary = new EventEmitter();
  const workers: Record<string, Worker> = {};
  const channels: WorkerChannel[] = [];
  const addWorker = (id: number, options: { deaf?: boolean } = {}) => {
    const inWorker = new EventEmitter();
    const worker = {
      isConnected: () => true,
      send(message: unknown) {
        if (!options.deaf) queueMicrotask(() => inWorker.emit('message', message));
        return true;
      },
    } as unknown as Worker;
    workers[id] = worker;
    const channel: WorkerChannel = {
      send(message) {
        queueMicrotask(() => primary.emit('message', worker, message));
        return true;
      },
      on: (event, listener) => inWorker.on(event, listener),
      off: (event, listener) => inWorker.off(event, listener),
    };
    channels.push(channel);
    return { worker, channel };
  };
  const cluster = Object.assign(primary, { workers }) as unknown as Cluster;
  return { cluster, addWorker };
}

describe('invalidation across cluster workers', () => {
  it('drops the records in every worker before the asking worker is answered', async () => {
    const { cluster, addWorker } = fakeCluster();
    relayClusterInvalidations(cluster);
    const dropped: string[][] = [[], []];
    const first = addWorker(1);
    const second = addWorker(2);
    const invalidate = createClusterInvalidation(first.channel, async (sids) => {
      dropped[0]?.push(...sids);
    });
    createClusterInvalidation(second.channel, async (sids) => {
      dropped[1]?.push(...sids);
    });
    await invalidate(['c02a73b2-8401-459a-af7e-f4cc3eee7854']);
    expect(dropped).toEqual([
      ['c02a73b2-8401-459a-af7e-f4cc3eee7854'],
      ['c02a73b2-8401-459a-af7e-f4cc3eee7854'],
    ]);
  });

  it('fails, after a bounded wait, when a worker does not confirm', async () => {
    const { cluster, addWorker } = fakeCluster();
    relayClusterInvalidations(cluster, 20);
    const first = addWorker(1);
    addWorker(2, { deaf: true });
    const invalidate = createClusterInvalidation(first.channel, async () => {}, 20);
    await expect(invalidate(['c02a73b2-8401-459a-af7e-f4cc3eee7854'])).rejects.toThrow(
      '1 worker(s) did not confirm the invalidation',
    );
  });

  it('fails, after a bounded wait, when the primary does not answer', async () => {
    const channel: WorkerChannel = { send: () => true, on: () => {}, off: () => {} };
    const invalidate = createClusterInvalidation(channel, async () => {}, 10);
    await expect(invalidate(['c02a73b2-8401-459a-af7e-f4cc3eee7854'])).rejects.toThrow(
      'the cluster primary did not confirm the invalidation',
    );
  });
});
