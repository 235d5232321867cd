import {
  AuditorService,
  AuditorServiceCreateEventOptions,
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { fixedEntityProvider } from '@internal/portal-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import request from 'supertest';
import catalogModuleAuditEntityRefs, { AUDIT_ENTITY_REFS_LOCAL } from '.';

const component: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'payments', namespace: 'default' },
  spec: { type: 'service', lifecycle: 'production', owner: 'group:payments' },
};

/** The catalog's audit events, with the entity refs its request carried. */
function capturingAuditor() {
  const events: Array<{ eventId: string; meta: unknown; refs: unknown }> = [];
  const factory = createServiceFactory({
    service: coreServices.auditor,
    deps: {},
    factory(): AuditorService {
      return {
        async createEvent(options: AuditorServiceCreateEventOptions) {
          events.push({
            eventId: options.eventId,
            meta: options.meta,
            refs: options.request?.res?.locals[AUDIT_ENTITY_REFS_LOCAL],
          });
          return { success: async () => {}, fail: async () => {} };
        },
      };
    },
  });
  return { events, factory };
}

async function startCatalog(withModule: boolean) {
  const auditor = capturingAuditor();
  const { server } = await startTestBackend({
    features: [
      catalogPlugin,
      fixedEntityProvider({
        name: 'fixed',
        locationKey: 'test',
        entities: [component],
      }),
      auditor.factory,
      mockServices.rootConfig.factory({
        data: { catalog: { processingInterval: { seconds: 1 } } },
      }),
      ...(withModule ? [catalogModuleAuditEntityRefs] : []),
    ],
  });
  const uid = await waitForUid(server, 'component:default/payments');
  return { server, uid, events: auditor.events };
}

async function waitForUid(server: any, ref: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const res = await request(server).get(
      `/api/catalog/entities/by-name/${ref.replace(':', '/')}`,
    );
    if (res.status === 200) return res.body.metadata.uid;
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error(`${ref} never reached the catalog`);
}

const deletes = (
  events: Array<{ eventId: string; meta: any; refs: unknown }>,
) =>
  events.filter(
    e => e.eventId === 'entity-mutate' && e.meta?.actionType === 'delete',
  );

describe('catalog audit entity refs', () => {
  it('names the deleted entity on the catalog’s own delete event', async () => {
    const { server, uid, events } = await startCatalog(true);
    const res = await request(server).delete(
      `/api/catalog/entities/by-uid/${uid}`,
    );
    expect(res.status).toBe(204);
    expect(deletes(events)).toEqual([
      {
        eventId: 'entity-mutate',
        meta: { actionType: 'delete', uid },
        refs: ['component:default/payments'],
      },
    ]);
  });

  it('leaves the answer to the catalog: an unknown uid answers as without the module', async () => {
    const withModule = await startCatalog(true);
    const without = await startCatalog(false);
    const uid = 'a5b1c1d7-0000-4000-8000-000000000000';
    const a = await request(withModule.server).delete(
      `/api/catalog/entities/by-uid/${uid}`,
    );
    const b = await request(without.server).delete(
      `/api/catalog/entities/by-uid/${uid}`,
    );
    expect(a.status).toBe(b.status);
    expect(a.body).toEqual(b.body);
    expect(deletes(withModule.events)).toEqual([
      {
        eventId: 'entity-mutate',
        meta: { actionType: 'delete', uid },
        refs: undefined,
      },
    ]);
  });
});
