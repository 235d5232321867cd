import { randomUUID } from 'node:crypto';
import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { AuditActor, AuditEvent } from '@internal/plugin-audit-common';
import {
  AuditActorResolver,
  AuditEventWriter,
  AuditSink,
  AuditSinkStats,
} from './types';

/** @public */
export interface BufferedAuditSinkOptions {
  logger: LoggerService;
  /** Events kept while the database is away; more are dropped (and counted). Default 10000. */
  maxEvents?: number;
  /** How often waiting events are written. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Events per write, and how many waiting trigger a write at once. Default 500. */
  batchSize?: number;
  /** Longest wait between retries of a failing write. Default 30 s. */
  maxBackoffMs?: number;
  /** How long one actor resolution may take before the actor is stored as is. Default 5 s. */
  resolveTimeoutMs?: number;
  /** The clock (tests). */
  now?: () => Date;
}

const DEFAULT_MAX_EVENTS = 10000;
const DEFAULT_FLUSH_INTERVAL_MS = 1000;
const DEFAULT_BATCH_SIZE = 500;
const DEFAULT_MAX_BACKOFF_MS = 30_000;
const DEFAULT_RESOLVE_TIMEOUT_MS = 5000;
// Operators need to hear that the trail loses events, but a flood of
// warnings during an outage would bury everything else.
const WARN_EVERY_MS = 60_000;

function readPositiveInteger(
  config: Config,
  key: string,
  fallback: number,
): number {
  const value = config.getOptionalNumber(key);
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new InputError(
      `The configuration value for '${key}' must be a positive whole number, got ${value}; remove it to use the default ${fallback}.`,
    );
  }
  return value;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The root audit sink: a bounded in-memory queue in front of the store. Every
 * plugin's auditor enqueues synchronously; one write at a time delivers
 * batches, every flush interval or as soon as a batch is full. A failing write
 * keeps its batch and is retried with exponential backoff, so a database
 * outage costs nothing until the buffer is full; then the newest events are
 * dropped, counted, and the trail gets an `audit.events-dropped` event once
 * writes work again.
 *
 * @public
 */
export class BufferedAuditSink implements AuditSink {
  readonly #logger: LoggerService;
  readonly #maxEvents: number;
  readonly #flushIntervalMs: number;
  readonly #batchSize: number;
  readonly #maxBackoffMs: number;
  readonly #resolveTimeoutMs: number;
  readonly #now: () => Date;

  #buffer: AuditEvent[] = [];
  #writer?: AuditEventWriter;
  #resolver?: AuditActorResolver;
  /** The drain in progress; the next one chains after it (one write at a time). */
  #draining?: Promise<void>;
  #timer?: ReturnType<typeof setTimeout>;
  #timerDue = 0;
  #stopped = false;

  #written = 0;
  #dropped = 0;
  #lastError?: string;
  #failures = 0;
  /** Drops not yet reported by an `audit.events-dropped` event. */
  #unreported = 0;
  #unreportedSince?: string;
  #lastDropWarning?: number;
  #lastFailureLog?: number;

  static fromConfig(
    config: Config,
    options: Omit<BufferedAuditSinkOptions, 'maxEvents' | 'flushIntervalMs'>,
  ): BufferedAuditSink {
    return new BufferedAuditSink({
      ...options,
      maxEvents: readPositiveInteger(
        config,
        'audit.buffer.maxEvents',
        DEFAULT_MAX_EVENTS,
      ),
      flushIntervalMs: readPositiveInteger(
        config,
        'audit.buffer.flushIntervalMs',
        DEFAULT_FLUSH_INTERVAL_MS,
      ),
    });
  }

  constructor(options: BufferedAuditSinkOptions) {
    this.#logger = options.logger;
    this.#maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
    this.#flushIntervalMs =
      options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.#batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.#maxBackoffMs = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    this.#resolveTimeoutMs =
      options.resolveTimeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS;
    this.#now = options.now ?? (() => new Date());
  }

  enqueue(event: AuditEvent): void {
    try {
      if (this.#buffer.length >= this.#maxEvents) {
        this.#drop();
        return;
      }
      this.#buffer.push(event);
      this.#wake();
    } catch {
      // The caller is some plugin's request handler: losing one audit event
      // is better than failing the request it records.
    }
  }

  attach(writer: AuditEventWriter, resolver?: AuditActorResolver): void {
    this.#writer = writer;
    this.#resolver = resolver;
    this.#failures = 0;
    if (this.#buffer.length > 0) this.#schedule(0);
  }

  flush(): Promise<void> {
    return this.#drain();
  }

  stats(): AuditSinkStats {
    return {
      buffered: this.#buffer.length,
      dropped: this.#dropped,
      written: this.#written,
      ...(this.#lastError !== undefined && { lastError: this.#lastError }),
    };
  }

  /**
   * Delivers what is buffered, waiting at most `timeoutMs` for a database
   * that may be slow or gone; answers whether the buffer is empty.
   */
  async flushWithin(timeoutMs: number): Promise<boolean> {
    let timeout: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#drain(),
      new Promise<void>(resolve => {
        timeout = setTimeout(resolve, timeoutMs);
        timeout.unref?.();
      }),
    ]);
    if (timeout) clearTimeout(timeout);
    return this.#buffer.length === 0;
  }

  /** Stops the timer and delivers what is left (backend shutdown). */
  async shutdown(timeoutMs = 10_000): Promise<void> {
    this.#stopped = true;
    this.#clearTimer();
    if (!(await this.flushWithin(timeoutMs))) {
      this.#warn(
        `Audit sink stopped with ${this.#buffer.length} events not written: ${
          this.#lastError ?? 'the last write did not finish in time'
        }`,
      );
    }
  }

  #drop() {
    this.#dropped++;
    this.#unreported++;
    this.#unreportedSince ??= this.#now().toISOString();
    const now = this.#now().getTime();
    if (
      this.#lastDropWarning === undefined ||
      now - this.#lastDropWarning >= WARN_EVERY_MS
    ) {
      this.#lastDropWarning = now;
      this.#warn(
        `Audit buffer is full (${
          this.#maxEvents
        } events waiting for the database): dropped ${
          this.#unreported
        } audit events since ${this.#unreportedSince}${
          this.#lastError ? `; last write error: ${this.#lastError}` : ''
        }. Raise audit.buffer.maxEvents or restore the audit database.`,
      );
    }
  }

  /** Logging is best effort: a broken log transport must not stop writes. */
  #warn(message: string) {
    try {
      this.#logger.warn(message);
    } catch {
      // nothing better to do with it
    }
  }

  #wake() {
    // Before attach there is nowhere to write: attach starts the first drain.
    if (!this.#writer) return;
    // A failing store is retried on its backoff timer, not on every event.
    if (this.#failures > 0) return;
    this.#schedule(
      this.#buffer.length >= this.#batchSize ? 0 : this.#flushIntervalMs,
    );
  }

  #clearTimer() {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delayMs: number) {
    if (this.#stopped) return;
    const due = Date.now() + delayMs;
    if (this.#timer && this.#timerDue <= due) return;
    this.#clearTimer();
    this.#timerDue = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // A drain in progress keeps writing until the buffer is empty (or
      // schedules its retry), so a tick during a slow write adds nothing.
      if (this.#draining) return;
      this.#drain().catch(() => {});
    }, delayMs);
    // Never keep the process (or a test run) alive for the audit timer.
    this.#timer.unref?.();
  }

  #drain(): Promise<void> {
    const previous = this.#draining ?? Promise.resolve();
    const run = previous.then(() => this.#drainOnce());
    const tracked = run.finally(() => {
      if (this.#draining === tracked) this.#draining = undefined;
    });
    this.#draining = tracked;
    return tracked;
  }

  async #drainOnce(): Promise<void> {
    const writer = this.#writer;
    if (!writer) return;
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.slice(0, this.#batchSize);
      const ready = await this.#resolveActors(batch);
      try {
        await writer.write(ready);
      } catch (error) {
        this.#failed(error);
        return;
      }
      // Only this loop removes from the front; enqueue appends behind the batch.
      this.#buffer.splice(0, batch.length);
      this.#written += batch.length;
      this.#failures = 0;
      this.#lastError = undefined;
      this.#reportDrops();
    }
  }

  #failed(error: unknown) {
    this.#failures++;
    this.#lastError = messageOf(error);
    const backoff = Math.min(
      this.#flushIntervalMs * 2 ** Math.min(this.#failures, 30),
      this.#maxBackoffMs,
    );
    const now = this.#now().getTime();
    if (
      this.#lastFailureLog === undefined ||
      now - this.#lastFailureLog >= WARN_EVERY_MS
    ) {
      this.#lastFailureLog = now;
      this.#warn(
        `Could not store ${
          this.#buffer.length
        } audit events, retrying in ${backoff} ms: ${this.#lastError}`,
      );
    }
    this.#schedule(backoff);
  }

  /** Once writes work again the stored trail says what it lost. */
  #reportDrops() {
    if (this.#unreported === 0) return;
    const time = this.#now().toISOString();
    const event: AuditEvent = {
      id: randomUUID(),
      time,
      plugin: 'audit',
      eventId: 'events-dropped',
      action: 'audit.events-dropped',
      severity: 'high',
      outcome: 'failed',
      actor: { kind: 'plugin', plugin: 'audit' },
      entityRefs: [],
      meta: { dropped: this.#unreported, since: this.#unreportedSince ?? time },
    };
    this.#unreported = 0;
    this.#unreportedSince = undefined;
    this.#lastDropWarning = undefined;
    // Bypasses the bound: the batch just written made room, and this one
    // event is what makes the loss visible.
    this.#buffer.push(event);
  }

  async #resolveActors(batch: AuditEvent[]): Promise<AuditEvent[]> {
    const resolver = this.#resolver;
    // At shutdown the catalog may be gone already and the database is about
    // to be: store the actors as they are rather than wait for lookups.
    if (!resolver || this.#stopped) return batch;
    // One lookup per distinct actor per flush, however many events it caused.
    const pending = new Map<string, Promise<AuditActor>>();
    const keyOf = (actor: AuditActor) => JSON.stringify(actor);
    for (const event of batch) {
      const key = keyOf(event.actor);
      if (!pending.has(key)) {
        pending.set(key, this.#resolveOne(resolver, event.actor));
      }
    }
    const resolved = new Map<string, AuditActor>();
    await Promise.all(
      [...pending].map(async ([key, promise]) => {
        resolved.set(key, await promise);
      }),
    );
    return batch.map(event => {
      const actor = resolved.get(keyOf(event.actor)) ?? event.actor;
      return actor === event.actor ? event : { ...event, actor };
    });
  }

  async #resolveOne(
    resolver: AuditActorResolver,
    actor: AuditActor,
  ): Promise<AuditActor> {
    let timeout: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        resolver.complete(actor),
        new Promise<AuditActor>(resolve => {
          timeout = setTimeout(() => resolve(actor), this.#resolveTimeoutMs);
          timeout.unref?.();
        }),
      ]);
    } catch {
      return actor;
    } finally {
      if (timeout) clearTimeout(timeout);
    }
  }
}
