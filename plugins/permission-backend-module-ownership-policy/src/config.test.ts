import { ConfigReader } from '@backstage/config';
import { readOwnershipPolicyConfig } from './config';

const read = (ownershipPolicy: unknown) =>
  readOwnershipPolicyConfig(
    new ConfigReader({ permission: { ownershipPolicy } } as any),
  );

describe('readOwnershipPolicyConfig', () => {
  it('reads a full configuration, normalising refs to full lowercase refs', () => {
    expect(
      read({
        admins: ['group:Platform-Admins'],
        catalog: {
          restrictReadToOwners: { kinds: ['Resource'] },
          registerGroups: ['group:default/engineering'],
        },
        scaffolder: {
          tags: [{ tag: 'production', groups: ['group:default/deployers'] }],
          templates: [
            {
              template: 'template:default/Create-Database',
              groups: ['group:default/platform-team'],
            },
          ],
          dryRunGroups: ['group:default/template-authors'],
          deploy: {
            actions: ['entra:deploy'],
            targetInput: 'entityRef',
            environments: [
              { name: 'production', groups: ['group:default/deployers'] },
              { name: 'staging' },
            ],
          },
        },
      }),
    ).toEqual({
      admins: ['group:default/platform-admins'],
      identityCacheTtlMs: 30_000,
      catalog: {
        restrictReadToOwners: ['resource'],
        registerGroups: ['group:default/engineering'],
      },
      scaffolder: {
        tags: [{ tag: 'production', groups: ['group:default/deployers'] }],
        templates: [
          {
            template: 'template:default/create-database',
            groups: ['group:default/platform-team'],
          },
        ],
        dryRunGroups: ['group:default/template-authors'],
        deploy: {
          actions: ['entra:deploy'],
          environmentInput: 'environment',
          targetInput: 'entityRef',
          environments: [
            { name: 'production', groups: ['group:default/deployers'] },
            { name: 'staging', groups: undefined },
          ],
        },
      },
    });
  });

  it('defaults to reading for all, registering for admins only, no scaffolder limits', () => {
    expect(read({ admins: ['group:default/admins'] })).toEqual({
      admins: ['group:default/admins'],
      identityCacheTtlMs: 30_000,
      catalog: { restrictReadToOwners: [], registerGroups: [] },
      scaffolder: {
        tags: [],
        templates: [],
        dryRunGroups: [],
        deploy: undefined,
      },
    });
  });

  it.each([
    ['5s', 5_000],
    ['PT1M', 60_000],
    [{ seconds: 90 }, 90_000],
    [{ minutes: 1, seconds: 30 }, 90_000],
    [{ milliseconds: 0 }, 0],
  ])('reads identityCacheTtl %j as %d ms', (identityCacheTtl, ms) => {
    expect(
      read({ admins: ['group:default/admins'], identityCacheTtl })
        .identityCacheTtlMs,
    ).toBe(ms);
  });

  it.each<[unknown, RegExp]>([
    ['soon', /identityCacheTtl: must be a duration such as '30s'/],
    [{ days: 1 }, /identityCacheTtl: 'days' is too long .* seconds or minutes/],
    [{ seconds: -5 }, /identityCacheTtl: must not be negative/],
  ])(
    'refuses identityCacheTtl %j naming the key',
    (identityCacheTtl, message) => {
      expect(() =>
        read({ admins: ['group:default/admins'], identityCacheTtl }),
      ).toThrow(message);
    },
  );

  it('reads registerGroups left out, or empty, as admins only', () => {
    expect(
      read({ admins: ['group:default/a'], catalog: { registerGroups: [] } })
        .catalog.registerGroups,
    ).toEqual([]);
    expect(
      read({ admins: ['group:default/a'], catalog: {} }).catalog.registerGroups,
    ).toEqual([]);
  });

  it.each([
    [undefined, /Missing config permission\.ownershipPolicy/],
    [{}, /permission\.ownershipPolicy\.admins: is required/],
    [
      { admins: [] },
      /permission\.ownershipPolicy\.admins: must name at least one group/,
    ],
    [
      { admins: ['platform-admins'] },
      /permission\.ownershipPolicy\.admins\[0\]: 'platform-admins' is not an entity ref; write it as group:default\/<name>/,
    ],
    [
      { admins: ['user:default/ada.admin'] },
      /permission\.ownershipPolicy\.admins\[0\]: 'user:default\/ada\.admin' is a user ref, expected a group ref/,
    ],
    [
      { admins: 'group:default/a' },
      /permission\.ownershipPolicy\.admins: must be a list of strings/,
    ],
    [
      {
        admins: ['group:default/a'],
        restrictReadToOwners: { kinds: ['Resource'] },
      },
      /permission\.ownershipPolicy\.restrictReadToOwners: unknown key; expected one of admins, identityCacheTtl, catalog, scaffolder/,
    ],
    [
      {
        admins: ['group:default/a'],
        catalog: { restrictReadToOwners: { kinds: ['not a kind'] } },
      },
      /catalog\.restrictReadToOwners\.kinds\[0\]: 'not a kind' is not an entity kind/,
    ],
    [
      {
        admins: ['group:default/a'],
        catalog: { registerGroups: ['group:default/a', 'engineering'] },
      },
      /permission\.ownershipPolicy\.catalog\.registerGroups\[1\]/,
    ],
    [
      { admins: ['group:default/a'], scaffolder: { tags: [{ groups: [] }] } },
      /scaffolder\.tags\[0\]\.tag: is required/,
    ],
    [
      {
        admins: ['group:default/a'],
        scaffolder: {
          tags: [
            { tag: 'x', groups: [] },
            { tag: 'x', groups: [] },
          ],
        },
      },
      /scaffolder\.tags\[1\]: tag 'x' is listed twice/,
    ],
    [
      {
        admins: ['group:default/a'],
        scaffolder: {
          templates: [{ template: 'component:default/x', groups: [] }],
        },
      },
      /scaffolder\.templates\[0\]\.template: 'component:default\/x' is a component ref, expected a template ref/,
    ],
    [
      {
        admins: ['group:default/a'],
        scaffolder: { deploy: { actions: [], environments: [{ name: 'x' }] } },
      },
      /scaffolder\.deploy\.actions: must name at least one action id/,
    ],
    [
      {
        admins: ['group:default/a'],
        scaffolder: { deploy: { actions: ['entra:deploy'], environments: [] } },
      },
      /scaffolder\.deploy\.environments: must list at least one environment/,
    ],
    [
      {
        admins: ['group:default/a'],
        scaffolder: {
          deploy: {
            actions: ['entra:deploy'],
            environments: [{ name: 'production', groups: ['deployers'] }],
          },
        },
      },
      /scaffolder\.deploy\.environments\[0\]\.groups\[0\]: 'deployers' is not an entity ref/,
    ],
  ])('refuses %j naming the key', (policy, message) => {
    expect(() => read(policy)).toThrow(message);
  });
});
