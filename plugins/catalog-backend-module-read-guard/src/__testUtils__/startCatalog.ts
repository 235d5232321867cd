/*
 * The real catalog, with or without the read guard in front of it. Reads are decided by a
 * stand-in for the ownership policy with `restrictReadToOwners: [Resource]`:
 * Resources only for their owners, everything for the admin.
 *
 *   carla (owner)   member of payments: owns payments-db and ledger-db
 *   rosa (nonOwner) member of data: owns nothing here
 *   ada (admin)     reads everything (the policy answers ALLOW)
 */
import fs from 'node:fs';
import os from 'node:os';
import type { Server } from 'node:http';
import path from 'node:path';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { createBackendModule } from '@backstage/backend-plugin-api';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import { catalogEntityReadPermission } from '@backstage/plugin-catalog-common/alpha';
import {
  catalogAnalysisExtensionPoint,
  catalogLocationsExtensionPoint,
} from '@backstage/plugin-catalog-node';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import request from 'supertest';
import { catalogModuleReadGuard } from '../module';

export const OWNER = 'user:default/carla';
export const NON_OWNER = 'user:default/rosa';
export const ADMIN = 'user:default/ada';
const CLAIMS: Record<string, string[]> = {
  [OWNER]: [OWNER, 'group:default/payments'],
  [NON_OWNER]: [NON_OWNER, 'group:default/data'],
};

export const HIDDEN = 'resource:default/payments-db';
export const MISSING = 'resource:default/no-such-db';

const doc = (kind: string, name: string, spec: object) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind,
  metadata: { name },
  spec,
});
const yamlOf = (entities: object[]) =>
  entities.map(e => JSON.stringify(e)).join('\n---\n');

// From app-config catalog.locations: not a registered location.
const CONFIGURED = [
  doc('Group', 'payments', { type: 'team', children: [] }),
  doc('Group', 'data', { type: 'team', children: [] }),
  doc('System', 'payments-system', { owner: 'payments' }),
  doc('Component', 'payments-service', {
    type: 'service',
    lifecycle: 'production',
    owner: 'payments',
    system: 'payments-system',
    dependsOn: [HIDDEN, MISSING],
  }),
  doc('Resource', 'payments-db', {
    type: 'database',
    owner: 'payments',
    system: 'payments-system',
  }),
];
// Registered through POST /locations.
const REGISTERED = [
  doc('Resource', 'ledger-db', { type: 'database', owner: 'payments' }),
  doc('Component', 'ledger', {
    type: 'service',
    lifecycle: 'production',
    owner: 'data',
  }),
];
// Only ever dry-run.
const PROPOSED = [
  doc('Resource', 'new-secret-db', { type: 'database', owner: 'payments' }),
  doc('Component', 'new-service', {
    type: 'service',
    lifecycle: 'experimental',
    owner: 'data',
  }),
];

const allowFileLocations = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'test-file-locations',
  register(reg) {
    reg.registerInit({
      deps: { locations: catalogLocationsExtensionPoint },
      async init({ locations }) {
        locations.setAllowedLocationTypes(['url', 'file']);
      },
    });
  },
});

/** A repository whose catalog files already exist, as an SCM analyzer finds them. */
export const ANALYZED_REPO = 'https://git.test/payments/ledger';
const analyzedRepo = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'test-analyzer',
  register(reg) {
    reg.registerInit({
      deps: { analysis: catalogAnalysisExtensionPoint },
      async init({ analysis }) {
        analysis.addScmLocationAnalyzer({
          supports: url => url.startsWith(ANALYZED_REPO),
          analyze: async () => ({
            existing: PROPOSED.map(entity => ({
              location: {
                type: 'url',
                target: `${ANALYZED_REPO}/catalog-info.yaml`,
              },
              isRegistered: false,
              entity,
            })),
          }),
        });
      },
    });
  },
});

/** What the ownership policy answers for catalog.entity.read. */
const readDecision = (userRef: string): PolicyDecision =>
  CLAIMS[userRef]
    ? createCatalogConditionalDecision(catalogEntityReadPermission, {
        anyOf: [
          { not: catalogConditions.isEntityKind({ kinds: ['Resource'] }) },
          catalogConditions.isEntityOwner({ claims: CLAIMS[userRef] }),
        ],
      })
    : { result: AuthorizeResult.ALLOW };

/** The permissions service the catalog and the guard ask (calls are counted). */
export const permissions = mockServices.permissions.mock({
  authorize: async requests =>
    requests.map(() => ({ result: AuthorizeResult.ALLOW })),
  authorizeConditional: async (requests, options) => {
    const principal = options?.credentials.principal as
      | { type: string; userEntityRef?: string }
      | undefined;
    return requests.map(() =>
      principal?.userEntityRef
        ? readDecision(principal.userEntityRef)
        : { result: AuthorizeResult.ALLOW },
    );
  },
});

/** The catalog with its entities stitched, and whom to call it as. */
export async function startCatalog(options: { guard: boolean }): Promise<{
  server: Server;
  as: (userRef: string) => string;
  dir: string;
  proposed: string;
  registered: string;
}> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'read-guard-'));
  const file = (name: string, entities: object[]) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, yamlOf(entities));
    return p;
  };
  const configured = file('configured.yaml', CONFIGURED);
  const registered = file('registered.yaml', REGISTERED);
  const proposed = file('proposed.yaml', PROPOSED);
  const { server } = await startTestBackend({
    features: [
      catalogPlugin,
      ...(options.guard ? [catalogModuleReadGuard] : []),
      allowFileLocations,
      analyzedRepo,
      permissions.factory,
      mockServices.rootConfig.factory({
        data: {
          catalog: {
            locations: [{ type: 'file', target: configured }],
            rules: [
              {
                allow: ['Component', 'System', 'Resource', 'Group', 'Location'],
              },
            ],
            processingInterval: { seconds: 1 },
          },
        },
      }),
    ],
  });
  const as = (who: string) => mockCredentials.user.header(who);
  const created = await request(server)
    .post('/api/catalog/locations')
    .set('Authorization', as(ADMIN))
    .send({ type: 'file', target: registered });
  expect(created.status).toBe(201);
  // Stitched: relations in both directions, the registered ones included.
  const deadline = Date.now() + 45_000;
  for (;;) {
    const { body } = await request(server)
      .post('/api/catalog/entities/by-refs')
      .set('Authorization', as(ADMIN))
      .send({
        entityRefs: [
          'group:default/payments',
          'system:default/payments-system',
          'resource:default/ledger-db',
        ],
      });
    const [group, system, ledger] = body.items ?? [];
    if (
      group?.relations?.length >= 3 &&
      system?.relations?.length >= 3 &&
      ledger?.relations?.length
    ) {
      break;
    }
    if (Date.now() > deadline) throw new Error('Catalog never settled');
    await new Promise(r => setTimeout(r, 250));
  }
  return { server, as, dir, proposed, registered };
}
