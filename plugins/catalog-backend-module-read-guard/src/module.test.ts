import { mockCredentials } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import request from 'supertest';
import {
  ADMIN,
  ANALYZED_REPO,
  HIDDEN,
  MISSING,
  NON_OWNER,
  OWNER,
  permissions,
  startCatalog,
} from './__testUtils__/startCatalog';

const LEDGER_DB = 'resource:default/ledger-db'; // hidden, from a registered location
const GROUP = 'group:default/payments';

describe('catalog read guard', () => {
  let server: Awaited<ReturnType<typeof startCatalog>>['server'];
  let as: (who: string) => string;
  let dir: string;
  let proposed: string;

  beforeAll(async () => {
    ({ server, as, dir, proposed } = await startCatalog({ guard: true }));
  });

  const get = (who: string, url: string) =>
    request(server).get(url).set('Authorization', as(who));
  const post = (who: string, url: string, body: object) =>
    request(server).post(url).set('Authorization', as(who)).send(body);
  const refOf = (e: Entity) =>
    `${e.kind.toLowerCase()}:${e.metadata.namespace ?? 'default'}/${
      e.metadata.name
    }`;
  const targets = (e: Entity, type: string) =>
    (e.relations ?? [])
      .filter(r => r.type === type)
      .map(r => r.targetRef)
      .sort();

  it('POST /locations?dryRun=true lists only what the caller may read', async () => {
    const dryRun = async (who: string) => {
      const res = await post(who, '/api/catalog/locations?dryRun=true', {
        type: 'file',
        target: proposed,
      });
      expect(res.status).toBe(201);
      return (res.body.entities as Entity[])
        .map(refOf)
        .filter(r => !r.startsWith('location:'))
        .sort();
    };
    expect(await dryRun(NON_OWNER)).toEqual(['component:default/new-service']);
    // Owners (whose reads are filtered too) and admins see their own.
    const all = [
      'component:default/new-service',
      'resource:default/new-secret-db',
    ];
    expect(await dryRun(OWNER)).toEqual(all);
    expect(await dryRun(ADMIN)).toEqual(all);
  });

  it('POST /analyze-location lists only the existing entities the caller may read', async () => {
    const analyze = async (who: string) => {
      const res = await post(who, '/api/catalog/analyze-location', {
        location: { type: 'url', target: ANALYZED_REPO },
      });
      expect(res.status).toBe(200);
      return res.body.existingEntityFiles
        .map((f: { entity: Entity }) => refOf(f.entity))
        .sort();
    };
    expect(await analyze(NON_OWNER)).toEqual(['component:default/new-service']);
    const all = [
      'component:default/new-service',
      'resource:default/new-secret-db',
    ];
    expect(await analyze(OWNER)).toEqual(all);
    expect(await analyze(ADMIN)).toEqual(all);
  });

  describe('relations to entities the caller may not read are left out of entity bodies', () => {
    const routes: [string, (who: string) => Promise<Entity>][] = [
      [
        'GET /entities/by-name',
        async who =>
          (
            await get(
              who,
              '/api/catalog/entities/by-name/group/default/payments',
            )
          ).body,
      ],
      [
        'GET /entities',
        async who =>
          (
            await get(
              who,
              '/api/catalog/entities?filter=kind=group,metadata.name=payments',
            )
          ).body[0],
      ],
      [
        'GET /entities (paginated)',
        async who =>
          (
            await get(
              who,
              '/api/catalog/entities?filter=kind=group,metadata.name=payments&limit=5',
            )
          ).body[0],
      ],
      [
        'GET /entities/by-query',
        async who =>
          (
            await get(
              who,
              '/api/catalog/entities/by-query?filter=kind=group,metadata.name=payments',
            )
          ).body.items[0],
      ],
      [
        'POST /entities/by-query',
        async who =>
          (
            await post(who, '/api/catalog/entities/by-query', {
              query: { kind: 'group', 'metadata.name': 'payments' },
            })
          ).body.items[0],
      ],
      [
        'POST /entities/by-refs',
        async who =>
          (
            await post(who, '/api/catalog/entities/by-refs', {
              entityRefs: [GROUP],
            })
          ).body.items[0],
      ],
      [
        'GET /entities/by-uid',
        async who => {
          const { uid } = (
            await get(
              ADMIN,
              '/api/catalog/entities/by-name/group/default/payments',
            )
          ).body.metadata;
          return (await get(who, `/api/catalog/entities/by-uid/${uid}`)).body;
        },
      ],
      [
        'the catalog query action (what the MCP query tool calls)',
        async who =>
          (
            await post(
              who,
              '/api/catalog/.backstage/actions/v1/actions/catalog:query-catalog-entities/invoke',
              { query: { kind: 'group', 'metadata.name': 'payments' } },
            )
          ).body.output.items[0],
      ],
    ];

    it.each(routes)("%s: a group's ownerOf", async (_, fetchGroup) => {
      expect(targets(await fetchGroup(NON_OWNER), 'ownerOf')).toEqual([
        'component:default/payments-service',
        'system:default/payments-system',
      ]);
      expect(targets(await fetchGroup(OWNER), 'ownerOf')).toEqual([
        'component:default/payments-service',
        LEDGER_DB,
        HIDDEN,
        'system:default/payments-system',
      ]);
    });

    it("a system's hasPart", async () => {
      const path =
        '/api/catalog/entities/by-name/system/default/payments-system';
      expect(targets((await get(NON_OWNER, path)).body, 'hasPart')).toEqual([
        'component:default/payments-service',
      ]);
      expect(targets((await get(OWNER, path)).body, 'hasPart')).toEqual([
        'component:default/payments-service',
        HIDDEN,
      ]);
    });

    it('a relation to a hidden entity looks like one to a missing entity: neither is shown', async () => {
      const path =
        '/api/catalog/entities/by-name/component/default/payments-service';
      expect(targets((await get(NON_OWNER, path)).body, 'dependsOn')).toEqual(
        [],
      );
      expect(targets((await get(OWNER, path)).body, 'dependsOn')).toEqual([
        HIDDEN,
      ]);
      // Unfiltered callers get the catalog's answer untouched: admins, and
      // plugins calling with their own credentials (search indexing, ...).
      expect(targets((await get(ADMIN, path)).body, 'dependsOn')).toEqual(
        [MISSING, HIDDEN].sort(),
      );
      const asService = await request(server)
        .get(path)
        .set('Authorization', mockCredentials.service.header());
      expect(targets(asService.body, 'dependsOn')).toEqual(
        [MISSING, HIDDEN].sort(),
      );
    });
  });

  describe('a relation filter on a hidden entity answers as for a ref that does not exist', () => {
    const answers: [string, (who: string, ref: string) => Promise<unknown>][] =
      [
        [
          'GET /entities',
          async (who, ref) =>
            (
              await get(
                who,
                `/api/catalog/entities?filter=relations.ownerOf=${ref}`,
              )
            ).body.map(refOf),
        ],
        [
          'GET /entities/by-query',
          async (who, ref) => {
            const { body } = await get(
              who,
              `/api/catalog/entities/by-query?filter=relations.ownerOf=${ref}`,
            );
            return [body.totalItems, body.items.map(refOf)];
          },
        ],
        [
          'GET /entities/by-query with a cursor',
          async (who, ref) => {
            const first = await get(
              who,
              // Page 2 starts after group "data": "payments" is on it.
              '/api/catalog/entities/by-query?filter=kind=group&orderField=metadata.name,asc&limit=1',
            );
            const cursor = JSON.parse(
              Buffer.from(first.body.pageInfo.nextCursor, 'base64').toString(),
            );
            delete cursor.filter;
            cursor.query = { 'relations.ownerOf': ref };
            const { body } = await get(
              who,
              `/api/catalog/entities/by-query?cursor=${encodeURIComponent(
                Buffer.from(JSON.stringify(cursor)).toString('base64'),
              )}`,
            );
            return body.items.map(refOf);
          },
        ],
        [
          'POST /entities/by-query',
          async (who, ref) => {
            const { body } = await post(who, '/api/catalog/entities/by-query', {
              query: { 'relations.ownerOf': { $in: [ref] } },
            });
            return [body.totalItems, body.items.map(refOf)];
          },
        ],
        [
          'POST /entities/by-query, relations $contains',
          async (who, ref) => {
            const { body } = await post(who, '/api/catalog/entities/by-query', {
              query: {
                relations: { $contains: { type: 'ownerOf', targetRef: ref } },
              },
            });
            return [body.totalItems, body.items.map(refOf)];
          },
        ],
        [
          'POST /entities/by-refs',
          async (who, ref) =>
            (
              await post(who, '/api/catalog/entities/by-refs', {
                entityRefs: [GROUP],
                query: { 'relations.ownerOf': ref },
              })
            ).body.items.map((e: Entity | null) => e && refOf(e)),
        ],
        [
          'GET /entity-facets',
          async (who, ref) =>
            (
              await get(
                who,
                `/api/catalog/entity-facets?facet=kind&filter=relations.ownerOf=${ref}`,
              )
            ).body.facets,
        ],
        [
          'POST /entity-facets',
          async (who, ref) =>
            (
              await post(who, '/api/catalog/entity-facets', {
                facets: ['kind'],
                query: { 'relations.ownerOf': ref },
              })
            ).body.facets,
        ],
        [
          'the catalog query action (what the MCP query tool calls)',
          async (who, ref) =>
            (
              await post(
                who,
                '/api/catalog/.backstage/actions/v1/actions/catalog:query-catalog-entities/invoke',
                { query: { 'relations.ownerOf': ref } },
              )
            ).body.output,
        ],
      ];

    it.each(answers)('%s', async (_, answer) => {
      const hidden = await answer(NON_OWNER, HIDDEN);
      expect(hidden).toEqual(await answer(NON_OWNER, MISSING));
      // The owner's answer shows what the filter finds when it may.
      expect(await answer(OWNER, HIDDEN)).not.toEqual(hidden);
    });

    it('refuses existence filters on relations to filtered callers only', async () => {
      const path = '/api/catalog/entities?filter=relations.ownerOf';
      const refused = await get(NON_OWNER, path);
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toContain(
        'filter on a relation target instead',
      );
      expect((await get(ADMIN, path)).status).toBe(200);

      const query = {
        query: { relations: { $contains: { type: 'ownerOf' } } },
      };
      const url = '/api/catalog/entities/by-query';
      expect((await post(NON_OWNER, url, query)).status).toBe(400);
      expect((await post(ADMIN, url, query)).status).toBe(200);
    });
  });

  it('GET /entity-facets?facet=relations.ownerOf leaves hidden targets out', async () => {
    const values = async (who: string) =>
      (
        await get(who, '/api/catalog/entity-facets?facet=relations.ownerOf')
      ).body.facets['relations.ownerOf']
        .map((f: { value: string }) => f.value.toLowerCase())
        .sort();
    expect(await values(NON_OWNER)).not.toEqual(
      expect.arrayContaining([HIDDEN]),
    );
    expect(await values(NON_OWNER)).not.toEqual(
      expect.arrayContaining([LEDGER_DB]),
    );
    expect(await values(NON_OWNER)).toContain(
      'component:default/payments-service',
    );
    expect(await values(OWNER)).toEqual(
      expect.arrayContaining([HIDDEN, LEDGER_DB]),
    );
    expect(await values(ADMIN)).toEqual(
      expect.arrayContaining([HIDDEN, LEDGER_DB]),
    );
  });

  it('asks for no extra decision when an answer cannot name other entities', async () => {
    const decisions = async (url: string) => {
      permissions.authorizeConditional.mockClear();
      expect((await get(NON_OWNER, url)).status).toBe(200);
      return permissions.authorizeConditional.mock.calls.length;
    };
    // The catalog's own decision only.
    expect(
      await decisions(
        '/api/catalog/entities/by-query?filter=kind=group&fields=kind,metadata.name',
      ),
    ).toBe(1);
    // The guard's, the catalog's, and the catalog's for the one by-refs
    // check of the answer's relation targets.
    expect(
      await decisions('/api/catalog/entities/by-query?filter=kind=group'),
    ).toBe(3);
  });

  describe('GET /locations/by-entity', () => {
    const byEntity = (who: string, ref: string) => {
      const [kind, rest] = ref.split(':');
      return get(who, `/api/catalog/locations/by-entity/${kind}/${rest}`);
    };

    it('answers a hidden entity exactly as a missing one', async () => {
      const hidden = await byEntity(NON_OWNER, LEDGER_DB);
      const missing = await byEntity(NON_OWNER, MISSING);
      expect(hidden.status).toBe(404);
      expect(missing.status).toBe(404);
      expect(hidden.body.error.message.replace('ledger-db', 'x')).toBe(
        missing.body.error.message.replace('no-such-db', 'x'),
      );
      expect(Object.keys(hidden.body)).toEqual(Object.keys(missing.body));
      // Its owner finds the registered location.
      const owned = await byEntity(OWNER, LEDGER_DB);
      expect(owned.status).toBe(200);
      expect(owned.body.target).toContain('registered.yaml');
    });

    it('never shows the file an entity from app-config came from', async () => {
      const res = await byEntity(ADMIN, 'component:default/payments-service');
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain(dir);
      expect(res.body.error.message).toBe(
        'No registered location holds component:default/payments-service',
      );
    });
  });
});
