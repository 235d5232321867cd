import { createPermission } from '@backstage/plugin-permission-common';

/** Reading the Entra org ingestion status (counts, outcome, errors). */
export const entraOrgStatusReadPermission = createPermission({
  name: 'entra.org.status.read',
  attributes: { action: 'read' },
});

/**
 * Letting the next ingestion run past the deletion guard: an intentional
 * mass removal of users or groups from the catalog.
 */
export const entraOrgRemovalAllowPermission = createPermission({
  name: 'entra.org.removal.allow',
  attributes: { action: 'update' },
});

/**
 * Starting an ingestion run now instead of at the next scheduled time. The
 * run is an ordinary one: the deletion guard applies.
 */
export const entraOrgRunPermission = createPermission({
  name: 'entra.org.run',
  attributes: { action: 'update' },
});

export const entraOrgPermissions = [
  entraOrgStatusReadPermission,
  entraOrgRemovalAllowPermission,
  entraOrgRunPermission,
];
