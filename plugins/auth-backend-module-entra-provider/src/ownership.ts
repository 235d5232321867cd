import { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import {
  Entity,
  RELATION_CHILD_OF,
  RELATION_MEMBER_OF,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { NotAllowedError } from '@backstage/errors';
import { AuthOwnershipResolver } from '@backstage/plugin-auth-node';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { noteEntityRef, refusal } from './signInAudit';

/**
 * Marks a User whose Entra account is disabled, for ingestion that keeps
 * such Users (org ingestion as shipped leaves them out): `'false'` refuses
 * sign-in, refresh and, through the ownership policy, every permission.
 */
export const ENTRA_ACCOUNT_ENABLED_ANNOTATION =
  'graph.microsoft.com/account-enabled';

/** Whether the catalog marks this User's Entra account as disabled. */
export function isDisabledUser(entity: Entity): boolean {
  const value = entity.metadata.annotations?.[ENTRA_ACCOUNT_ENABLED_ANNOTATION];
  return value?.trim().toLocaleLowerCase('en-US') === 'false';
}

/** Deepest group nesting followed; deeper parents are logged and ignored. */
export const MAX_GROUP_NESTING = 10;

/**
 * Ownership refs of a person: themself and every group they belong to,
 * nested groups included. Read from the catalog (which org ingestion keeps
 * current), not from token `groups` claims, which stop at 200 and carry ids
 * rather than entity refs. One batched query per nesting level.
 *
 * A User marked disabled ({@link ENTRA_ACCOUNT_ENABLED_ANNOTATION}) has no
 * ownership: resolving it throws `NotAllowedError`, which refuses sign-in and
 * refresh (and clears the session cookie), and which the ownership policy,
 * asking the same resolver, turns into "signed out".
 */
export class NestedGroupOwnershipResolver implements AuthOwnershipResolver {
  constructor(
    private readonly catalog: CatalogService,
    private readonly auth: AuthService,
    private readonly logger: LoggerService,
    private readonly maxDepth = MAX_GROUP_NESTING,
  ) {}

  async resolveOwnershipEntityRefs(
    entity: Entity,
  ): Promise<{ ownershipEntityRefs: string[] }> {
    if (isDisabledUser(entity)) {
      // Within a sign-in or refresh: who was refused, for its audit event.
      noteEntityRef(stringifyEntityRef(entity));
      throw refusal(
        'account-disabled',
        new NotAllowedError(
          `${stringifyEntityRef(
            entity,
          )} is marked disabled in the portal's catalog ` +
            `(${ENTRA_ACCOUNT_ENABLED_ANNOTATION}: false, from Microsoft Entra ID); ` +
            'an Entra admin re-enables the account, and ingestion brings it back.',
        ),
      );
    }
    const relationTargets = (e: Entity | null | undefined, type: string) =>
      (e?.relations ?? [])
        .filter(r => r.type === type)
        .map(r => r.targetRef.toLocaleLowerCase('en-US'));

    const groups = new Set<string>();
    let level = [...new Set(relationTargets(entity, RELATION_MEMBER_OF))];
    const credentials = await this.auth.getOwnServiceCredentials();
    for (let depth = 0; level.length > 0; depth++) {
      if (depth >= this.maxDepth) {
        this.logger.warn(
          `Group nesting of ${stringifyEntityRef(entity)} is deeper than ${
            this.maxDepth
          }; ` + `parents above ${level.join(', ')} are not used for ownership`,
        );
        break;
      }
      level.forEach(g => groups.add(g));
      const { items } = await this.catalog.getEntitiesByRefs(
        { entityRefs: level, fields: ['kind', 'metadata', 'relations'] },
        { credentials },
      );
      level = [
        ...new Set(items.flatMap(g => relationTargets(g, RELATION_CHILD_OF))),
      ].filter(g => !groups.has(g));
    }
    return {
      ownershipEntityRefs: [
        stringifyEntityRef(entity).toLocaleLowerCase('en-US'),
        ...groups,
      ],
    };
  }
}
