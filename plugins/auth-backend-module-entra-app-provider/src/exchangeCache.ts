import { createHash } from 'node:crypto';

/** What an exchanged Entra token stands for. */
export interface Exchanged {
  /** The Backstage user token that replaces the Entra token. */
  backstageToken: string;
  entityRef: string;
  appId: string;
  objectId: string;
  tenantId: string;
}

interface Entry {
  value: Exchanged;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** Margin before the earlier expiry of the two tokens: no cached token is used in its last minute. */
export const EXPIRY_MARGIN_MS = 60_000;

/**
 * Exchanged tokens by sha256 of the Entra token (the token itself is never
 * kept as a key), until the earlier of the Entra token's and the Backstage
 * token's expiry minus a minute; least recently used entries leave first
 * once `maxEntries` are held, so a flood of distinct tokens cannot grow it.
 */
export class ExchangeCache {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  get(key: string): Exchanged | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    // Re-inserted: a Map iterates in insertion order, so the first key is
    // the least recently used.
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Caches `value` unless less than the margin is left of either token. */
  set(key: string, value: Exchanged, expiresAtMs: number[]): void {
    const expiresAt = Math.min(...expiresAtMs) - EXPIRY_MARGIN_MS;
    if (expiresAt <= this.now()) return;
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
