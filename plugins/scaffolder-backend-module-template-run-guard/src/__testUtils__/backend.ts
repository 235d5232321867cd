/*
 * A backend with real auth (Backstage user and plugin tokens), catalog,
 * scaffolder, permission and MCP actions plugins, this module, and a small
 * policy that lets only some people run one template. Only infrastructure is local:
 * SQLite in memory, a fixed catalog provider, and a sign-in provider that
 * signs in whoever a request header names (the portal's Entra sign-in is
 * exercised in the ownership policy's integration tests).
 */
import {
  actionsRegistryServiceFactory,
  actionsServiceFactory,
} from '@backstage/backend-defaults/alpha';
import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import { permissionsServiceFactory } from '@backstage/backend-defaults/permissions';
import { userInfoServiceFactory } from '@backstage/backend-defaults/userInfo';
import { createBackendModule } from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import authPlugin from '@backstage/plugin-auth-backend';
import {
  authProvidersExtensionPoint,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import scaffolderEntityModel from '@backstage/plugin-catalog-backend-module-scaffolder-entity-model';
import mcpActionsPlugin from '@backstage/plugin-mcp-actions-backend';
import permissionPlugin from '@backstage/plugin-permission-backend';
import {
  AuthorizeResult,
  isResourcePermission,
} from '@backstage/plugin-permission-common';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import {
  callMcpTool as callMcp,
  fixedEntityProvider,
} from '@internal/portal-test-utils';
import { scaffolderModuleTemplateRunGuard } from '../module';
import { templateRunPermission } from '../permissions';

/** The provider id of the header sign-in. */
export const SIGN_IN_PROVIDER = 'test-header';
const USER_HEADER = 'x-test-user';

const template = (name: string): Entity => ({
  apiVersion: 'scaffolder.backstage.io/v1beta3',
  kind: 'Template',
  metadata: { name, title: `Template ${name}` },
  spec: {
    owner: 'group:default/platform-team',
    type: 'service',
    parameters: [
      {
        title: 'Database',
        required: ['name'],
        properties: { name: { type: 'string' } },
      },
    ],
    steps: [
      {
        id: 'log',
        action: 'debug:log',
        input: { message: 'Creating ${{ parameters.name }}' },
      },
    ],
  },
});

/** Signs in the user ref named by a header; tokens are real Backstage tokens. */
const headerSignIn = createBackendModule({
  pluginId: 'auth',
  moduleId: 'test-header-sign-in',
  register(reg) {
    reg.registerInit({
      deps: { providers: authProvidersExtensionPoint },
      async init({ providers }) {
        providers.registerProvider({
          providerId: SIGN_IN_PROVIDER,
          factory: createProxyAuthProviderFactory<{ userEntityRef: string }>({
            authenticator: {
              defaultProfileTransform: async () => ({ profile: {} }),
              initialize: () => undefined,
              async authenticate({ req }) {
                return {
                  result: { userEntityRef: String(req.header(USER_HEADER)) },
                };
              },
            },
            signInResolver: async ({ result }, ctx) =>
              ctx.issueToken({
                claims: {
                  sub: result.userEntityRef,
                  ent: [result.userEntityRef],
                },
              }),
          }),
        });
      },
    });
  },
});

/**
 * Everything is allowed, except running `restrictedTemplate` for anyone not
 * in `runners`: a catalog condition, as the ownership policy answers.
 */
function testPolicy(restrictedTemplate: string, runners: Set<string>) {
  return createBackendModule({
    pluginId: 'permission',
    moduleId: 'test-policy',
    register(reg) {
      reg.registerInit({
        deps: { policy: policyExtensionPoint },
        async init({ policy }) {
          policy.setPolicy({
            async handle({ permission }, user) {
              if (
                !isResourcePermission(permission, 'catalog-entity') ||
                permission.name !== templateRunPermission.name ||
                runners.has(user?.info.userEntityRef ?? '')
              ) {
                return { result: AuthorizeResult.ALLOW };
              }
              return createCatalogConditionalDecision(permission, {
                not: {
                  allOf: [
                    catalogConditions.isEntityKind({ kinds: ['template'] }),
                    catalogConditions.hasMetadata({
                      key: 'name',
                      value: restrictedTemplate,
                    }),
                  ],
                },
              });
            },
          });
        },
      });
    },
  });
}

/**
 * Starts the backend with templates `restricted` (run by `runners` only,
 * which a test may change) and `open`.
 */
export async function startGuardedBackend(options: {
  restricted: string;
  open: string;
  runners: Set<string>;
  /** `permission.ownershipPolicy`, which the module reads for its wording. */
  ownershipPolicy?: object;
}) {
  const backend = await startTestBackend({
    features: [
      authServiceFactory,
      httpAuthServiceFactory,
      userInfoServiceFactory,
      permissionsServiceFactory,
      actionsRegistryServiceFactory,
      actionsServiceFactory,
      mockServices.rootConfig.factory({
        data: {
          app: { baseUrl: 'http://localhost:3000' },
          backend: {
            database: { client: 'better-sqlite3', connection: ':memory:' },
            // The scaffolder's actions (execute-template) as MCP tools.
            actions: { pluginSources: ['scaffolder'] },
          },
          auth: { providers: { [SIGN_IN_PROVIDER]: { enabled: true } } },
          catalog: { rules: [{ allow: ['Template'] }] },
          permission: {
            enabled: true,
            ...(options.ownershipPolicy && {
              ownershipPolicy: options.ownershipPolicy,
            }),
          },
        },
      }),
      authPlugin,
      headerSignIn,
      catalogPlugin,
      scaffolderEntityModel,
      fixedEntityProvider({
        name: 'test-entities',
        locationKey: 'test',
        entities: [template(options.restricted), template(options.open)],
      }),
      permissionPlugin,
      testPolicy(options.restricted, options.runners),
      scaffolderPlugin,
      scaffolderModuleTemplateRunGuard,
      mcpActionsPlugin,
    ],
  });
  const port = (backend.server.address() as { port: number }).port;
  return { backend, baseUrl: `http://localhost:${port}` };
}

/**
 * Calls an MCP tool as an MCP client does (streamable HTTP, stateless) and
 * returns the JSON-RPC result.
 */
export function callMcpTool(
  baseUrl: string,
  token: string,
  name: string,
  args: object,
) {
  return callMcp(baseUrl, { authorization: `Bearer ${token}` }, name, args);
}

/** A Backstage token for `userEntityRef`, as sign-in issues it. */
export async function signIn(baseUrl: string, userEntityRef: string) {
  const res = await fetch(`${baseUrl}/api/auth/${SIGN_IN_PROVIDER}/refresh`, {
    headers: { [USER_HEADER]: userEntityRef },
  });
  if (!res.ok) {
    throw new Error(`Sign-in answered ${res.status}: ${await res.text()}`);
  }
  const body = await res.json();
  return body.backstageIdentity.token as string;
}
