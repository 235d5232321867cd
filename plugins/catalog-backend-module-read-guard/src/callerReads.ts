import {
  BackstageCredentials,
  BackstageUserPrincipal,
} from '@backstage/backend-plugin-api';
import {
  Entity,
  RELATION_OWNED_BY,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { permissionRules } from '@backstage/plugin-catalog-backend/alpha';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { createConditionAuthorizer } from '@backstage/plugin-permission-node';

/** The catalog's own rules, so a decision means here what it means in its queries. */
const authorize = createConditionAuthorizer(Object.values(permissionRules));

/** The catalog caps request bodies; this many refs stay well under it. */
const REFS_PER_REQUEST = 500;

/** Full entity refs only: what a relation target or a relation filter value is. */
const FULL_REF = /^[^:/]+:[^:/]+\/.+$/;

/** Lowercase, as the catalog compares refs. */
export function normalizeRef(ref: string): string {
  return ref.toLocaleLowerCase('en-US');
}

/**
 * What one caller, whose `catalog.entity.read` the policy answered with DENY
 * or a condition, may read. Callers the policy allows everything never get
 * one: their answers pass untouched.
 */
export class CallerReads {
  readonly #decision: PolicyDecision;
  readonly #credentials: BackstageCredentials<BackstageUserPrincipal>;
  readonly #catalog: CatalogService;

  constructor(options: {
    decision: PolicyDecision;
    credentials: BackstageCredentials<BackstageUserPrincipal>;
    catalog: CatalogService;
  }) {
    this.#decision = options.decision;
    this.#credentials = options.credentials;
    this.#catalog = options.catalog;
  }

  /**
   * Which of `refs` name an entity the caller may read, asked of the catalog
   * with the caller's credentials so the catalog's own filter decides (one
   * request per 500 refs). Missing and hidden entities are both absent.
   */
  async readable(refs: Iterable<string>): Promise<Set<string>> {
    const wanted = [
      ...new Set([...refs].map(normalizeRef).filter(r => FULL_REF.test(r))),
    ];
    const found = new Set<string>();
    if (wanted.length === 0 || this.#decision.result === AuthorizeResult.DENY) {
      return found;
    }
    for (let i = 0; i < wanted.length; i += REFS_PER_REQUEST) {
      const chunk = wanted.slice(i, i + REFS_PER_REQUEST);
      const { items } = await this.#catalog.getEntitiesByRefs(
        {
          entityRefs: chunk,
          fields: ['kind', 'metadata.namespace', 'metadata.name'],
        },
        { credentials: this.#credentials },
      );
      items.forEach((item, j) => {
        if (item) found.add(chunk[j]);
      });
    }
    return found;
  }

  /**
   * Whether the caller may read an entity that is not in the catalog yet
   * (a dry-run registration), decided in memory with the catalog's rules.
   * Such an entity has not been processed into relations, so its owner is
   * taken from `spec.owner` as the catalog's processor would. A condition
   * naming a rule the catalog does not have reads as "no".
   */
  canRead(entity: Entity): boolean {
    if (this.#decision.result === AuthorizeResult.DENY) return false;
    try {
      return authorize(this.#decision, withOwnerRelation(entity));
    } catch {
      return false;
    }
  }
}

function withOwnerRelation(entity: Entity): Entity {
  const owner = entity.spec?.owner;
  if (typeof owner !== 'string' || entity.relations?.length) return entity;
  try {
    const targetRef = stringifyEntityRef(
      parseEntityRef(owner, {
        defaultKind: 'group',
        defaultNamespace: entity.metadata.namespace ?? 'default',
      }),
    );
    return {
      ...entity,
      relations: [{ type: RELATION_OWNED_BY, targetRef }],
    };
  } catch {
    return entity;
  }
}
