import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import {
  coreServices,
  createServiceFactory,
  SchedulerService,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { durationToMilliseconds, HumanDuration } from '@backstage/types';
import { ConflictError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import type { EntraEmulator } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import request from 'supertest';
import { OID, unusualNamesSeed } from './__testUtils__/unusualNames';
import { catalogModuleEntraOrg } from './module';

function providerConfig(emulator: EntraEmulator, extra: object = {}) {
  return {
    catalog: {
      providers: {
        microsoftGraphOrg: {
          default: {
            target: emulator.graphBaseUrl,
            authority: emulator.httpsUrl,
            tenantId: emulator.tenantId,
            clientId: emulator.apps.portal.clientId,
            clientSecret: emulator.apps.portal.clientSecret,
            schedule: { frequency: { minutes: 30 }, timeout: { minutes: 5 } },
            ...extra,
          },
        },
      },
    },
  };
}

const ADMIN = mockCredentials.user('user:default/ada.admin');

/**
 * A scheduler that runs each task at its frequency. The test backend's own
 * runs tasks once at startup and on trigger only, which cannot show polls.
 */
const timers: NodeJS.Timeout[] = [];
afterAll(() => timers.forEach(clearInterval));
const intervalScheduler = createServiceFactory({
  service: coreServices.scheduler,
  deps: {},
  factory: () => {
    const tasks = new Map<string, () => Promise<void>>();
    const scheduler: Partial<SchedulerService> = {
      createScheduledTaskRunner: (
        schedule: SchedulerServiceTaskScheduleDefinition,
      ) => ({
        run: async ({ id, fn }) => {
          let running = false;
          const tick = async () => {
            if (running) return;
            running = true;
            try {
              await fn(new AbortController().signal);
            } finally {
              running = false;
            }
          };
          tasks.set(id, tick);
          const ms = durationToMilliseconds(
            schedule.frequency as HumanDuration,
          );
          timers.push(setInterval(() => tick().catch(() => {}), ms));
          tick().catch(() => {});
        },
      }),
      scheduleTask: async () => {},
      triggerTask: async id => {
        tasks
          .get(id)?.()
          .catch(() => {});
      },
      getScheduledTasks: async () => [],
    };
    return scheduler as SchedulerService;
  },
});

interface AuditRecord {
  eventId: string;
  outcome: string;
  principal?: unknown;
  meta: Record<string, any>;
}

/**
 * Records each event's outcome with its request's principal, as the
 * portal's auditor derives the actor.
 */
const recordingAuditor = (events: AuditRecord[]) =>
  createServiceFactory({
    service: coreServices.auditor,
    deps: { httpAuth: coreServices.httpAuth },
    factory: ({ httpAuth }) => ({
      createEvent: async ({ eventId, request: req, meta }) => {
        const principal = req
          ? (await httpAuth.credentials(req)).principal
          : undefined;
        const done = (outcome: string) => async (o?: { meta?: object }) => {
          events.push({
            eventId,
            outcome,
            principal,
            meta: { ...meta, ...o?.meta },
          });
        };
        return { success: done('succeeded'), fail: done('failed') };
      },
    }),
  });

async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 250));
  }
}

describe('catalogModuleEntraOrg in a backend', () => {
  let emulator: EntraEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(() => emulator?.close());

  it('ingests on schedule, makes the people visible in the catalog, and reports the run to admins', async () => {
    const { server } = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleEntraOrg,
        mockServices.rootConfig.factory({ data: providerConfig(emulator) }),
      ],
    });
    const auth = mockCredentials.user.header('user:default/ada.admin');

    const status = await waitFor(async () => {
      const res = await request(server)
        .get('/api/catalog/entra-org/status')
        .set('Authorization', auth);
      expect(res.status).toBe(200);
      return res.body.providers[0].lastRun ?? undefined;
    }, 'the first run');
    expect(status).toMatchObject({
      providerId: 'default',
      outcome: 'applied',
      consecutiveFailures: 0,
    });
    expect(status.read.users).toBeGreaterThan(0);
    expect(status.graph.requests).toBeGreaterThan(0);

    const ada = await waitFor(async () => {
      const res = await request(server)
        .get('/api/catalog/entities/by-name/user/default/ada.admin')
        .set('Authorization', auth);
      return res.status === 200 ? res.body : undefined;
    }, 'ada.admin in the catalog');
    expect(ada.metadata.annotations['graph.microsoft.com/user-id']).toBe(
      emulator.seed.users.find(u => u.displayName === 'Ada Admin')!.id,
    );
    expect(ada.relations).toContainEqual(
      expect.objectContaining({
        type: 'memberOf',
        targetRef: 'group:default/platform-admins',
      }),
    );

    // A pipeline in the real catalog: a User member of its group, which
    // lists it back, and counted apart from people in the status.
    const pipeline = await waitFor(async () => {
      const res = await request(server)
        .get('/api/catalog/entities/by-name/user/default/app-payments-pipeline')
        .set('Authorization', auth);
      return res.status === 200 ? res.body : undefined;
    }, 'app-payments-pipeline in the catalog');
    expect(pipeline.metadata.labels).toEqual({
      'entra.microsoft.com/principal-type': 'service-principal',
    });
    expect(pipeline.relations).toContainEqual(
      expect.objectContaining({
        type: 'memberOf',
        targetRef: 'group:default/payments',
      }),
    );
    const paymentsGroup = await request(server)
      .get('/api/catalog/entities/by-name/group/default/payments')
      .set('Authorization', auth);
    expect(paymentsGroup.body.relations).toContainEqual(
      expect.objectContaining({
        type: 'hasMember',
        targetRef: 'user:default/app-payments-pipeline',
      }),
    );
    const counted = await waitFor(async () => {
      const res = await request(server)
        .get('/api/catalog/entra-org/status')
        .set('Authorization', auth);
      const { ingested, sent } = res.body.providers[0].lastRun;
      return ingested?.users === sent.users
        ? res.body.providers[0].lastRun
        : undefined;
    }, 'every person counted in the catalog');
    expect(counted.ingested.servicePrincipals).toBe(2);
    expect(counted.sent.servicePrincipals).toBe(2);

    // Unknown provider: the error names the configured ones.
    const unknown = await request(server)
      .post('/api/catalog/entra-org/providers/nope/allow-removal')
      .set('Authorization', auth);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/configured: default/);

    const allowed = await request(server)
      .post('/api/catalog/entra-org/providers/default/allow-removal')
      .set('Authorization', auth);
    expect(allowed.status).toBe(202);
    expect(allowed.body.allowedBy).toBe(ADMIN.principal.userEntityRef);
  });

  it('applies a change in Entra to the real catalog within a delta poll, without a full round', async () => {
    const { server } = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleEntraOrg,
        intervalScheduler,
        mockServices.rootConfig.factory({
          data: providerConfig(emulator, {
            delta: { frequency: { seconds: 1 } },
          }),
        }),
      ],
    });
    const auth = mockCredentials.user.header('user:default/ada.admin');
    const carla = emulator.seed.users.find(
      u => u.displayName === 'Carla Chen',
    )!;
    const carlaNow = async () =>
      (
        await request(server)
          .get('/api/catalog/entities/by-name/user/default/carla.chen')
          .set('Authorization', auth)
      ).status;
    await waitFor(
      async () => ((await carlaNow()) === 200 ? true : undefined),
      'the first full round in the catalog',
    );
    const statusNow = async () =>
      (
        await request(server)
          .get('/api/catalog/entra-org/status')
          .set('Authorization', auth)
      ).body.providers[0];
    const fullRound = (await statusNow()).lastRun;

    emulator.directory.setAccountEnabled(carla.id, false);
    try {
      await waitFor(
        async () => ((await carlaNow()) === 404 ? true : undefined),
        'the disabled person gone from the catalog',
      );
      // The catalog deletes at once; the poll records its status right
      // after, so the status can trail the 404 by a moment.
      const status = await waitFor(async () => {
        const now = await statusNow();
        return now.delta?.lastAppliedPoll ? now : undefined;
      }, 'the poll recorded');
      // Still the same full round: the change came by a poll.
      expect(status.lastRun.startedAt).toBe(fullRound.startedAt);
      expect(status.lastReconciledAt).toEqual(expect.any(String));
      expect(status.delta.cursorSyncedAt).toEqual(expect.any(String));
      expect(status.delta.lastAppliedPoll).toMatchObject({
        outcome: 'applied',
        changed: { users: 1 },
        applied: { removed: 1 },
      });
    } finally {
      emulator.directory.setAccountEnabled(carla.id, true);
    }
    await waitFor(
      async () => ((await carlaNow()) === 200 ? true : undefined),
      'the re-enabled person back in the catalog',
    );
  });

  it('records an override once as the admin who asked, and a run started now once, by the run, as that admin', async () => {
    const events: AuditRecord[] = [];
    const { server } = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleEntraOrg,
        recordingAuditor(events),
        mockServices.rootConfig.factory({ data: providerConfig(emulator) }),
      ],
    });
    const auth = mockCredentials.user.header('user:default/ada.admin');
    const runs = () => events.filter(e => e.eventId === 'entra-org-run');
    // The test scheduler runs the task once at startup.
    await waitFor(
      async () => (runs().length === 1 ? true : undefined),
      'the scheduled run',
    );
    expect(runs()[0]).toMatchObject({
      outcome: 'succeeded',
      principal: undefined,
      meta: { trigger: 'schedule', mode: 'full', outcome: 'applied' },
    });

    const allowed = await request(server)
      .post('/api/catalog/entra-org/providers/default/allow-removal')
      .set('Authorization', auth);
    expect(allowed.status).toBe(202);
    expect(events.filter(e => e.eventId === 'entra-org-removal-allow')).toEqual(
      [
        {
          eventId: 'entra-org-removal-allow',
          outcome: 'succeeded',
          principal: { type: 'user', userEntityRef: 'user:default/ada.admin' },
          meta: {
            providerId: 'default',
            allowedBy: 'user:default/ada.admin',
            run: 'started',
          },
        },
      ],
    );
    await waitFor(
      async () => (runs().length === 2 ? true : undefined),
      'the run the override started',
    );

    const started = await request(server)
      .post('/api/catalog/entra-org/providers/default/run')
      .set('Authorization', auth);
    expect(started.status).toBe(202);
    await waitFor(
      async () => (runs().length === 3 ? true : undefined),
      'the run started now',
    );
    // Both runs someone asked for name them; neither came twice.
    for (const run of runs().slice(1)) {
      expect(run).toMatchObject({
        outcome: 'succeeded',
        principal: undefined,
        meta: {
          trigger: 'manual',
          requestedBy: 'user:default/ada.admin',
          actor: { kind: 'person', entityRef: 'user:default/ada.admin' },
        },
      });
    }
    expect(events).toHaveLength(4);
  });

  it('refuses the status and the override to whom the policy denies them', async () => {
    const events: AuditRecord[] = [];
    const { server } = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleEntraOrg,
        recordingAuditor(events),
        mockServices.permissions.factory({ result: AuthorizeResult.DENY }),
        mockServices.rootConfig.factory({
          data: providerConfig(emulator, {
            schedule: {
              frequency: { minutes: 30 },
              timeout: { minutes: 5 },
              initialDelay: { hours: 1 },
            },
          }),
        }),
      ],
    });
    const auth = mockCredentials.user.header('user:default/ben.builder');
    const status = await request(server)
      .get('/api/catalog/entra-org/status')
      .set('Authorization', auth);
    expect(status.status).toBe(403);
    expect(status.body.error.message).toMatch(/Only portal admins/);
    const override = await request(server)
      .post('/api/catalog/entra-org/providers/default/allow-removal')
      .set('Authorization', auth);
    expect(override.status).toBe(403);
    // Run now: the same 403 whether the provider exists or not.
    for (const id of ['default', 'nope']) {
      const run = await request(server)
        .post(`/api/catalog/entra-org/providers/${id}/run`)
        .set('Authorization', auth);
      expect(run.status).toBe(403);
      expect(run.body.error.message).toBe(
        'Only portal admins may start an Entra org ingestion run',
      );
    }
    // Each refused request once, as the person who asked.
    const ben = { type: 'user', userEntityRef: 'user:default/ben.builder' };
    expect(events).toEqual([
      expect.objectContaining({
        eventId: 'entra-org-removal-allow',
        outcome: 'failed',
        principal: ben,
      }),
      ...['default', 'nope'].map(providerId =>
        expect.objectContaining({
          eventId: 'entra-org-run',
          outcome: 'failed',
          principal: ben,
          meta: expect.objectContaining({ providerId, outcome: 'not-started' }),
        }),
      ),
    ]);
  });

  it('says so when run now finds a run going on, and keeps an override for the next run', async () => {
    const taskId = 'entra-org:default:refresh';
    const scheduler = mockServices.scheduler.mock({
      createScheduledTaskRunner: () => ({ run: async () => {} }),
      // What the scheduler answers while any replica holds the task's lock.
      triggerTask: async () => {
        throw new ConflictError(`Task ${taskId} is currently running`);
      },
    });
    const events: Array<{ eventId: string; outcome?: string }> = [];
    const auditor = mockServices.auditor.mock({
      createEvent: async ({ eventId }) => {
        const event: { eventId: string; outcome?: string } = { eventId };
        events.push(event);
        return {
          success: async () => {
            event.outcome = 'success';
          },
          fail: async () => {
            event.outcome = 'fail';
          },
        };
      },
    });
    const { server } = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleEntraOrg,
        scheduler.factory,
        auditor.factory,
        mockServices.rootConfig.factory({ data: providerConfig(emulator) }),
      ],
    });
    const auth = mockCredentials.user.header('user:default/ada.admin');
    const run = await request(server)
      .post('/api/catalog/entra-org/providers/default/run')
      .set('Authorization', auth);
    expect(run.status).toBe(409);
    expect(run.body.error.message).toBe(
      "A run of Entra org provider 'default' is going on now; its outcome will show in the status when it ends. Start another after that if needed.",
    );
    expect(scheduler.triggerTask).toHaveBeenCalledWith(taskId);
    expect(events).toContainEqual({
      eventId: 'entra-org-run',
      outcome: 'fail',
    });

    const allow = await request(server)
      .post('/api/catalog/entra-org/providers/default/allow-removal')
      .set('Authorization', auth);
    expect(allow.status).toBe(202);
    expect(allow.body.state).toBe('running');
    const status = await request(server)
      .get('/api/catalog/entra-org/status')
      .set('Authorization', auth);
    expect(status.body.providers[0].removalOverride.requestedBy).toBe(
      'user:default/ada.admin',
    );
  });

  it.each([
    [
      { deletionGuard: { maxDeletionShare: 2 } },
      /catalog\.providers\.microsoftGraphOrg\.default\.deletionGuard\.maxDeletionShare must be a share between 0 and 1/,
    ],
    [
      { guests: 'sometimes' },
      /catalog\.providers\.microsoftGraphOrg\.default\.guests must be 'include' or 'exclude'/,
    ],
  ])(
    'fails startup on a wrong setting, naming the key',
    async (extra, message) => {
      await expect(
        startTestBackend({
          features: [
            catalogPlugin,
            catalogModuleEntraOrg,
            mockServices.rootConfig.factory({
              data: providerConfig(emulator, extra),
            }),
          ],
        }),
      ).rejects.toThrow(message);
    },
  );
});

describe('catalogModuleEntraOrg on a tenant of unusual names, in a real catalog', () => {
  let emulator: EntraEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator({ seed: unusualNamesSeed() });
  });
  afterAll(() => emulator?.close());
  afterEach(() => emulator.clearFaults());

  const auth = mockCredentials.user.header('user:default/ada.admin');
  const LOCATION =
    'backstage.io/managed-by-location=msgraph-org-provider:default';

  it('gets every nameable user and group into the catalog, reports what it holds, runs now on request and keeps the guard', async () => {
    const { server } = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleEntraOrg,
        mockServices.rootConfig.factory({ data: providerConfig(emulator) }),
      ],
    });
    const statusNow = async () => {
      const res = await request(server)
        .get('/api/catalog/entra-org/status')
        .set('Authorization', auth);
      expect(res.status).toBe(200);
      return res.body.providers[0].lastRun;
    };
    const catalogEntities = async () => {
      const res = await request(server)
        .get(`/api/catalog/entities?filter=metadata.annotations.${LOCATION}`)
        .set('Authorization', auth);
      expect(res.status).toBe(200);
      return res.body as Array<{
        kind: string;
        metadata: { name: string; annotations: Record<string, string> };
        relations: Array<{ type: string; targetRef: string }>;
      }>;
    };

    const first = await waitFor(
      async () => (await statusNow()) ?? undefined,
      'the first run',
    );
    expect(first.outcome).toBe('applied');
    // Every seeded object but the two no valid name can be made for, plus
    // the root group.
    const expected = {
      users: emulator.seed.users.length - 1,
      groups: emulator.seed.groups.length,
    };
    expect(first.sent).toMatchObject(expected);
    expect(first.rejected).toEqual({ users: 1, groups: 1 });

    // The catalog took the mutation and every entity in it.
    const entities = await waitFor(async () => {
      const all = await catalogEntities();
      const count = (kind: string) => all.filter(e => e.kind === kind).length;
      return count('User') === expected.users &&
        count('Group') === expected.groups
        ? all
        : undefined;
    }, 'every user and group in the catalog');
    const refs = new Set(
      entities.map(e => `${e.kind.toLowerCase()}:default/${e.metadata.name}`),
    );
    const dangling = entities.flatMap(e =>
      e.relations
        .filter(r => !refs.has(r.targetRef))
        .map(r => `${e.metadata.name} ${r.type} ${r.targetRef}`),
    );
    expect(dangling).toEqual([]);
    const kimSuffixed = entities.find(
      e =>
        e.metadata.annotations['graph.microsoft.com/user-id'] ===
        OID.kimSuffixed,
    )!;
    expect(kimSuffixed.metadata.name).toBe('kim-b62735f3-d39f44a1');
    expect(kimSuffixed.relations).toContainEqual({
      type: 'memberOf',
      targetRef: 'group:default/eng',
    });

    // Counted in the catalog, not taken from what was sent: an entity
    // deleted from the catalog is missing from the count at once.
    expect((await statusNow()).ingested).toEqual({
      ...expected,
      servicePrincipals: 0,
    });
    const zoe = entities.find(e => e.metadata.name === 'zoe-e2222222')!;
    const deleted = await request(server)
      .delete(`/api/catalog/entities/by-uid/${(zoe.metadata as any).uid}`)
      .set('Authorization', auth);
    expect(deleted.status).toBe(204);
    const afterDelete = await statusNow();
    expect(afterDelete.sent).toMatchObject(expected);
    expect(afterDelete.ingested).toEqual({
      ...expected,
      servicePrincipals: 0,
      users: expected.users - 1,
    });

    // Run now: answers at once, and the run happens.
    const started = await request(server)
      .post('/api/catalog/entra-org/providers/default/run')
      .set('Authorization', auth);
    expect(started.status).toBe(202);
    expect(started.body).toEqual({ providerId: 'default', state: 'started' });
    const second = await waitFor(async () => {
      const run = await statusNow();
      return run.startedAt !== first.startedAt ? run : undefined;
    }, 'the run started now');
    expect(second.outcome).toBe('applied');
    // The run put the deleted person back.
    await waitFor(async () => {
      const { ingested } = await statusNow();
      return ingested.users === expected.users ? ingested : undefined;
    }, 'the deleted person back in the catalog');

    // Run now does not lift the guard: a Graph that lost every membership
    // is refused and the catalog keeps them.
    emulator.setFaults([
      { route: '/v1.0/groups/*/members', type: 'emptyDirectory' },
    ]);
    expect(
      (
        await request(server)
          .post('/api/catalog/entra-org/providers/default/run')
          .set('Authorization', auth)
      ).status,
    ).toBe(202);
    const refused = await waitFor(async () => {
      const run = await statusNow();
      return run.startedAt !== second.startedAt ? run : undefined;
    }, 'the refused run');
    expect(refused.outcome).toBe('refused');
    expect(refused.error).toMatch(/memberships/);
    expect(refused.ingested).toEqual({ ...expected, servicePrincipals: 0 });
    const kimAfter = (await catalogEntities()).find(
      e => e.metadata.name === 'kim-b62735f3-d39f44a1',
    )!;
    expect(kimAfter.relations).toContainEqual({
      type: 'memberOf',
      targetRef: 'group:default/eng',
    });
  });
});
