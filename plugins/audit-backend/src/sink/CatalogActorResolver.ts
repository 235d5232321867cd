import { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import { ANNOTATION_LOCATION, Entity } from '@backstage/catalog-model';
import { Config } from '@backstage/config';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuditActor } from '@internal/plugin-audit-common';
import { AuditActorResolver } from './types';

// The names the entra-org provider writes (catalog-backend-module-entra-org).
const USER_ID_ANNOTATION = 'graph.microsoft.com/user-id';
const TENANT_ID_ANNOTATION = 'graph.microsoft.com/tenant-id';
const APP_ID_ANNOTATION = 'graph.microsoft.com/app-id';
const SERVICE_PRINCIPAL_ID_ANNOTATION =
  'graph.microsoft.com/service-principal-id';
const PRINCIPAL_TYPE_LABEL = 'entra.microsoft.com/principal-type';
// Where org ingestion's entities come from: `msgraph-org-provider:<id>` for
// the provider `catalog.providers.microsoftGraphOrg.<id>` ('default' when
// its keys are at the root).
const PROVIDERS_CONFIG = 'catalog.providers.microsoftGraphOrg';
const LOCATION_PREFIX = 'msgraph-org-provider:';

/**
 * The tenant each org ingestion provider reads, by its location key: org
 * ingestion writes the tenant annotation on the root group and service
 * principals only, so a person's tenant is the one their provider reads.
 */
function tenantsByLocation(config?: Config): Map<string, string> {
  const tenants = new Map<string, string>();
  const root = config?.getOptionalConfig(PROVIDERS_CONFIG);
  if (!root) return tenants;
  const blocks: Array<[string, Config]> = root.has('clientId')
    ? [['default', root]]
    : root.keys().flatMap(id => {
        const block = root.getOptional(id);
        return block && typeof block === 'object'
          ? [[id, root.getConfig(id)] as [string, Config]]
          : [];
      });
  for (const [id, block] of blocks) {
    const tenantId = block.getOptional('tenantId');
    if (typeof tenantId === 'string' && tenantId) {
      tenants.set(`${LOCATION_PREFIX}${id}`, tenantId);
    }
  }
  return tenants;
}

const DEFAULT_TTL_MS = 5 * 60 * 1000;
// "Not in the catalog" is kept briefly: a person's first actions can come
// before org ingestion has put their User in, and they should not be
// stored without oid and tid for the whole ttl.
const DEFAULT_MISS_TTL_MS = 10 * 1000;
// People and pipelines of one organisation; the bound only matters if refs
// are made up, then the oldest answers go first.
const MAX_CACHED = 20_000;

/** @public */
export interface CatalogActorResolverOptions {
  catalog: CatalogService;
  auth: AuthService;
  logger: LoggerService;
  /** How long an answer (also "not in the catalog") is reused. Default 5 minutes. */
  ttlMs?: number;
  /** How long "not in the catalog" is reused. Default 10 seconds. */
  missTtlMs?: number;
  /**
   * The root config, for the tenant of people org ingestion brought in
   * (`catalog.providers.microsoftGraphOrg.*.tenantId`).
   */
  config?: Config;
}

/** What the User entity says about its principal. */
interface Identity {
  pipeline: boolean;
  oid?: string;
  tid?: string;
  appId?: string;
}

function identityOf(entity: Entity, tenants: Map<string, string>): Identity {
  const annotations = entity.metadata.annotations ?? {};
  const pipeline =
    entity.metadata.labels?.[PRINCIPAL_TYPE_LABEL] === 'service-principal';
  return {
    pipeline,
    // a service principal's object id is the oid of its app-only tokens
    oid: pipeline
      ? annotations[SERVICE_PRINCIPAL_ID_ANNOTATION]
      : annotations[USER_ID_ANNOTATION],
    tid:
      annotations[TENANT_ID_ANNOTATION] ??
      tenants.get(annotations[ANNOTATION_LOCATION] ?? ''),
    appId: pipeline ? annotations[APP_ID_ANNOTATION] : undefined,
  };
}

/**
 * Completes actors from their catalog User entity: the Entra object id and
 * tenant of a person (or of the person an agent acted for), and for a User
 * entity that is a service principal the kind `pipeline` with its app id.
 * Answers are cached per ref, misses too, so a busy flush costs one catalog
 * read per person every few minutes. A catalog that fails leaves the actor as
 * it was: the event is stored anyway.
 *
 * @public
 */
export class CatalogActorResolver implements AuditActorResolver {
  readonly #catalog: CatalogService;
  readonly #auth: AuthService;
  readonly #logger: LoggerService;
  readonly #ttlMs: number;
  readonly #missTtlMs: number;
  readonly #tenants: Map<string, string>;
  readonly #cache = new Map<string, { expires: number; identity?: Identity }>();
  readonly #inFlight = new Map<string, Promise<Identity | undefined>>();

  constructor(options: CatalogActorResolverOptions) {
    this.#catalog = options.catalog;
    this.#auth = options.auth;
    this.#logger = options.logger;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#missTtlMs = Math.min(
      options.missTtlMs ?? DEFAULT_MISS_TTL_MS,
      this.#ttlMs,
    );
    this.#tenants = tenantsByLocation(options.config);
  }

  async complete(actor: AuditActor): Promise<AuditActor> {
    if (
      !actor.entityRef ||
      !['person', 'agent', 'pipeline'].includes(actor.kind)
    ) {
      return actor;
    }
    let identity: Identity | undefined;
    try {
      identity = await this.#lookup(actor.entityRef.toLocaleLowerCase('en-US'));
    } catch (error) {
      this.#logger.debug(
        `Could not complete the audit actor ${actor.entityRef} from the catalog: ${error}`,
      );
      return actor;
    }
    if (!identity) return actor;
    const completed: AuditActor = { ...actor };
    // What the event already says (a verified ID token's oid) wins.
    completed.oid ??= identity.oid;
    completed.tid ??= identity.tid;
    if (identity.pipeline && actor.kind !== 'agent') {
      completed.kind = 'pipeline';
      completed.appId ??= identity.appId;
    }
    for (const key of ['oid', 'tid', 'appId'] as const) {
      if (completed[key] === undefined) delete completed[key];
    }
    return completed;
  }

  async #lookup(ref: string): Promise<Identity | undefined> {
    const now = Date.now();
    const cached = this.#cache.get(ref);
    if (cached && cached.expires > now) return cached.identity;
    const running = this.#inFlight.get(ref);
    if (running) return running;
    const promise = (async () => {
      try {
        const entity = await this.#catalog.getEntityByRef(ref, {
          credentials: await this.#auth.getOwnServiceCredentials(),
        });
        const identity =
          entity && entity.kind.toLocaleLowerCase('en-US') === 'user'
            ? identityOf(entity, this.#tenants)
            : undefined;
        this.#remember(ref, identity);
        return identity;
      } finally {
        this.#inFlight.delete(ref);
      }
    })();
    this.#inFlight.set(ref, promise);
    return promise;
  }

  #remember(ref: string, identity: Identity | undefined) {
    this.#cache.delete(ref);
    if (this.#cache.size >= MAX_CACHED) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
    const ttl = identity ? this.#ttlMs : this.#missTtlMs;
    this.#cache.set(ref, { expires: Date.now() + ttl, identity });
  }
}
