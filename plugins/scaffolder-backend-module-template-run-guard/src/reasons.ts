import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { Config } from '@backstage/config';

/**
 * Where the portal's ownership policy lists the templates only some groups
 * may run (plugins/permission-backend-module-ownership-policy, which
 * validates it at startup).
 */
export const RESTRICTED_TEMPLATES_KEY =
  'permission.ownershipPolicy.scaffolder.templates';

const normalise = (ref: string, defaultKind: string) =>
  stringifyEntityRef(parseEntityRef(ref, { defaultKind })).toLocaleLowerCase(
    'en-US',
  );

/**
 * Says why someone may not run a template, for the 403 answer. The decision
 * itself is the permission policy's; this only words it, from the groups
 * listed under {@link RESTRICTED_TEMPLATES_KEY} when the template is there.
 * Entries it cannot read are skipped: the policy module refuses them at
 * startup and names the key.
 */
export function createRunRefusalReasons(
  config: Config,
): (templateRef: string) => string {
  const groupsByTemplate = new Map<string, string[]>();
  let entries: Config[];
  try {
    entries = config.getOptionalConfigArray(RESTRICTED_TEMPLATES_KEY) ?? [];
  } catch {
    entries = [];
  }
  for (const entry of entries) {
    try {
      groupsByTemplate.set(
        normalise(entry.getString('template'), 'template'),
        entry.getStringArray('groups').map(g => normalise(g, 'group')),
      );
    } catch {
      // Worded generically below.
    }
  }
  return templateRef => {
    const groups = groupsByTemplate.get(templateRef.toLocaleLowerCase('en-US'));
    if (groups?.length) {
      return `You may not run ${templateRef}: only members of ${groups.join(
        ', ',
      )} (and portal admins) can run it`;
    }
    return `You may not run ${templateRef}: the permission policy does not let you run it`;
  };
}
