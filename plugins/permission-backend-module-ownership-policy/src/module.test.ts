/*
 * The policy as the portal runs it: seeded people signed in through Entra
 * (the emulator) with the ownership refs sign-in gives them, calling the real
 * catalog and scaffolder routes over HTTP; the plugins ask the real
 * permission backend, which asks this policy.
 *
 * Who is who (packages/entra-emulator/seed/tenant.yaml):
 *   owner        carla.chen  member of payments (owns payments-service and
 *                            payments-db) and of production-deployers
 *   nestedOwner  eve.ellis   member of payments-api, nested in payments
 *   nonOwner     rosa.ruiz   member of data; owns nothing here
 *   admin        ada.admin   member of platform-admins
 *   service      an external caller with a static token, restricted to reads
 *   none         no token
 */
import { Entity } from '@backstage/catalog-model';
import type { EntraEmulator } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import {
  RecordedDeploy,
  signIn,
  startPortalBackend,
} from './__testUtils__/backend';
import { CATALOG_FIXTURE } from './__testUtils__/paths';
import {
  readEntityFile,
  seededOrgEntities,
} from '../dev/policyTest/catalogFixture';

type Who = 'owner' | 'nestedOwner' | 'nonOwner' | 'admin' | 'service' | 'none';

const PEOPLE = {
  owner: 'carla.chen@contoso.example',
  nestedOwner: 'eve.ellis@contoso.example',
  nonOwner: 'rosa.ruiz@contoso.example',
  admin: 'ada.admin@contoso.example',
};
const EVERYONE: Who[] = [
  'owner',
  'nestedOwner',
  'nonOwner',
  'admin',
  'service',
  'none',
];
const STATIC_TOKEN = 'read-only-robot-token-0123456789abcdef';

const SERVICE = 'component:default/payments-service';
const DATABASE = 'resource:default/payments-db'; // a kind only owners read
// Run by payments only (owner, and nestedOwner through payments-api); read by all.
const RESTRICTED_TEMPLATE = 'template:default/create-database';
const DEPLOY_TEMPLATE = 'template:default/deploy-service';
const MISSING = 'resource:default/no-such-database';

const ownershipPolicy = {
  admins: ['group:default/platform-admins'],
  catalog: {
    restrictReadToOwners: { kinds: ['Resource'] },
    registerGroups: ['group:default/payments'],
  },
  scaffolder: {
    tags: [
      { tag: 'production', groups: ['group:default/production-deployers'] },
    ],
    templates: [
      {
        template: RESTRICTED_TEMPLATE,
        groups: ['group:default/payments'],
      },
    ],
    deploy: {
      actions: ['entra:deploy'],
      environments: [
        { name: 'production', groups: ['group:default/production-deployers'] },
        { name: 'staging' },
      ],
    },
  },
};

/** One entity per caller, owned by payments, for the delete route. */
const disposable = (who: Who): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: `disposable-${who.toLowerCase()}` },
  spec: { type: 'service', lifecycle: 'experimental', owner: 'payments' },
});

describe('the ownership policy behind the catalog and scaffolder routes', () => {
  let emulator: EntraEmulator;
  let baseUrl: string;
  let deploys: RecordedDeploy[];
  let stopBackend: () => Promise<void>;
  const headers = {} as Record<Who, Record<string, string>>;
  const ownership = {} as Record<string, string[]>;

  const api = (who: Who, method: string, path: string, body?: unknown) =>
    fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...headers[who],
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  const json = async (who: Who, method: string, path: string, body?: any) => {
    const res = await api(who, method, path, body);
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const byName = (ref: string) => {
    const [kind, rest] = ref.split(':');
    return `/api/catalog/entities/by-name/${kind}/${rest}`;
  };

  beforeAll(async () => {
    emulator = await startTestEmulator();
    const started = await startPortalBackend({
      emulator,
      entities: [
        ...seededOrgEntities(),
        ...readEntityFile(CATALOG_FIXTURE),
        ...EVERYONE.map(disposable),
      ],
      ownershipPolicy,
      staticToken: STATIC_TOKEN,
    });
    baseUrl = started.baseUrl;
    deploys = started.deploys;
    stopBackend = () => started.backend.stop();
    headers.service = { authorization: `Bearer ${STATIC_TOKEN}` };
    headers.none = {};

    // Org and fixture entities are processed and stitched in the background.
    const deadline = Date.now() + 45_000;
    for (;;) {
      const { body } = await json(
        'service',
        'POST',
        '/api/catalog/entities/by-refs',
        {
          entityRefs: [
            DEPLOY_TEMPLATE,
            'group:default/engineering',
            ...EVERYONE.map(
              w => `component:default/disposable-${w.toLowerCase()}`,
            ),
          ],
        },
      );
      if (body?.items?.every((e: Entity | null) => e?.relations?.length)) break;
      if (Date.now() > deadline) throw new Error('Catalog never settled');
      await new Promise(r => setTimeout(r, 250));
    }
    for (const [who, upn] of Object.entries(PEOPLE)) {
      const { token, ownershipEntityRefs } = await signIn(baseUrl, upn);
      headers[who as Who] = { authorization: `Bearer ${token}` };
      ownership[who] = ownershipEntityRefs;
    }
  });

  afterAll(async () => {
    await stopBackend?.();
    await emulator?.close();
  });

  it('signs people in with their nested groups as ownership refs', () => {
    expect(ownership.nestedOwner).toEqual(
      expect.arrayContaining([
        'user:default/eve.ellis',
        'group:default/payments-api',
        'group:default/payments',
      ]),
    );
    expect(ownership.admin).toContain('group:default/platform-admins');
    expect(ownership.nonOwner).not.toContain('group:default/payments');
  });

  describe('catalog reads: a hidden entity behaves as if it did not exist', () => {
    const refs = [SERVICE, DATABASE, RESTRICTED_TEMPLATE];
    const refOf = (e: Entity) =>
      `${e.kind.toLowerCase()}:${e.metadata.namespace}/${e.metadata.name}`;
    const names =
      'filter=metadata.name=payments-service,metadata.name=payments-db,metadata.name=create-database';

    it.each<[Who, string[] | number]>([
      ['owner', refs],
      ['nestedOwner', refs],
      ['nonOwner', [SERVICE, RESTRICTED_TEMPLATE]],
      ['admin', refs],
      ['service', refs],
      ['none', 401],
    ])('GET /entities as %s lists %j', async (who, expected) => {
      const { status, body } = await json(
        who,
        'GET',
        `/api/catalog/entities?${names}&fields=kind,metadata.namespace,metadata.name`,
      );
      const listed = status === 200 ? body.map(refOf) : [];
      expect(
        status === 200 ? refs.filter(r => listed.includes(r)) : status,
      ).toEqual(expected);
    });

    it.each<[Who, boolean[] | number]>([
      ['owner', [true, true, true]],
      ['nestedOwner', [true, true, true]],
      ['nonOwner', [true, false, true]],
      ['admin', [true, true, true]],
      ['service', [true, true, true]],
      ['none', 401],
    ])('POST /entities/by-refs as %s finds %j', async (who, expected) => {
      const { status, body } = await json(
        who,
        'POST',
        '/api/catalog/entities/by-refs',
        { entityRefs: refs, fields: ['metadata.name'] },
      );
      expect(
        status === 200
          ? body.items.map((e: Entity | null) => e !== null)
          : status,
      ).toEqual(expected);
    });

    it.each<[Who, string[] | number]>([
      ['owner', refs],
      ['nestedOwner', refs],
      ['nonOwner', [SERVICE, RESTRICTED_TEMPLATE]],
      ['admin', refs],
      ['service', refs],
      ['none', 401],
    ])('GET /entities/by-query as %s finds %j', async (who, expected) => {
      const { status, body } = await json(
        who,
        'GET',
        `/api/catalog/entities/by-query?${names}&fields=kind,metadata.namespace,metadata.name&orderField=metadata.name,asc`,
      );
      // Counted in the database, after the permission filter.
      const counted = status === 200 ? body.totalItems : status;
      expect(counted).toBe(
        typeof expected === 'number' ? 401 : expected.length,
      );
      const listed = status === 200 ? body.items.map(refOf) : [];
      expect(
        status === 200 ? refs.filter(r => listed.includes(r)) : status,
      ).toEqual(expected);
    });

    it.each<[Who, Record<string, number> | number]>([
      ['owner', { Component: 1, Resource: 1, Template: 1 }],
      ['nestedOwner', { Component: 1, Resource: 1, Template: 1 }],
      ['nonOwner', { Component: 1, Template: 1 }],
      ['admin', { Component: 1, Resource: 1, Template: 1 }],
      ['service', { Component: 1, Resource: 1, Template: 1 }],
      ['none', 401],
    ])('GET /entity-facets as %s counts %j', async (who, expected) => {
      const { status, body } = await json(
        who,
        'GET',
        `/api/catalog/entity-facets?facet=kind&${names}`,
      );
      const counts =
        status === 200
          ? Object.fromEntries(
              body.facets.kind.map((f: { value: string; count: number }) => [
                f.value,
                f.count,
              ]),
            )
          : status;
      expect(counts).toEqual(expected);
    });

    // payments-service, payments-db, create-database, a resource that does not exist
    it.each<[Who, number[]]>([
      ['owner', [200, 200, 200, 404]],
      ['nestedOwner', [200, 200, 200, 404]],
      ['nonOwner', [200, 404, 200, 404]],
      ['admin', [200, 200, 200, 404]],
      ['service', [200, 200, 200, 404]],
      ['none', [401, 401, 401, 401]],
    ])('GET /entities/by-name as %s: %j', async (who, expected) => {
      const statuses = await Promise.all(
        [...refs, MISSING].map(
          async r => (await api(who, 'GET', byName(r))).status,
        ),
      );
      expect(statuses).toEqual(expected);
    });

    // payments-db, a resource that does not exist. The catalog answers 403 to
    // a caller the policy filters, for entities hidden and missing alike.
    it.each<[Who, [number, number]]>([
      ['owner', [200, 403]],
      ['nestedOwner', [200, 403]],
      ['nonOwner', [403, 403]],
      ['admin', [200, 404]],
      ['service', [200, 404]],
      ['none', [401, 401]],
    ])(
      'GET /entities/by-name/.../ancestry as %s: %j',
      async (who, expected) => {
        const statuses = await Promise.all(
          [DATABASE, MISSING].map(
            async r => (await api(who, 'GET', `${byName(r)}/ancestry`)).status,
          ),
        );
        expect(statuses).toEqual(expected);
      },
    );

    it.each<[Who, number]>([
      ['owner', 200],
      ['nestedOwner', 200],
      ['nonOwner', 200],
      ['admin', 200],
      ['service', 200],
      ['none', 401],
    ])('GET /locations as %s: %i', async (who, expected) => {
      const { status, body } = await json(who, 'GET', '/api/catalog/locations');
      expect([status, Array.isArray(body)]).toEqual([
        expected,
        expected === 200,
      ]);
    });
  });

  describe('catalog changes: owners (nested groups included) and admins', () => {
    it.each<[Who, number]>([
      ['owner', 200],
      ['nestedOwner', 200],
      ['nonOwner', 403],
      ['admin', 200],
      ['service', 403], // read-only external token
      ['none', 401],
    ])('POST /refresh as %s: %i', async (who, expected) => {
      const res = await api(who, 'POST', '/api/catalog/refresh', {
        entityRef: SERVICE,
      });
      expect(res.status).toBe(expected);
    });

    it.each<[Who, number]>([
      ['owner', 204],
      ['nestedOwner', 204],
      ['nonOwner', 403],
      ['admin', 204],
      ['service', 403],
      ['none', 401],
    ])('DELETE /entities/by-uid/:uid as %s: %i', async (who, expected) => {
      const ref = `component:default/disposable-${who.toLowerCase()}`;
      const before = await json('admin', 'GET', byName(ref));
      const uid = before.body.metadata.uid;
      const res = await api(
        who,
        'DELETE',
        `/api/catalog/entities/by-uid/${uid}`,
      );
      expect(res.status).toBe(expected);
      const after = await api('admin', 'GET', byName(ref));
      expect(after.status).toBe(expected === 204 ? 404 : 200);
    });

    const locationIds = {} as Record<Who, string>;

    it.each<[Who, number]>([
      ['owner', 201], // payments is a register group
      ['nestedOwner', 201], // through payments-api
      ['nonOwner', 403],
      ['admin', 201],
      ['service', 403],
      ['none', 401],
    ])('POST /locations as %s: %i', async (who, expected) => {
      const { status, body } = await json(
        who,
        'POST',
        '/api/catalog/locations',
        {
          type: 'url',
          target: `https://catalog.test/${who}/catalog-info.yaml`,
        },
      );
      expect(status).toBe(expected);
      if (status === 201) locationIds[who] = body.location.id;
    });

    it.each<[Who, number]>([
      ['owner', 403],
      ['nestedOwner', 403],
      ['nonOwner', 403],
      ['admin', 204],
      ['service', 403],
      ['none', 401],
    ])(
      'DELETE /locations/:id as %s: %i (the catalog does not say which location: admins only)',
      async (who, expected) => {
        const id = locationIds[who] ?? locationIds.owner;
        const res = await api(who, 'DELETE', `/api/catalog/locations/${id}`);
        expect(res.status).toBe(expected);
      },
    );
  });

  describe('scaffolder', () => {
    const schema = (ref: string) => {
      const [, rest] = ref.split(':');
      const [namespace, name] = rest.split('/');
      return `/api/scaffolder/v2/templates/${namespace}/template/${name}/parameter-schema`;
    };

    // The scaffolder reads templates from the catalog on the caller's
    // behalf, which Backstage refuses for an access-restricted token.
    it.each<[Who, number, string[]]>([
      ['owner', 200, ['What to deploy', 'Production change']],
      ['nestedOwner', 200, ['What to deploy']],
      ['nonOwner', 200, ['What to deploy']],
      ['admin', 200, ['What to deploy', 'Production change']],
      ['service', 403, []],
      ['none', 401, []],
    ])(
      'GET /v2/templates/.../parameter-schema as %s shows tagged steps to production-deployers only',
      async (who, expected, titles) => {
        const { status, body } = await json(
          who,
          'GET',
          schema(DEPLOY_TEMPLATE),
        );
        expect([
          status,
          status === 200
            ? body.steps.map((p: { title: string }) => p.title)
            : [],
        ]).toEqual([expected, titles]);
      },
    );

    it.each<[Who, number]>([
      ['owner', 200],
      ['nestedOwner', 200],
      ['nonOwner', 200],
      ['admin', 200],
      ['service', 403],
      ['none', 401],
    ])(
      'GET /v2/templates/.../parameter-schema of a template only payments may run as %s: %i',
      async (who, expected) => {
        const { status, body } = await json(
          who,
          'GET',
          schema(RESTRICTED_TEMPLATE),
        );
        expect([status, body?.steps?.[0]?.title]).toEqual([
          expected,
          expected === 200 ? 'Database' : undefined,
        ]);
      },
    );

    const tasks = {} as Record<string, string>;
    const runTask = (who: Who, values: object, templateRef = DEPLOY_TEMPLATE) =>
      json(who, 'POST', '/api/scaffolder/v2/tasks', { templateRef, values });
    const finished = async (id: string) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const { body } = await json(
          'admin',
          'GET',
          `/api/scaffolder/v2/tasks/${id}`,
        );
        if (['completed', 'failed', 'cancelled'].includes(body.status)) {
          return body.status as string;
        }
        if (Date.now() > deadline) throw new Error(`Task ${id} never finished`);
        await new Promise(r => setTimeout(r, 200));
      }
    };

    it.each<[Who, number, string | undefined]>([
      ['owner', 201, 'completed'],
      ['nestedOwner', 201, 'completed'], // owns payments-service through payments-api
      ['nonOwner', 201, 'failed'], // may run the template, not deploy what it does not own
      ['admin', 201, 'completed'],
      ['service', 403, undefined],
      ['none', 401, undefined],
    ])(
      'POST /v2/tasks deploying payments-service to staging as %s: %i, task %s',
      async (who, expected, outcome) => {
        const { status, body } = await runTask(who, {
          component: SERVICE,
          environment: 'staging',
        });
        tasks[who] = body?.id;
        expect([
          status,
          status === 201 ? await finished(body.id) : undefined,
        ]).toEqual([expected, outcome]);
      },
    );

    it('deploys to staging only for owners and admins, as the signed-in person', () => {
      expect(
        deploys.filter(d => d.environment === 'staging').map(d => d.user),
      ).toEqual(
        expect.arrayContaining([
          'user:default/carla.chen',
          'user:default/eve.ellis',
          'user:default/ada.admin',
        ]),
      );
      expect(deploys.map(d => d.user)).not.toContain('user:default/rosa.ruiz');
    });

    it.each<[Who, string]>([
      ['owner', 'completed'], // production-deployers
      ['nestedOwner', 'failed'], // owner, but not a production deployer
      ['nonOwner', 'failed'],
      ['admin', 'completed'],
    ])(
      'POST /v2/tasks deploying to production as %s: task %s',
      async (who, outcome) => {
        const { status, body } = await runTask(who, {
          component: SERVICE,
          environment: 'production',
          changeTicket: 'CHG-1',
        });
        expect(status).toBe(201);
        tasks[`${who}-production`] = body.id;
        expect(await finished(body.id)).toBe(outcome);
      },
    );

    it.each<[Who, number, string | undefined]>([
      ['owner', 201, undefined],
      ['nestedOwner', 201, undefined], // in payments through payments-api
      [
        'nonOwner',
        403,
        'You may not run template:default/create-database: only members of group:default/payments (and portal admins) can run it',
      ],
      ['admin', 201, undefined],
      ['service', 403, undefined], // read-only external token
      ['none', 401, undefined],
    ])(
      'POST /v2/tasks with a template only payments may run as %s: %i',
      async (who, expected, reason) => {
        const { status, body } = await runTask(
          who,
          { name: 'orders' },
          RESTRICTED_TEMPLATE,
        );
        expect([status, reason && body.error.message]).toEqual([
          expected,
          reason,
        ]);
      },
    );

    it('runs production-tagged steps only for production deployers', async () => {
      const messages = async (id: string) =>
        JSON.stringify(
          (await json('admin', 'GET', `/api/scaffolder/v2/tasks/${id}/events`))
            .body,
        );
      expect(await messages(tasks['owner-production'])).toContain(
        'Change ticket CHG-1',
      );
      expect(await messages(tasks.nestedOwner)).not.toContain('Change ticket');
      expect(await messages(tasks.nonOwner)).toContain('Unauthorized action');
    });

    // The owner's task. The scaffolder answers 403 to anyone the policy
    // filters out (404 is for ids that do not exist): it reveals no content,
    // but does confirm that a task id someone holds exists.
    const taskAccess: Array<[Who, number]> = [
      ['owner', 200],
      ['nestedOwner', 403],
      ['nonOwner', 403],
      ['admin', 200],
      ['service', 200],
      ['none', 401],
    ];

    it.each(taskAccess)(
      'GET /v2/tasks/:id as %s: %i',
      async (who, expected) => {
        const res = await api(
          who,
          'GET',
          `/api/scaffolder/v2/tasks/${tasks.owner}`,
        );
        // Nothing of the task (creator, inputs) in a refusal.
        const text = await res.text();
        expect([res.status, text.includes('carla.chen')]).toEqual([
          expected,
          expected === 200,
        ]);
      },
    );

    it.each(taskAccess)(
      'GET /v2/tasks/:id/events as %s: %i',
      async (who, expected) => {
        const res = await api(
          who,
          'GET',
          `/api/scaffolder/v2/tasks/${tasks.owner}/events`,
        );
        // The log lines name what was deployed; a refusal shows none.
        const text = await res.text();
        expect([res.status, text.includes('Deploying')]).toEqual([
          expected,
          expected === 200,
        ]);
      },
    );

    const allCreators = [
      'user:default/ada.admin',
      'user:default/carla.chen',
      'user:default/eve.ellis',
      'user:default/rosa.ruiz',
    ];

    it.each<[Who, string[] | number]>([
      ['owner', ['user:default/carla.chen']],
      ['nestedOwner', ['user:default/eve.ellis']],
      ['nonOwner', ['user:default/rosa.ruiz']],
      ['admin', allCreators],
      ['service', allCreators],
      ['none', 401],
    ])('GET /v2/tasks as %s lists tasks of %j', async (who, expected) => {
      const { status, body } = await json(
        who,
        'GET',
        '/api/scaffolder/v2/tasks',
      );
      const creators =
        status === 200
          ? [
              ...new Set(
                body.tasks.map((t: { createdBy: string }) => t.createdBy),
              ),
            ].sort()
          : status;
      expect(creators).toEqual(expected);
      // Filtered in the database: the total counts only what is listed.
      expect(body?.totalTasks ?? 0).toBe(body?.tasks?.length ?? 0);
    });
  });

  it('never lets an unauthenticated caller reach the policy', async () => {
    const { status, body } = await json(
      'none',
      'POST',
      '/api/permission/authorize',
      {
        items: [
          {
            id: '1',
            permission: {
              type: 'resource',
              name: 'catalog.entity.read',
              attributes: { action: 'read' },
              resourceType: 'catalog-entity',
            },
            resourceRef: SERVICE,
          },
        ],
      },
    );
    // Backstage's default auth policy answers first; were it disabled, the
    // policy would deny a caller without a user (see policy.test.ts).
    expect(status).toBe(401);
    expect(body.items).toBeUndefined();
  });
});
