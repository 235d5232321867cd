import { RESOURCE_TYPE_CATALOG_ENTITY } from '@backstage/plugin-catalog-common/alpha';
import { createPermission } from '@backstage/plugin-permission-common';

/**
 * Running a template: creating a scaffolder task from the template entity
 * given as resource ref (`template:default/create-database`).
 *
 * The scaffolder's own `scaffolder.task.create` carries no template, so a
 * policy cannot tell templates apart with it. This permission's resource is
 * the template's catalog entity: a policy can answer with catalog conditions
 * (`createCatalogConditionalDecision`, e.g. `isEntityKind` + `hasMetadata`),
 * which the permission backend resolves against the catalog. Reading the
 * template stays a separate decision (`catalog.entity.read`), so a template
 * can be visible to everyone and runnable by some.
 *
 * @public
 */
export const templateRunPermission = createPermission({
  name: 'scaffolder.template.run',
  attributes: { action: 'create' },
  resourceType: RESOURCE_TYPE_CATALOG_ENTITY,
});
