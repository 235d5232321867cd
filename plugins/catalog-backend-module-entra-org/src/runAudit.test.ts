import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import {
  AuditorService,
  AuditorServiceCreateEventOptions,
} from '@backstage/backend-plugin-api';
import { EntityProviderConnection } from '@backstage/plugin-catalog-node';
import { EntraEmulator } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import { DeltaStateStore } from './deltaSync';
import { EntraOrgEntityProvider } from './entraOrgProvider';
import { createGraphClient, RetryPolicy } from './graphClient';
import { DatabaseProviderStateStore } from './ingestionState';

const FAST_RETRY: RetryPolicy = {
  maxRetries: 1,
  baseDelayMs: 20,
  maxDelayMs: 200,
};
const DAY = 24 * 3600_000;
const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

interface Recorded {
  eventId: string;
  severityLevel?: string;
  hasRequest: boolean;
  outcome: 'succeeded' | 'failed';
  meta: Record<string, any>;
  error?: Error;
}

/** Records each event at its outcome, as the portal's auditor stores it. */
function recordingAuditor(events: Recorded[]): AuditorService {
  return {
    async createEvent(options: AuditorServiceCreateEventOptions) {
      const done =
        (outcome: Recorded['outcome']) =>
        async (o?: { meta?: object; error?: Error }) => {
          events.push({
            eventId: options.eventId,
            severityLevel: options.severityLevel,
            hasRequest: options.request !== undefined,
            outcome,
            meta: { ...options.meta, ...o?.meta },
            error: o?.error,
          });
        };
      return { success: done('succeeded'), fail: done('failed') };
    },
  };
}

async function newProvider(emulator: EntraEmulator, delta: boolean) {
  const config = {
    id: 'default',
    target: emulator.graphBaseUrl,
    authority: emulator.httpsUrl,
    tenantId: emulator.tenantId,
    clientId: emulator.apps.portal.clientId,
    clientSecret: emulator.apps.portal.clientSecret,
  };
  const knex = await databases.init('SQLITE_3');
  const events: Recorded[] = [];
  const connection: EntityProviderConnection = {
    applyMutation: async () => {},
    refresh: async () => {},
  };
  const provider = new EntraOrgEntityProvider({
    config,
    client: createGraphClient(config, FAST_RETRY),
    store: await DatabaseProviderStateStore.create(knex),
    logger: mockServices.logger.mock(),
    taskRunner: { run: async () => {} },
    taskId: 'entra-org:default:refresh',
    auditor: recordingAuditor(events),
    failureBackoff: { initialMs: 60_000, maxMs: DAY },
    scheduleRetry: () => {},
    ...(delta && {
      delta: {
        store: await DeltaStateStore.create(knex),
        fullRoundEveryMs: DAY,
      },
    }),
  });
  await provider.connect(connection);
  return { provider, events };
}

describe('audit events of Entra org runs', () => {
  let emulator: EntraEmulator;
  beforeEach(async () => {
    emulator = await startTestEmulator();
  });
  afterEach(() => emulator?.close());

  it('records a scheduled full round once, by the plugin, with its counts and duration', async () => {
    const { provider, events } = await newProvider(emulator, false);
    const status = await provider.tick();
    expect(status?.outcome).toBe('applied');
    expect(events).toEqual([
      {
        eventId: 'entra-org-run',
        severityLevel: 'low',
        hasRequest: false,
        outcome: 'succeeded',
        meta: expect.objectContaining({
          providerId: 'default',
          mode: 'full',
          outcome: 'applied',
          trigger: 'schedule',
          durationMs: expect.any(Number),
          read: expect.objectContaining({
            users: expect.any(Number),
            groups: expect.any(Number),
          }),
          sent: expect.objectContaining({ users: expect.any(Number) }),
        }),
        error: undefined,
      },
    ]);
    expect(events[0].meta.read.users).toBeGreaterThan(0);
    expect(events[0].meta).not.toHaveProperty('actor');
  });

  it('records a failed read as a failed run, with what failed', async () => {
    const { provider, events } = await newProvider(emulator, false);
    emulator.setFaults([{ route: '/v1.0/users', type: 'unavailable' }]);
    expect((await provider.read()).outcome).toBe('failed');
    expect(events).toEqual([
      expect.objectContaining({
        eventId: 'entra-org-run',
        severityLevel: 'medium',
        outcome: 'failed',
        meta: expect.objectContaining({ mode: 'full', outcome: 'failed' }),
      }),
    ]);
    expect(events[0].error?.message).toMatch(
      /^Reading the organisation from Microsoft Graph failed/,
    );
  });

  it('records a run the deletion guard refused once, as a guard refusal naming the guard and the counts', async () => {
    const { provider, events } = await newProvider(emulator, false);
    await provider.read();
    events.length = 0;
    emulator.setFaults([{ route: '/v1.0/*', type: 'emptyDirectory' }]);
    expect((await provider.read()).outcome).toBe('refused');
    expect(events).toEqual([
      expect.objectContaining({
        eventId: 'entra-org-guard-refused',
        severityLevel: 'high',
        hasRequest: false,
        outcome: 'failed',
        meta: expect.objectContaining({
          providerId: 'default',
          mode: 'full',
          outcome: 'refused',
          trigger: 'schedule',
          guard: 'deletion-guard',
          guardKind: 'users',
          wouldRemove: expect.any(Number),
          of: expect.any(Number),
          maxDeletionShare: 0.2,
          read: expect.objectContaining({ users: 0 }),
        }),
      }),
    ]);
    const { meta, error } = events[0];
    expect(meta.wouldRemove).toBe(meta.of);
    expect(error?.name).toBe('NotAllowedError');
    expect(error?.message).toMatch(/allow-removal/);
  });

  it('records a run someone asked for with them as the actor, and the next one as the schedule’s', async () => {
    const { provider, events } = await newProvider(emulator, false);
    await provider.requestFullRound('user:default/ada.admin');
    await provider.read();
    await provider.read();
    expect(events.map(e => e.meta)).toEqual([
      expect.objectContaining({
        trigger: 'manual',
        requestedBy: 'user:default/ada.admin',
        actor: { kind: 'person', entityRef: 'user:default/ada.admin' },
      }),
      expect.objectContaining({ trigger: 'schedule' }),
    ]);
    expect(events[0].severityLevel).toBe('medium');
    expect(events[1].meta).not.toHaveProperty('actor');
  });

  it('records every delta poll, one that changed nothing as a low-severity one', async () => {
    const { provider, events } = await newProvider(emulator, true);
    await provider.tick(); // the first full round
    events.length = 0;
    const unchanged = await provider.tick();
    expect(unchanged?.outcome).toBe('unchanged');
    expect(events).toEqual([
      expect.objectContaining({
        eventId: 'entra-org-run',
        severityLevel: 'low',
        outcome: 'succeeded',
        meta: expect.objectContaining({
          mode: 'delta',
          outcome: 'unchanged',
          trigger: 'schedule',
          changed: { users: 0, groups: 0 },
          applied: { added: 0, removed: 0 },
          durationMs: expect.any(Number),
        }),
      }),
    ]);

    events.length = 0;
    const member = emulator.seed.users.find(
      u => u.accountEnabled !== false && u.userType !== 'Guest',
    )!;
    emulator.directory.setAccountEnabled(member.id, false);
    expect((await provider.tick())?.outcome).toBe('applied');
    expect(events).toEqual([
      expect.objectContaining({
        eventId: 'entra-org-run',
        outcome: 'succeeded',
        meta: expect.objectContaining({ mode: 'delta', outcome: 'applied' }),
      }),
    ]);
    expect(events[0].meta.applied.removed).toBeGreaterThan(0);
  });
  it('records a delta poll the guard refused once, as a guard refusal', async () => {
    const { provider, events } = await newProvider(emulator, true);
    await provider.tick(); // the first full round
    events.length = 0;
    const members = emulator.seed.users.filter(
      u => u.accountEnabled !== false && u.userType !== 'Guest',
    );
    // Half of the people at once: over the default share of 20%.
    for (const u of members.slice(0, Math.ceil(members.length / 2))) {
      emulator.directory.setAccountEnabled(u.id, false);
    }
    expect((await provider.tick())?.outcome).toBe('refused');
    expect(events).toEqual([
      expect.objectContaining({
        eventId: 'entra-org-guard-refused',
        severityLevel: 'high',
        outcome: 'failed',
        meta: expect.objectContaining({
          mode: 'delta',
          outcome: 'refused',
          guard: 'deletion-guard',
          guardKind: 'users',
          wouldRemove: Math.ceil(members.length / 2),
          of: expect.any(Number),
        }),
      }),
    ]);
    expect(events[0].error?.message).toMatch(/allow-removal/);
  });
});
