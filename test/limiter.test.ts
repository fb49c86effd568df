import { describe, expect, it } from 'vitest';
import { createLimiter, LimiterFullError } from '../src/limiter.ts';

/** A task that finishes when the test says so. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, task: () => opened };
}
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the limiter', () => {
  it('runs at most max tasks at once and starts the waiting ones in order', async () => {
    const limiter = createLimiter(2);
    const started: number[] = [];
    const gates = [0, 1, 2, 3].map(() => gate());
    const runs = gates.map((g, i) =>
      limiter.run(() => {
        started.push(i);
        return g.task();
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    expect([limiter.active, limiter.queued]).toEqual([2, 2]);
    gates[1]?.open();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    await Promise.all(runs);
    expect([limiter.active, limiter.queued]).toEqual([0, 0]);
  });

  it('refuses a task when every slot is taken and the queue is full', async () => {
    const limiter = createLimiter(1, { maxQueued: 1 });
    const g = gate();
    const running = limiter.run(g.task);
    const waiting = limiter.run(async () => 'second');
    await expect(limiter.run(async () => 'third')).rejects.toBeInstanceOf(LimiterFullError);
    g.open();
    await running;
    await expect(waiting).resolves.toBe('second');
  });

  it('lets a waiter give up with its signal, and hands the freed slot to the next one at once', async () => {
    const limiter = createLimiter(1);
    const g = gate();
    const first = limiter.run(g.task);
    const leaving = new AbortController();
    const gone = limiter.run(async () => 'never', { signal: leaving.signal });
    let thirdStarted = false;
    const third = limiter.run(async () => {
      thirdStarted = true;
    });
    leaving.abort(new Error('caller left'));
    await expect(gone).rejects.toThrow('caller left');
    expect(limiter.queued).toBe(1);
    g.open();
    await first;
    await third;
    expect(thirdStarted).toBe(true);
  });

  it('gives up a wait when its time runs out, with the reason it was given, and counts refusals', async () => {
    let refused = 0;
    const limiter = createLimiter(1, { maxQueued: 1, onFull: () => refused++ });
    const g = gate();
    const first = limiter.run(g.task);
    const late = limiter.run(async () => 'never', {
      until: performance.now() + 20,
      expired: () => new Error('deadline'),
    });
    await expect(limiter.run(async () => 'refused')).rejects.toBeInstanceOf(LimiterFullError);
    expect(refused).toBe(1);
    await expect(late).rejects.toThrow('deadline');
    expect(limiter.queued).toBe(0);
    g.open();
    await first;
  });

  it('frees the slot of a task that throws synchronously or rejects', async () => {
    const limiter = createLimiter(1);
    await expect(
      limiter.run(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    await expect(limiter.run(() => Promise.reject(new Error('async')))).rejects.toThrow('async');
    await expect(limiter.run(async () => 'ok')).resolves.toBe('ok');
    expect(limiter.active).toBe(0);
  });

  it('starts waiters at once when its limit is raised, and holds new tasks back when it is lowered', async () => {
    const limiter = createLimiter(1);
    const gates = [0, 1, 2, 3].map(() => gate());
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      limiter.run(() => {
        started.push(i);
        return g.task();
      }),
    );
    expect(started).toEqual([0]);
    limiter.max = 3;
    expect(started).toEqual([0, 1, 2]);
    limiter.max = 1;
    // Three run under a limit of one: the first two to finish free no slot.
    gates[0]?.open();
    gates[1]?.open();
    await tick();
    expect([limiter.active, limiter.queued, started.length]).toEqual([1, 1, 3]);
    gates[2]?.open();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    gates[3]?.open();
    await Promise.all(runs);
  });
});

describe('the limiter shared between owners (maxShare)', () => {
  /** Runs a task of `owner` that ends when its gate opens, recording its start. */
  function runner(limiter: ReturnType<typeof createLimiter>, started: string[]) {
    return (owner: string, name: string) => {
      const g = gate();
      const run = limiter.run(
        () => {
          started.push(name);
          return g.task();
        },
        undefined,
        owner,
      );
      return { ...g, run };
    };
  }

  it('lets one owner alone use every slot', async () => {
    const limiter = createLimiter(4, { maxShare: 0.5 });
    const started: string[] = [];
    const run = runner(limiter, started);
    const tasks = [1, 2, 3, 4, 5].map((i) => run('flood', `flood-${i}`));
    expect(started).toEqual(['flood-1', 'flood-2', 'flood-3', 'flood-4']);
    tasks[0]?.open();
    await tick();
    // Nobody else waits: the freed slot goes to the same owner's next task.
    expect(started).toContain('flood-5');
    for (const t of tasks) t.open();
    await Promise.all(tasks.map((t) => t.run));
  });

  it("gives a freed slot to another owner's waiter before more of an owner holding its share", async () => {
    const limiter = createLimiter(4, { maxShare: 0.5 });
    const started: string[] = [];
    const run = runner(limiter, started);
    const flood = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => run('flood', `flood-${i}`));
    const other = run('other', 'other-1');
    expect([limiter.active, limiter.queued]).toEqual([4, 5]);
    flood[0]?.open();
    await tick();
    // Four flood tasks were queued ahead of it, but the flooder holds three slots, over its share of two.
    expect(started.at(-1)).toBe('other-1');
    flood[1]?.open();
    await tick();
    // At its share while the other runs: the freed slot stays free for the other's next task.
    expect([limiter.active, limiter.queued, started.at(-1)]).toEqual([3, 4, 'other-1']);
    flood[2]?.open();
    await tick();
    expect(started.at(-1)).toBe('flood-5');
    for (const t of flood) t.open();
    other.open();
    await Promise.all([...flood.map((t) => t.run), other.run]);
    expect([limiter.active, limiter.queued]).toEqual([0, 0]);
  });

  it('keeps an owner at its share from taking a slot another active owner freed, so the other finds it free', async () => {
    // The window is longer than any test: here it never passes.
    const limiter = createLimiter(4, { maxShare: 0.5, activeWindowMs: 60_000 });
    const started: string[] = [];
    const run = runner(limiter, started);
    const first = run('other', 'other-1');
    const flood = [1, 2, 3, 4].map((i) => run('flood', `flood-${i}`));
    // Two slots are the flooder's share; the fourth slot stays free beside its waiters.
    expect(started).toEqual(['other-1', 'flood-1', 'flood-2']);
    expect([limiter.active, limiter.queued]).toEqual([3, 2]);
    first.open();
    await first.run;
    await tick();
    // The other is between two requests, holding nothing: its freed slot is not the flooder's either.
    expect([limiter.active, limiter.queued]).toEqual([2, 2]);
    const second = run('other', 'other-2');
    expect(started.at(-1)).toBe('other-2');
    second.open();
    // Its own slots freed, the flooder gets its share back.
    flood[0]?.open();
    await tick();
    expect(started.at(-1)).toBe('flood-3');
    for (const t of flood) t.open();
    await Promise.all(flood.map((t) => t.run));
    expect([limiter.active, limiter.queued]).toEqual([0, 0]);
  });

  it("gives an owner the whole limit again once another owner's window has passed", async () => {
    const windowMs = 100;
    const limiter = createLimiter(4, { maxShare: 0.5, activeWindowMs: windowMs });
    const started: string[] = [];
    const run = runner(limiter, started);
    const other = run('other', 'other-1');
    const flood = [1, 2, 3].map((i) => run('flood', `flood-${i}`));
    other.open();
    await other.run;
    const idleAt = performance.now();
    await tick();
    expect(started).toEqual(['other-1', 'flood-1', 'flood-2']);
    // Nothing else happens: the limiter itself starts the waiter once the window is over.
    while (!started.includes('flood-3')) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(performance.now() - idleAt).toBeGreaterThanOrEqual(windowMs - 1);
    for (const t of flood) t.open();
    await Promise.all(flood.map((t) => t.run));
  });

  it('lets a waiter held back beside a free slot give up on its signal or its deadline', async () => {
    const limiter = createLimiter(4, { maxShare: 0.5, activeWindowMs: 60_000 });
    const started: string[] = [];
    const run = runner(limiter, started);
    const other = run('other', 'other-1');
    const flood = [1, 2].map((i) => run('flood', `flood-${i}`));
    const leaving = new AbortController();
    const gone = limiter.run(async () => 'never', { signal: leaving.signal }, 'flood');
    const late = limiter.run(
      async () => 'never',
      { until: performance.now() + 20, expired: () => new Error('deadline') },
      'flood',
    );
    expect([limiter.active, limiter.queued]).toEqual([3, 2]);
    leaving.abort(new Error('caller left'));
    await expect(gone).rejects.toThrow('caller left');
    await expect(late).rejects.toThrow('deadline');
    expect(limiter.queued).toBe(0);
    for (const t of [other, ...flood]) t.open();
    await Promise.all([other.run, ...flood.map((t) => t.run)]);
  });

  it("refuses the flooder's newest waiter rather than another owner's task when the queue is full", async () => {
    let refused = 0;
    const limiter = createLimiter(2, { maxShare: 0.5, maxQueued: 4, onFull: () => refused++ });
    const started: string[] = [];
    const run = runner(limiter, started);
    const flood = [1, 2, 3, 4, 5, 6].map((i) => run('flood', `flood-${i}`));
    const overflow = run('flood', 'flood-7');
    await expect(overflow.run).rejects.toBeInstanceOf(LimiterFullError);
    const other = run('other', 'other-1');
    // The flooder's last waiter makes room for it.
    await expect(flood[5]?.run).rejects.toBeInstanceOf(LimiterFullError);
    expect([limiter.queued, refused]).toEqual([4, 2]);
    // The flooder still holds one slot, its share: the freed one goes to the other, behind its three waiters.
    flood[0]?.open();
    await tick();
    expect(started.at(-1)).toBe('other-1');
    flood[1]?.open();
    await tick();
    expect(started.at(-1)).toBe('flood-3');
    for (const t of [...flood, other]) t.open();
    await Promise.all([...flood.slice(0, 5).map((t) => t.run), other.run]);
  });

  it('serves waiters first come, first served when the share is 1', async () => {
    const limiter = createLimiter(2, { maxShare: 1 });
    const started: string[] = [];
    const run = runner(limiter, started);
    const flood = [1, 2, 3].map((i) => run('flood', `flood-${i}`));
    const other = run('other', 'other-1');
    flood[0]?.open();
    await tick();
    expect(started.at(-1)).toBe('flood-3');
    for (const t of [...flood, other]) t.open();
    await Promise.all([...flood.map((t) => t.run), other.run]);
  });
});
