import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { NotAllowedError } from '@backstage/errors';
import {
  catalogEntityCreatePermission,
  catalogEntityDeletePermission,
  catalogEntityReadPermission,
  catalogEntityRefreshPermission,
  catalogEntityValidatePermission,
  catalogLocationAnalyzePermission,
  catalogLocationCreatePermission,
  catalogLocationDeletePermission,
  catalogLocationReadPermission,
} from '@backstage/plugin-catalog-common/alpha';
import {
  AuthorizeResult,
  createPermission,
} from '@backstage/plugin-permission-common';
import {
  actionExecutePermission,
  taskCancelPermission,
  taskCreatePermission,
  taskReadPermission,
  templateDryRunPermission,
  templateManagementPermission,
  templateParameterReadPermission,
  templateStepReadPermission,
} from '@backstage/plugin-scaffolder-common/alpha';
import { templateRunPermission } from '@internal/plugin-scaffolder-backend-module-template-run-guard';
import { readOwnershipPolicyConfig } from './config';
import { OwnershipPolicy } from './policy';

const people: Record<string, string[]> = {
  'user:default/ada.admin': [
    'group:default/platform-admins',
    'group:default/production-deployers',
  ],
  'user:default/carla.chen': [
    'group:default/payments',
    'group:default/production-deployers',
    'group:default/engineering',
  ],
  'user:default/eve.ellis': [
    'group:default/payments-api',
    'group:default/payments',
    'group:default/engineering',
  ],
  'user:default/rosa.ruiz': ['group:default/data', 'group:default/engineering'],
};

const fullConfig = {
  admins: ['group:default/platform-admins'],
  catalog: {
    restrictReadToOwners: { kinds: ['Resource'] },
    registerGroups: ['group:default/payments'],
  },
  scaffolder: {
    tags: [
      { tag: 'production', groups: ['group:default/production-deployers'] },
      { tag: 'security', groups: ['group:default/security'] },
    ],
    templates: [
      {
        template: 'template:default/create-database',
        groups: ['group:default/payments'],
      },
    ],
    dryRunGroups: ['group:default/payments-api'],
    deploy: {
      actions: ['entra:deploy'],
      environments: [
        { name: 'production', groups: ['group:default/production-deployers'] },
        { name: 'staging' },
      ],
    },
  },
};

function createPolicy(ownershipPolicy: object = fullConfig) {
  const logger = mockServices.logger.mock();
  const ownedEntityRefs = jest.fn(async (refs: string[]) =>
    refs.includes('group:default/payments')
      ? ['component:default/payments-service', 'resource:default/payments-db']
      : [],
  );
  const policy = new OwnershipPolicy({
    config: readOwnershipPolicyConfig(
      new ConfigReader({ permission: { ownershipPolicy } }),
    ),
    identities: {
      currentOwnershipRefs: async userEntityRef => {
        if (!people[userEntityRef]) {
          throw new NotAllowedError(
            `${userEntityRef} is no longer in the portal's catalog`,
          );
        }
        return [userEntityRef, ...people[userEntityRef]];
      },
    },
    ownedEntities: { ownedEntityRefs },
    logger,
  });
  const decide = (permission: any, who?: string) =>
    policy.handle(
      { permission },
      who
        ? {
            credentials: mockCredentials.user(`user:default/${who}`),
            info: { userEntityRef: '', ownershipEntityRefs: [] },
          }
        : undefined,
    );
  return { decide, logger, ownedEntityRefs };
}

const ALLOW = { result: AuthorizeResult.ALLOW };
const DENY = { result: AuthorizeResult.DENY };

describe('OwnershipPolicy', () => {
  it('lets admins do everything, including permissions it does not name', async () => {
    const { decide } = createPolicy();
    for (const permission of [
      catalogEntityReadPermission,
      catalogEntityDeletePermission,
      catalogLocationDeletePermission,
      actionExecutePermission,
      taskReadPermission,
      templateManagementPermission,
      createPermission({ name: 'other.thing', attributes: {} }),
    ]) {
      await expect(decide(permission, 'ada.admin')).resolves.toEqual(ALLOW);
    }
  });

  it('denies and logs a permission it does not name', async () => {
    const { decide, logger } = createPolicy();
    await expect(
      decide(
        createPermission({ name: 'other.thing', attributes: {} }),
        'rosa.ruiz',
      ),
    ).resolves.toEqual(DENY);
    expect(logger.warn).toHaveBeenCalledWith(
      'Denied other.thing to user:default/rosa.ruiz: the ownership policy does not name this permission',
    );
  });

  it('decides by the current ownership refs, not those the token or sign-in carried', async () => {
    const { decide } = createPolicy();
    // The user info says nothing (see decide); the refs come from identities.
    const decision = await decide(catalogEntityDeletePermission, 'carla.chen');
    expect(JSON.stringify(decision)).toContain('group:default/payments');
  });

  it('refuses a person the catalog no longer has every permission, with the reason', async () => {
    const { decide } = createPolicy();
    for (const permission of [
      catalogEntityReadPermission,
      catalogLocationReadPermission,
      taskCreatePermission,
      createPermission({ name: 'other.thing', attributes: {} }),
    ]) {
      await expect(decide(permission, 'gone.person')).rejects.toMatchObject({
        name: 'NotAllowedError',
        message:
          "user:default/gone.person is no longer in the portal's catalog",
      });
    }
  });

  it('denies and logs callers without a user', async () => {
    const { decide, logger } = createPolicy();
    await expect(decide(catalogEntityReadPermission)).resolves.toEqual(DENY);
    expect(logger.warn).toHaveBeenCalledWith(
      'Denied catalog.entity.read to an unauthenticated caller',
    );
  });

  describe('catalog', () => {
    it('lets everyone signed in read when no kind is restricted', async () => {
      const { decide } = createPolicy({ admins: ['group:default/admins'] });
      await expect(
        decide(catalogEntityReadPermission, 'rosa.ruiz'),
      ).resolves.toEqual(ALLOW);
    });

    it('filters restricted kinds to their owners', async () => {
      const { decide } = createPolicy();
      await expect(
        decide(catalogEntityReadPermission, 'rosa.ruiz'),
      ).resolves.toEqual({
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'catalog',
        resourceType: 'catalog-entity',
        conditions: {
          anyOf: [
            {
              not: {
                rule: 'IS_ENTITY_KIND',
                resourceType: 'catalog-entity',
                params: { kinds: ['resource'] },
              },
            },
            {
              rule: 'IS_ENTITY_OWNER',
              resourceType: 'catalog-entity',
              params: {
                claims: [
                  'user:default/rosa.ruiz',
                  'group:default/data',
                  'group:default/engineering',
                ],
              },
            },
          ],
        },
      });
    });

    it('does not hide templates only some groups may run', async () => {
      const { decide } = createPolicy({
        admins: ['group:default/admins'],
        scaffolder: fullConfig.scaffolder,
      });
      await expect(
        decide(catalogEntityReadPermission, 'rosa.ruiz'),
      ).resolves.toEqual(ALLOW);
    });

    it.each([catalogEntityRefreshPermission, catalogEntityDeletePermission])(
      'gives $name to owners through their ownership refs',
      async permission => {
        const { decide } = createPolicy();
        await expect(decide(permission, 'eve.ellis')).resolves.toEqual({
          result: AuthorizeResult.CONDITIONAL,
          pluginId: 'catalog',
          resourceType: 'catalog-entity',
          conditions: {
            rule: 'IS_ENTITY_OWNER',
            resourceType: 'catalog-entity',
            params: {
              claims: [
                'user:default/eve.ellis',
                'group:default/payments-api',
                'group:default/payments',
                'group:default/engineering',
              ],
            },
          },
        });
      },
    );

    it.each([
      catalogLocationCreatePermission,
      catalogEntityCreatePermission,
      catalogLocationAnalyzePermission,
    ])('gives $name to registerGroups only', async permission => {
      const { decide } = createPolicy();
      await expect(decide(permission, 'eve.ellis')).resolves.toEqual(ALLOW);
      await expect(decide(permission, 'rosa.ruiz')).resolves.toEqual(DENY);
    });

    it('lets only admins register when registerGroups is not set', async () => {
      const { decide } = createPolicy({ admins: ['group:default/admins'] });
      await expect(
        decide(catalogLocationCreatePermission, 'rosa.ruiz'),
      ).resolves.toEqual(DENY);
      await expect(
        decide(catalogEntityCreatePermission, 'rosa.ruiz'),
      ).resolves.toEqual(DENY);
    });

    it('leaves deleting locations to admins', async () => {
      const { decide } = createPolicy();
      await expect(
        decide(catalogLocationDeletePermission, 'carla.chen'),
      ).resolves.toEqual(DENY);
    });

    it.each([catalogLocationReadPermission, catalogEntityValidatePermission])(
      'gives $name to everyone signed in',
      async permission => {
        const { decide } = createPolicy();
        await expect(decide(permission, 'rosa.ruiz')).resolves.toEqual(ALLOW);
      },
    );
  });

  describe('scaffolder', () => {
    it.each([templateParameterReadPermission, templateStepReadPermission])(
      'hides $name items carrying a tag the person lacks',
      async permission => {
        const { decide } = createPolicy();
        await expect(decide(permission, 'carla.chen')).resolves.toEqual({
          result: AuthorizeResult.CONDITIONAL,
          pluginId: 'scaffolder',
          resourceType: 'scaffolder-template',
          conditions: {
            not: {
              rule: 'HAS_TAG',
              resourceType: 'scaffolder-template',
              params: { tag: 'security' },
            },
          },
        });
        await expect(decide(permission, 'rosa.ruiz')).resolves.toMatchObject({
          conditions: {
            not: {
              anyOf: [
                { rule: 'HAS_TAG', params: { tag: 'production' } },
                { rule: 'HAS_TAG', params: { tag: 'security' } },
              ],
            },
          },
        });
      },
    );

    it('shows every tagged item when the person has all tags', async () => {
      const { decide } = createPolicy({
        admins: ['group:default/platform-admins'],
        scaffolder: {
          tags: [{ tag: 'production', groups: ['group:default/payments'] }],
        },
      });
      await expect(
        decide(templateParameterReadPermission, 'carla.chen'),
      ).resolves.toEqual(ALLOW);
    });

    it('lets everyone signed in create tasks; which template is up to scaffolder.template.run', async () => {
      const { decide } = createPolicy();
      await expect(decide(taskCreatePermission, 'rosa.ruiz')).resolves.toEqual(
        ALLOW,
      );
    });

    const notTemplate = (namespace: string, name: string) => ({
      not: {
        allOf: [
          {
            rule: 'IS_ENTITY_KIND',
            resourceType: 'catalog-entity',
            params: { kinds: ['template'] },
          },
          {
            rule: 'HAS_METADATA',
            resourceType: 'catalog-entity',
            params: { key: 'namespace', value: namespace },
          },
          {
            rule: 'HAS_METADATA',
            resourceType: 'catalog-entity',
            params: { key: 'name', value: name },
          },
        ],
      },
    });

    // Without read restrictions, so the run condition stands alone.
    const readableByAll = { ...fullConfig, catalog: {} };

    it('refuses running a listed template to people outside its groups, as a catalog condition', async () => {
      const { decide } = createPolicy(readableByAll);
      await expect(decide(templateRunPermission, 'rosa.ruiz')).resolves.toEqual(
        {
          result: AuthorizeResult.CONDITIONAL,
          pluginId: 'catalog',
          resourceType: 'catalog-entity',
          conditions: notTemplate('default', 'create-database'),
        },
      );
    });

    it('refuses every listed template the person may not run, and only those', async () => {
      const { decide } = createPolicy({
        ...readableByAll,
        scaffolder: {
          templates: [
            {
              template: 'template:default/create-database',
              groups: ['group:default/payments'],
            },
            {
              template: 'template:ops/Rotate-Keys',
              groups: ['group:default/security'],
            },
            {
              template: 'template:default/create-pipeline',
              groups: ['group:default/engineering'],
            },
          ],
        },
      });
      await expect(decide(templateRunPermission, 'rosa.ruiz')).resolves.toEqual(
        {
          result: AuthorizeResult.CONDITIONAL,
          pluginId: 'catalog',
          resourceType: 'catalog-entity',
          conditions: {
            allOf: [
              notTemplate('default', 'create-database'),
              notTemplate('ops', 'rotate-keys'),
            ],
          },
        },
      );
    });

    it('lets a listed template run by its groups (nested included) and admins', async () => {
      const { decide } = createPolicy(readableByAll);
      // eve.ellis is in payments through payments-api.
      await expect(decide(templateRunPermission, 'eve.ellis')).resolves.toEqual(
        ALLOW,
      );
      await expect(decide(templateRunPermission, 'ada.admin')).resolves.toEqual(
        ALLOW,
      );
    });

    // Hidden and missing must answer alike: the permission backend denies a
    // conditional decision for a resource the catalog does not find, so the
    // run condition includes the read condition and a hidden entity is
    // denied too.
    const readableBy = (claims: string[]) => ({
      anyOf: [
        {
          not: {
            rule: 'IS_ENTITY_KIND',
            resourceType: 'catalog-entity',
            params: { kinds: ['resource'] },
          },
        },
        {
          rule: 'IS_ENTITY_OWNER',
          resourceType: 'catalog-entity',
          params: { claims },
        },
      ],
    });

    it('runs only what the person may read, so hidden answers as missing', async () => {
      const { decide } = createPolicy();
      await expect(decide(templateRunPermission, 'rosa.ruiz')).resolves.toEqual(
        {
          result: AuthorizeResult.CONDITIONAL,
          pluginId: 'catalog',
          resourceType: 'catalog-entity',
          conditions: {
            allOf: [
              readableBy([
                'user:default/rosa.ruiz',
                'group:default/data',
                'group:default/engineering',
              ]),
              notTemplate('default', 'create-database'),
            ],
          },
        },
      );
      // In the template's groups: still only what they may read.
      await expect(decide(templateRunPermission, 'eve.ellis')).resolves.toEqual(
        {
          result: AuthorizeResult.CONDITIONAL,
          pluginId: 'catalog',
          resourceType: 'catalog-entity',
          conditions: readableBy([
            'user:default/eve.ellis',
            'group:default/payments-api',
            'group:default/payments',
            'group:default/engineering',
          ]),
        },
      );
    });

    it('lets everyone run templates when none is listed', async () => {
      const { decide } = createPolicy({ admins: ['group:default/admins'] });
      await expect(decide(templateRunPermission, 'rosa.ruiz')).resolves.toEqual(
        ALLOW,
      );
    });

    it('refuses template runs to unauthenticated callers', async () => {
      const { decide } = createPolicy();
      await expect(decide(templateRunPermission)).resolves.toEqual(DENY);
    });

    it('refuses to decide a template run without the template as resource', async () => {
      const { decide } = createPolicy();
      await expect(
        decide(
          createPermission({ name: 'scaffolder.template.run', attributes: {} }),
          'rosa.ruiz',
        ),
      ).rejects.toThrow(
        'Permission scaffolder.template.run does not carry the resource type the ownership policy expects',
      );
    });

    it.each([taskReadPermission, taskCancelPermission])(
      'gives $name on their own tasks only',
      async permission => {
        const { decide } = createPolicy();
        await expect(decide(permission, 'rosa.ruiz')).resolves.toEqual({
          result: AuthorizeResult.CONDITIONAL,
          pluginId: 'scaffolder',
          resourceType: 'scaffolder-task',
          conditions: {
            rule: 'IS_TASK_OWNER',
            resourceType: 'scaffolder-task',
            params: { createdBy: ['user:default/rosa.ruiz'] },
          },
        });
      },
    );

    it('gives dry runs to dryRunGroups, management to admins only', async () => {
      const { decide } = createPolicy();
      await expect(
        decide(templateDryRunPermission, 'eve.ellis'),
      ).resolves.toEqual(ALLOW);
      await expect(
        decide(templateDryRunPermission, 'carla.chen'),
      ).resolves.toEqual(DENY);
      await expect(
        decide(templateManagementPermission, 'eve.ellis'),
      ).resolves.toEqual(DENY);
    });

    it('allows other actions, deploys to group environments and to owned targets in owner environments', async () => {
      const { decide, ownedEntityRefs } = createPolicy();
      await expect(
        decide(actionExecutePermission, 'carla.chen'),
      ).resolves.toEqual({
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'scaffolder',
        resourceType: 'scaffolder-action',
        conditions: {
          anyOf: [
            {
              not: {
                rule: 'HAS_ACTION_ID',
                resourceType: 'scaffolder-action',
                params: { actionId: 'entra:deploy' },
              },
            },
            {
              rule: 'HAS_STRING_PROPERTY',
              resourceType: 'scaffolder-action',
              params: { key: 'environment', value: 'production' },
            },
            {
              allOf: [
                {
                  rule: 'HAS_STRING_PROPERTY',
                  resourceType: 'scaffolder-action',
                  params: { key: 'environment', value: 'staging' },
                },
                {
                  anyOf: [
                    {
                      rule: 'HAS_STRING_PROPERTY',
                      resourceType: 'scaffolder-action',
                      params: {
                        key: 'component',
                        value: 'component:default/payments-service',
                      },
                    },
                    {
                      rule: 'HAS_STRING_PROPERTY',
                      resourceType: 'scaffolder-action',
                      params: {
                        key: 'component',
                        value: 'resource:default/payments-db',
                      },
                    },
                  ],
                },
              ],
            },
          ],
        },
      });
      expect(ownedEntityRefs).toHaveBeenCalledWith([
        'user:default/carla.chen',
        'group:default/payments',
        'group:default/production-deployers',
        'group:default/engineering',
      ]);
    });

    it('allows no deploy at all to someone who owns nothing and deploys nowhere', async () => {
      const { decide } = createPolicy();
      await expect(
        decide(actionExecutePermission, 'rosa.ruiz'),
      ).resolves.toMatchObject({
        result: AuthorizeResult.CONDITIONAL,
        conditions: {
          not: { rule: 'HAS_ACTION_ID', params: { actionId: 'entra:deploy' } },
        },
      });
    });

    it('allows every action when no deploy is configured', async () => {
      const { decide } = createPolicy({ admins: ['group:default/admins'] });
      await expect(
        decide(actionExecutePermission, 'rosa.ruiz'),
      ).resolves.toEqual(ALLOW);
    });
  });

  it.each([
    ['kubernetes.clusters.read', ALLOW],
    ['kubernetes.resources.read', ALLOW],
    ['kubernetes.proxy', DENY],
    ['techdocs.actions.read', ALLOW],
  ])('decides %s of the other installed plugins', async (name, expected) => {
    const { decide } = createPolicy();
    await expect(
      decide(createPermission({ name, attributes: {} }), 'rosa.ruiz'),
    ).resolves.toEqual(expected);
  });
});

describe('OwnershipPolicy with app-role groups (auth.providers.entra-app.roleGroups)', () => {
  const registrars = 'group:default/catalog-registrars';
  const policyFor = (tokenRoleGroups: string[]) =>
    new OwnershipPolicy({
      config: readOwnershipPolicyConfig(
        new ConfigReader({
          permission: {
            ownershipPolicy: {
              ...fullConfig,
              catalog: { ...fullConfig.catalog, registerGroups: [registrars] },
            },
          },
        }),
      ),
      identities: {
        currentOwnershipRefs: async ref => [ref, 'group:default/data'],
      },
      ownedEntities: { ownedEntityRefs: async () => [] },
      logger: mockServices.logger.mock(),
      tokenRoleGroups,
    });
  const asPipeline = (ownershipEntityRefs: string[]) => ({
    credentials: mockCredentials.user('user:default/app-registrar-pipeline'),
    info: {
      userEntityRef: 'user:default/app-registrar-pipeline',
      ownershipEntityRefs,
    },
  });
  const create = { permission: catalogLocationCreatePermission };

  it('counts a role group while the token carries it', async () => {
    await expect(
      policyFor([registrars]).handle(
        create,
        asPipeline(['user:default/app-registrar-pipeline', registrars]),
      ),
    ).resolves.toEqual(ALLOW);
  });

  it('denies once the token no longer carries the role group', async () => {
    await expect(
      policyFor([registrars]).handle(
        create,
        asPipeline(['user:default/app-registrar-pipeline']),
      ),
    ).resolves.toEqual(DENY);
  });

  it('ignores any other group a token claims: only the catalog says who is in a group', async () => {
    await expect(
      policyFor([registrars]).handle(
        create,
        asPipeline([
          'group:default/platform-admins',
          registrars.replace('registrars', 'x'),
        ]),
      ),
    ).resolves.toEqual(DENY);
    // Not mapped from a role: a token's claim of the group means nothing.
    await expect(
      policyFor([]).handle(create, asPipeline([registrars])),
    ).resolves.toEqual(DENY);
  });
});
