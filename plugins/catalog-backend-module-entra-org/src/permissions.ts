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

export const entraOrgPermissions = [
  entraOrgStatusReadPermission,
  entraOrgRemovalAllowPermission,
];
