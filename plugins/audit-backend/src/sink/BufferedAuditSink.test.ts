import { mockServices } from '@backstage/backend-test-utils';
import { AuditActor, AuditEvent } from '@internal/plugin-audit-common';
import { BufferedAuditSink } from './BufferedAuditSink';
import { AuditActorResolver, AuditEventWriter } from './types';

function event(
  n: number,
  actor: AuditActor = { kind: 'anonymous' },
): AuditEvent {
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    plugin: 'tester',
    eventId: 'thing-do',
    action: 'tester.thing-do',
    severity: 'low',
    outcome: 'succeeded',
    actor,
    entityRefs: [],
    meta: { n },
  };
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>(r => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A store that can be down, can hang, and records what it got. */
class FakeStore implements AuditEventWriter {
  batches: AuditEvent[][] = [];
  down = false;
  /** Fail this many writes, then work. */
  failNext = 0;
  hang?: Promise<void>;
  active = 0;
  maxActive = 0;
  calls = 0;
  #waiters: Array<{ count: number; resolve: () => void }> = [];

  get written() {
    return this.batches.flat();
  }

  async write(events: AuditEvent[]) {
    this.calls++;
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      if (this.hang) await this.hang;
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error('deadlock detected');
      }
      if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      this.batches.push([...events]);
      this.#waiters = this.#waiters.filter(w => {
        if (this.written.length < w.count) return true;
        w.resolve();
        return false;
      });
    } finally {
      this.active--;
    }
  }

  /** Resolves once `count` events are stored (the sink's own timer wrote them). */
  stored(count: number): Promise<void> {
    if (this.written.length >= count) return Promise.resolve();
    return new Promise(resolve => this.#waiters.push({ count, resolve }));
  }
}

function logger() {
  return mockServices.logger.mock();
}

// An hour: in these tests only flush() or a full batch writes.
const NEVER = 3_600_000;

const sinks: BufferedAuditSink[] = [];
function track(sink: BufferedAuditSink) {
  sinks.push(sink);
  return sink;
}

describe('BufferedAuditSink', () => {
  afterEach(async () => {
    // stop the retry timers; a hanging test store must not hold the run
    await Promise.all(sinks.splice(0).map(s => s.shutdown(0)));
  });

  it('keeps events until a writer is attached, then writes them in order', async () => {
    const sink = track(
      new BufferedAuditSink({ logger: logger(), flushIntervalMs: NEVER }),
    );
    sink.enqueue(event(1));
    sink.enqueue(event(2));
    await sink.flush();
    expect(sink.stats()).toEqual({ buffered: 2, dropped: 0, written: 0 });

    const store = new FakeStore();
    sink.attach(store);
    await sink.flush();
    expect(store.written.map(e => e.meta.n)).toEqual([1, 2]);
    expect(sink.stats()).toEqual({ buffered: 0, dropped: 0, written: 2 });
  });

  it('keeps a failed batch through an outage and writes everything once the store is back', async () => {
    const log = logger();
    const sink = track(
      new BufferedAuditSink({ logger: log, flushIntervalMs: NEVER }),
    );
    const store = new FakeStore();
    store.down = true;
    sink.attach(store);
    for (let n = 1; n <= 4; n++) sink.enqueue(event(n));

    await sink.flush();
    await sink.flush();
    expect(store.calls).toBe(2);
    expect(sink.stats()).toEqual({
      buffered: 4,
      dropped: 0,
      written: 0,
      lastError: 'connect ECONNREFUSED 127.0.0.1:5432',
    });
    expect(log.warn).toHaveBeenCalledWith(
      expect.stringContaining(
        'Could not store 4 audit events, retrying in 30000 ms: connect ECONNREFUSED',
      ),
    );

    sink.enqueue(event(5));
    store.down = false;
    await sink.flush();
    expect(store.written.map(e => e.meta.n)).toEqual([1, 2, 3, 4, 5]);
    expect(sink.stats()).toEqual({ buffered: 0, dropped: 0, written: 5 });
  });

  it('drops the newest events when full, counts them, and stores what it lost once writes work', async () => {
    const log = logger();
    let now = Date.parse('2026-01-01T10:00:00.000Z');
    const sink = track(
      new BufferedAuditSink({
        logger: log,
        maxEvents: 3,
        flushIntervalMs: NEVER,
        now: () => new Date(now),
      }),
    );
    const store = new FakeStore();
    store.down = true;
    sink.attach(store);
    for (let n = 1; n <= 5; n++) sink.enqueue(event(n));
    await sink.flush();
    expect(sink.stats()).toMatchObject({ buffered: 3, dropped: 2 });
    // at most one warning a minute, with the count
    expect(log.warn).toHaveBeenCalledTimes(2); // the drop and the write failure
    expect(log.warn).toHaveBeenCalledWith(
      expect.stringContaining(
        'Audit buffer is full (3 events waiting for the database): dropped 1 audit events since 2026-01-01T10:00:00.000Z',
      ),
    );
    now += 30_000;
    sink.enqueue(event(6));
    expect(log.warn).toHaveBeenCalledTimes(2);
    now += 31_000;
    sink.enqueue(event(7));
    expect(log.warn).toHaveBeenCalledTimes(3);
    expect(log.warn).toHaveBeenLastCalledWith(
      expect.stringContaining(
        'dropped 4 audit events since 2026-01-01T10:00:00.000Z',
      ),
    );

    store.down = false;
    await sink.flush();
    expect(store.written.slice(0, 3).map(e => e.meta.n)).toEqual([1, 2, 3]);
    const lost = store.written[3];
    expect(lost).toMatchObject({
      plugin: 'audit',
      eventId: 'events-dropped',
      action: 'audit.events-dropped',
      severity: 'high',
      outcome: 'failed',
      actor: { kind: 'plugin', plugin: 'audit' },
      entityRefs: [],
      meta: { dropped: 4, since: '2026-01-01T10:00:00.000Z' },
    });
    expect(sink.stats()).toEqual({ buffered: 0, dropped: 4, written: 4 });

    // reported once: the next write adds no second events-dropped event
    sink.enqueue(event(8));
    await sink.flush();
    expect(store.written.map(e => e.eventId)).toEqual([
      'thing-do',
      'thing-do',
      'thing-do',
      'events-dropped',
      'thing-do',
    ]);
  });

  it('returns from enqueue at once while a write hangs, and writes one batch at a time', async () => {
    const sink = track(
      new BufferedAuditSink({
        logger: logger(),
        flushIntervalMs: NEVER,
        batchSize: 2,
      }),
    );
    const store = new FakeStore();
    const release = deferred();
    store.hang = release.promise;
    sink.attach(store);
    sink.enqueue(event(1));
    sink.enqueue(event(2));
    const flushing = sink.flush();
    const second = sink.flush();
    for (let n = 3; n <= 6; n++) sink.enqueue(event(n));
    expect(sink.stats()).toMatchObject({ buffered: 6, written: 0 });

    release.resolve();
    store.hang = undefined;
    await Promise.all([flushing, second]);
    expect(store.maxActive).toBe(1);
    expect(store.batches.map(b => b.map(e => e.meta.n))).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
  });

  it('writes on its own: at the flush interval, at a full batch, and retrying after a failure', async () => {
    const byTimer = track(
      new BufferedAuditSink({ logger: logger(), flushIntervalMs: 1 }),
    );
    const timerStore = new FakeStore();
    byTimer.attach(timerStore);
    byTimer.enqueue(event(1));
    await timerStore.stored(1);

    const byBatch = track(
      new BufferedAuditSink({
        logger: logger(),
        flushIntervalMs: NEVER,
        batchSize: 3,
      }),
    );
    const batchStore = new FakeStore();
    byBatch.attach(batchStore);
    for (let n = 1; n <= 3; n++) byBatch.enqueue(event(n));
    await batchStore.stored(3);
    expect(batchStore.batches).toHaveLength(1);

    const retrying = track(
      new BufferedAuditSink({
        logger: logger(),
        flushIntervalMs: 1,
        maxBackoffMs: 2,
      }),
    );
    const flaky = new FakeStore();
    flaky.failNext = 2;
    retrying.attach(flaky);
    retrying.enqueue(event(1));
    // two attempts fail, the backoff timer retries until the third works
    await flaky.stored(1);
    expect(flaky.calls).toBe(3);
    await retrying.flush();
    expect(retrying.stats()).toEqual({ buffered: 0, dropped: 0, written: 1 });
  });

  it('completes actors with the resolver before writing, one lookup per actor, failures leave them as they are', async () => {
    const alice: AuditActor = {
      kind: 'person',
      entityRef: 'user:default/alice',
    };
    const bob: AuditActor = { kind: 'person', entityRef: 'user:default/bob' };
    const calls: string[] = [];
    const resolver: AuditActorResolver = {
      complete: async actor => {
        calls.push(actor.entityRef ?? actor.kind);
        if (actor.entityRef === 'user:default/bob') {
          throw new Error('catalog unavailable');
        }
        return actor.entityRef
          ? { ...actor, oid: 'oid-alice', tid: 'tid-1' }
          : actor;
      },
    };
    const sink = track(
      new BufferedAuditSink({ logger: logger(), flushIntervalMs: NEVER }),
    );
    const store = new FakeStore();
    sink.attach(store, resolver);
    sink.enqueue(event(1, alice));
    sink.enqueue(event(2, bob));
    sink.enqueue(event(3, alice));
    sink.enqueue(event(4));
    await sink.flush();
    expect(calls.sort()).toEqual([
      'anonymous',
      'user:default/alice',
      'user:default/bob',
    ]);
    expect(store.written.map(e => e.actor)).toEqual([
      { ...alice, oid: 'oid-alice', tid: 'tid-1' },
      bob,
      { ...alice, oid: 'oid-alice', tid: 'tid-1' },
      { kind: 'anonymous' },
    ]);
  });

  it('stores the actor as it is when the resolver does not answer in time', async () => {
    const sink = track(
      new BufferedAuditSink({
        logger: logger(),
        flushIntervalMs: NEVER,
        resolveTimeoutMs: 1,
      }),
    );
    const store = new FakeStore();
    sink.attach(store, { complete: () => new Promise<AuditActor>(() => {}) });
    const alice: AuditActor = {
      kind: 'person',
      entityRef: 'user:default/alice',
    };
    sink.enqueue(event(1, alice));
    await sink.flush();
    expect(store.written.map(e => e.actor)).toEqual([alice]);
  });

  it('never throws from enqueue, even when logging the overflow fails', () => {
    const log = logger();
    log.warn.mockImplementation(() => {
      throw new Error('log transport closed');
    });
    const sink = track(
      new BufferedAuditSink({
        logger: log,
        maxEvents: 1,
        flushIntervalMs: NEVER,
      }),
    );
    sink.enqueue(event(1));
    expect(() => sink.enqueue(event(2))).not.toThrow();
    expect(sink.stats()).toMatchObject({ buffered: 1, dropped: 1 });
  });

  it('reads audit.buffer from config and refuses values that are not positive whole numbers', async () => {
    const sink = BufferedAuditSink.fromConfig(
      mockServices.rootConfig({
        data: { audit: { buffer: { maxEvents: 2, flushIntervalMs: NEVER } } },
      }),
      { logger: logger() },
    );
    for (let n = 1; n <= 3; n++) sink.enqueue(event(n));
    expect(sink.stats()).toMatchObject({ buffered: 2, dropped: 1 });

    expect(() =>
      BufferedAuditSink.fromConfig(
        mockServices.rootConfig({
          data: { audit: { buffer: { maxEvents: 0 } } },
        }),
        { logger: logger() },
      ),
    ).toThrow(
      "The configuration value for 'audit.buffer.maxEvents' must be a positive whole number, got 0",
    );
  });

  it('delivers what is left at shutdown, without waiting for actor lookups', async () => {
    const sink = track(
      new BufferedAuditSink({ logger: logger(), flushIntervalMs: NEVER }),
    );
    const store = new FakeStore();
    const complete = jest.fn(() => new Promise<AuditActor>(() => {}));
    sink.attach(store, { complete });
    const alice: AuditActor = {
      kind: 'person',
      entityRef: 'user:default/alice',
    };
    sink.enqueue(event(1, alice));
    await sink.shutdown();
    expect(store.written.map(e => e.actor)).toEqual([alice]);
    expect(complete).not.toHaveBeenCalled();
  });

  it('tells at shutdown how many events it could not write', async () => {
    const log = logger();
    const sink = track(
      new BufferedAuditSink({ logger: log, flushIntervalMs: NEVER }),
    );
    const store = new FakeStore();
    store.down = true;
    sink.attach(store);
    sink.enqueue(event(1));
    sink.enqueue(event(2));
    await sink.shutdown();
    expect(log.warn).toHaveBeenLastCalledWith(
      'Audit sink stopped with 2 events not written: connect ECONNREFUSED 127.0.0.1:5432',
    );
  });
});
