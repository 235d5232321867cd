import { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import { NotAllowedError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';

/**
 * Who a signed-in person is now, by the catalog (which org ingestion keeps
 * current), rather than what their token or sign-in said up to an hour ago.
 *
 * @public
 */
export interface CurrentIdentityLookup {
  /**
   * The person's current ownership refs (themself and every group, nested
   * included, as sign-in computes them). Throws `NotAllowedError`, naming the
   * reason, when the person counts as signed out: their User is gone from
   * the catalog or marked disabled.
   */
  currentOwnershipRefs(userEntityRef: string): Promise<string[]>;
}

type Lookup = { refs: string[] } | { signedOut: string };

/**
 * Sign-in's ownership resolution (`NestedGroupOwnershipResolver` of the
 * Entra auth module), so the policy and sign-in compute the same refs.
 * Throws `NotAllowedError` for a User that may not sign in.
 */
export interface OwnershipResolution {
  resolveOwnershipEntityRefs(
    entity: Entity,
  ): Promise<{ ownershipEntityRefs: string[] }>;
}

interface CacheEntry {
  expiresAt: number;
  lookup: Promise<Lookup>;
}

/** Expired entries are swept once the cache holds more people than this. */
const SWEEP_ABOVE = 1000;

/**
 * {@link CurrentIdentityLookup} on the catalog, with a short cache: one
 * catalog read of the User (plus one per group nesting level) per person per
 * `ttlMs`, however many decisions and list requests they make meanwhile.
 * Concurrent decisions for one person share the read in flight. A read that
 * fails is not cached and fails the decision (the caller sees an error, not
 * a stale allow).
 *
 * @public
 */
export class CatalogCurrentIdentities implements CurrentIdentityLookup {
  readonly #catalog: CatalogService;
  readonly #auth: AuthService;
  readonly #ownership: OwnershipResolution;
  readonly #logger: LoggerService;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, CacheEntry>();

  constructor(options: {
    catalog: CatalogService;
    auth: AuthService;
    ownership: OwnershipResolution;
    logger: LoggerService;
    ttlMs: number;
    now?: () => number;
  }) {
    this.#catalog = options.catalog;
    this.#auth = options.auth;
    this.#ownership = options.ownership;
    this.#logger = options.logger;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  async currentOwnershipRefs(userEntityRef: string): Promise<string[]> {
    const key = userEntityRef.toLocaleLowerCase('en-US');
    const now = this.#now();
    let entry = this.#cache.get(key);
    if (!entry || entry.expiresAt <= now) {
      if (this.#cache.size > SWEEP_ABOVE) this.#sweep(now);
      const lookup = this.#read(key);
      const fresh: CacheEntry = { expiresAt: now + this.#ttlMs, lookup };
      entry = fresh;
      this.#cache.set(key, fresh);
      lookup.catch(() => {
        if (this.#cache.get(key) === fresh) this.#cache.delete(key);
      });
    }
    const result = await entry.lookup;
    if ('signedOut' in result) {
      throw new NotAllowedError(result.signedOut);
    }
    return result.refs;
  }

  #sweep(now: number) {
    for (const [key, entry] of this.#cache) {
      if (entry.expiresAt <= now) this.#cache.delete(key);
    }
  }

  async #read(userEntityRef: string): Promise<Lookup> {
    const credentials = await this.#auth.getOwnServiceCredentials();
    const {
      items: [entity],
    } = await this.#catalog.getEntitiesByRefs(
      {
        entityRefs: [userEntityRef],
        fields: ['apiVersion', 'kind', 'metadata', 'spec', 'relations'],
      },
      { credentials },
    );
    if (!entity) {
      return this.#signedOut(
        userEntityRef,
        `${userEntityRef} is no longer in the portal's catalog (removed or disabled in Microsoft Entra ID, ` +
          'or no longer ingested), so their session counts as signed out and every permission is denied. ' +
          'Sign in again once org ingestion includes them.',
      );
    }
    try {
      const { ownershipEntityRefs } =
        await this.#ownership.resolveOwnershipEntityRefs(entity);
      return { refs: ownershipEntityRefs };
    } catch (error) {
      if ((error as Error).name !== 'NotAllowedError') throw error;
      return this.#signedOut(
        userEntityRef,
        `${
          (error as Error).message
        } Until then their session counts as signed out and every permission is denied.`,
      );
    }
  }

  #signedOut(userEntityRef: string, reason: string): Lookup {
    // Once per cache period, not per decision: a revoked browser keeps asking.
    this.#logger.warn(`Signed out ${userEntityRef}: ${reason}`);
    return { signedOut: reason };
  }
}
