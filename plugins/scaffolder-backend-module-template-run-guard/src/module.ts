import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { scaffolderServiceRef } from '@backstage/plugin-scaffolder-node';
import { templateRunPermission } from './permissions';
import { createRunRefusalReasons } from './reasons';
import { createTemplateRunGuardRouter } from './router';

/**
 * Lets the permission policy limit who may run each template without hiding
 * it: before the scaffolder creates a task, asks `scaffolder.template.run`
 * (a `catalog-entity` resource permission) with the template's ref, and
 * answers 403 with the reason when the policy refuses.
 *
 * Its routes are mounted on the scaffolder's router ahead of the
 * scaffolder's own, since a plugin's modules are initialised before the
 * plugin itself.
 *
 * @public
 */
export const scaffolderModuleTemplateRunGuard = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'template-run-guard',
  register(reg) {
    reg.registerInit({
      deps: {
        config: coreServices.rootConfig,
        auth: coreServices.auth,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        auditor: coreServices.auditor,
        catalog: catalogServiceRef,
        scaffolder: scaffolderServiceRef,
      },
      async init({ config, httpRouter, permissionsRegistry, ...deps }) {
        // Listed in the scaffolder's permission metadata, since the
        // scaffolder is where it is checked. Its conditions are catalog
        // conditions, which the permission backend sends to the catalog.
        permissionsRegistry.addPermissions([templateRunPermission]);
        httpRouter.use(
          createTemplateRunGuardRouter({
            ...deps,
            refusalReason: createRunRefusalReasons(config),
          }),
        );
      },
    });
  },
});
