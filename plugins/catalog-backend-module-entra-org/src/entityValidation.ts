import {
  DefaultNamespaceEntityPolicy,
  Entity,
  EntityPolicies,
  entityEnvelopeSchemaValidator,
  FieldFormatEntityPolicy,
  GroupEntity,
  groupEntityV1alpha1Validator,
  KindValidator,
  NoForeignRootFieldsEntityPolicy,
  parseEntityRef,
  SchemaValidEntityPolicy,
  stringifyEntityRef,
  UserEntity,
  userEntityV1alpha1Validator,
} from '@backstage/catalog-model';

/** An entity left out of a run because the catalog would not accept it. */
export interface RejectedEntity {
  kind: 'User' | 'Group';
  /** The Entra object id (or tenant id for the root group). */
  objectId: string;
  name: string;
  reason: string;
}

/**
 * The checks the catalog runs on every entity, with its default settings:
 * the envelope check of a provider connection (an envelope that fails it
 * fails the whole mutation), the catalog's default entity policies, and the
 * kind schemas of the built-in User and Group processors (an entity that
 * fails those is silently never stitched).
 */
const policy = EntityPolicies.allOf([
  new SchemaValidEntityPolicy(),
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
]);
const validateEnvelope = entityEnvelopeSchemaValidator();
const kindValidators: Record<string, KindValidator> = {
  User: userEntityV1alpha1Validator,
  Group: groupEntityV1alpha1Validator,
};

const OBJECT_ID_ANNOTATIONS = [
  'graph.microsoft.com/user-id',
  'graph.microsoft.com/group-id',
  'graph.microsoft.com/service-principal-id',
  'graph.microsoft.com/tenant-id',
];

async function check(entity: Entity): Promise<void> {
  validateEnvelope(entity);
  await policy.enforce(entity);
  if (!(await kindValidators[entity.kind].check(entity))) {
    throw new Error(`not a valid ${entity.kind}`);
  }
}

/**
 * Keeps the entities the catalog accepts and drops every `memberOf`,
 * `parent` and `children` reference to one it does not (or to one the run
 * does not hold), so that no reference points at nothing.
 */
export async function validateEntities(
  users: UserEntity[],
  groups: GroupEntity[],
): Promise<{
  users: UserEntity[];
  groups: GroupEntity[];
  rejected: RejectedEntity[];
}> {
  const rejected: RejectedEntity[] = [];
  const keep = async <T extends Entity>(entities: T[]) => {
    const kept: T[] = [];
    for (const entity of entities) {
      try {
        await check(entity);
        kept.push(entity);
      } catch (error) {
        const annotations = entity.metadata?.annotations ?? {};
        rejected.push({
          kind: entity.kind as RejectedEntity['kind'],
          objectId:
            OBJECT_ID_ANNOTATIONS.map(a => annotations[a]).find(Boolean) ?? '',
          name: String(entity.metadata?.name),
          reason: (error as Error).message,
        });
      }
    }
    return kept;
  };
  const validUsers = await keep(users);
  const validGroups = await keep(groups);

  const groupRefs = new Set(
    validGroups.map(g => stringifyEntityRef(g).toLocaleLowerCase('en-US')),
  );
  const exists = (ref: string) => {
    try {
      const target = parseEntityRef(ref, { defaultKind: 'group' });
      return groupRefs.has(
        stringifyEntityRef(target).toLocaleLowerCase('en-US'),
      );
    } catch {
      return false;
    }
  };
  for (const user of validUsers) {
    if (user.spec.memberOf)
      user.spec.memberOf = user.spec.memberOf.filter(exists);
  }
  for (const group of validGroups) {
    if (group.spec.parent && !exists(group.spec.parent)) {
      delete group.spec.parent;
    }
    group.spec.children = group.spec.children.filter(exists);
  }
  return { users: validUsers, groups: validGroups, rejected };
}
