import {
  AuthService,
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  ANNOTATION_ORIGIN_LOCATION,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import {
  catalogEntityDeletePermission,
  catalogLocationCreatePermission,
  catalogLocationDeletePermission,
} from '@backstage/plugin-catalog-common/alpha';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';

/** A registered location, as the catalog returns it. */
export interface RegisteredLocation {
  id: string;
  type: string;
  target: string;
}

/** What a caller may do with the entities a location holds. */
export interface LocationOwnership {
  /** `<type>:<target>`, as entities name their location. */
  locationRef: string;
  /**
   * Every entity the location brought in, through nested Location entities
   * too, Location entities excepted.
   */
  held: string[];
  /** Whether the caller may delete any location (admins, in the policy). */
  anyLocation: boolean;
  /** Whether the caller may register locations (`catalog.location.create`). */
  mayRegister: boolean;
  /** The held entities the caller may not delete. */
  notAllowed: string[];
}

/**
 * Decides who owns a registered location: the owners of every entity it
 * holds. Whether the caller may delete each one is an ordinary,
 * ownership-based `catalog.entity.delete` decision, asked for all of them
 * (with `catalog.location.delete`, which the policy gives to admins only,
 * and `catalog.location.create`) in one authorize call.
 */
export class LocationOwnershipChecker {
  readonly #catalog: CatalogService;
  readonly #auth: AuthService;
  readonly #permissions: PermissionsService;

  constructor(options: {
    catalog: CatalogService;
    auth: AuthService;
    permissions: PermissionsService;
  }) {
    this.#catalog = options.catalog;
    this.#auth = options.auth;
    this.#permissions = options.permissions;
  }

  async check(
    location: RegisteredLocation,
    credentials: BackstageCredentials,
  ): Promise<LocationOwnership> {
    const locationRef = `${location.type}:${location.target}`;
    // Every entity of the location, hidden ones included: what the caller
    // may not see still decides whether they may change it. By origin, not
    // by managed-by-location: a registered file that is a Location entity
    // pointing at other files manages nothing itself, yet removing or
    // re-pointing it removes everything those files hold.
    const { items } = await this.#catalog.getEntities(
      {
        filter: {
          [`metadata.annotations.${ANNOTATION_ORIGIN_LOCATION}`]: locationRef,
        },
        fields: ['kind', 'metadata.namespace', 'metadata.name'],
      },
      { credentials: await this.#auth.getOwnServiceCredentials() },
    );
    // Location entities (the one generated for the registration, and any
    // the files hold) have no owner; they go with the registration.
    const held = items
      .filter(e => e.kind.toLocaleLowerCase('en-US') !== 'location')
      .map(e => stringifyEntityRef(e))
      .sort();
    const [deleteDecision, createDecision, ...entityDecisions] =
      await this.#permissions.authorize(
        [
          { permission: catalogLocationDeletePermission },
          { permission: catalogLocationCreatePermission },
          ...held.map(resourceRef => ({
            permission: catalogEntityDeletePermission,
            resourceRef,
          })),
        ],
        { credentials },
      );
    return {
      locationRef,
      held,
      anyLocation: deleteDecision.result === AuthorizeResult.ALLOW,
      mayRegister: createDecision.result === AuthorizeResult.ALLOW,
      notAllowed: held.filter(
        (_, i) => entityDecisions[i].result !== AuthorizeResult.ALLOW,
      ),
    };
  }

  /**
   * Of `refs`, those the caller may read. What they may not read is not
   * named to them: it behaves as if it did not exist.
   */
  async readable(
    refs: string[],
    credentials: BackstageCredentials,
  ): Promise<string[]> {
    if (refs.length === 0) return [];
    const { items } = await this.#catalog.getEntitiesByRefs(
      { entityRefs: refs, fields: ['kind'] },
      { credentials },
    );
    return refs.filter((_, i) => items[i] !== undefined && items[i] !== null);
  }

  /**
   * "component:default/a, component:default/b and 2 entities you cannot
   * see": names what the caller may read, counts the rest.
   */
  async describe(
    refs: string[],
    credentials: BackstageCredentials,
  ): Promise<string> {
    const named = await this.readable(refs, credentials);
    const hidden = refs.length - named.length;
    const parts = [...named];
    if (hidden > 0) {
      parts.push(
        `${hidden} ${hidden === 1 ? 'entity' : 'entities'} you cannot see`,
      );
    }
    return parts.length > 1
      ? `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`
      : parts[0];
  }
}
