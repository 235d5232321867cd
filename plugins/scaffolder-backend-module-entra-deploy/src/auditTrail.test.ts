/*
 * Deploys as the stored audit trail has them: the portal backend of the
 * integration tests with the portal's auditor and audit plugin (as
 * packages/backend runs them), seeded people signed in through the Entra
 * emulator starting the shipped deploy template, every event read back
 * through GET /api/audit/events once the sink has flushed.
 *
 *   Carla Chen  payments (owns payments-service) and production-deployers
 *   Dev Patel   payments only: may deploy to staging, not to production
 */
import type { EntraEmulator } from '@internal/entra-emulator';
import {
  delegatedToken,
  startTestEmulator,
} from '@internal/entra-emulator/testUtils';
import type { AuditEvent } from '@internal/plugin-audit-common';
import {
  AUDIT_READER_TOKEN,
  settledAuditEvents,
} from '@internal/portal-test-utils';
import {
  CATALOG_READER_TOKEN,
  signIn,
  startDeployBackend,
  startRecordingTarget,
  scaffolderApi,
  waitForStitched,
} from './__testUtils__/backend';

const CARLA = '5a9214bd-9425-4fb9-9a9d-bbdfb8789017';
const DEV = '55c6b85a-2fda-452b-8b33-6d001fc7e7cd';
const SERVICE = 'component:default/payments-service';
const DEPLOY_TEMPLATE = 'template:default/deploy-component';
const ACTION = 'scaffolder.deploy';

/** Anything that looks like a JWT, whole or cut short. */
const JWT = /eyJ[\w-]{6,}\.[\w-]*/;

describe('deploys in the stored audit trail', () => {
  let emulator: EntraEmulator;
  let target: Awaited<ReturnType<typeof startRecordingTarget>>;
  let portal: Awaited<ReturnType<typeof startDeployBackend>>;
  const backstageToken = {} as Record<'carla' | 'dev', string>;
  /** Every token a test handed the portal or the portal obtained. */
  const tokensSeen = new Set<string>();

  beforeAll(async () => {
    emulator = await startTestEmulator();
    target = await startRecordingTarget(emulator);
    portal = await startDeployBackend({
      emulator,
      deployUrl: target.url,
      auditTrail: true,
    });
    await waitForStitched(portal.baseUrl, [
      DEPLOY_TEMPLATE,
      SERVICE,
      'user:default/carla.chen',
      'user:default/dev.patel',
      'group:default/production-deployers',
    ]);
    backstageToken.carla = await signIn(
      portal.baseUrl,
      'carla.chen@contoso.example',
    );
    backstageToken.dev = await signIn(
      portal.baseUrl,
      'dev.patel@contoso.example',
    );
    for (const t of Object.values(backstageToken)) tokensSeen.add(t);
  });

  afterAll(async () => {
    await portal?.backend.stop();
    await target?.close();
    await emulator?.close();
  });

  const api = scaffolderApi(() => portal.baseUrl, backstageToken);

  /** Starts the deploy template as `who`, with `token` delegated; waits for the end. */
  async function deploy(
    who: 'carla' | 'dev',
    token: string,
    environment: string,
  ) {
    tokensSeen.add(token);
    const created = await api(who, 'POST', '/v2/tasks', {
      templateRef: DEPLOY_TEMPLATE,
      values: { component: SERVICE, environment, version: '1.4.2' },
      secrets: { entraDelegatedToken: token },
    });
    expect(created.status).toBe(201);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { body } = await api(who, 'GET', `/v2/tasks/${created.body.id}`);
      if (['completed', 'failed', 'cancelled'].includes(body.status)) {
        return body as { id: string; status: string };
      }
      if (Date.now() > deadline) throw new Error('The task never finished');
      await new Promise(r => setTimeout(r, 200));
    }
  }

  const expectNothingSecret = (text: string) => {
    for (const t of [...target.tokens, ...tokensSeen]) tokensSeen.add(t);
    for (const secret of [
      ...tokensSeen,
      AUDIT_READER_TOKEN,
      CATALOG_READER_TOKEN,
      emulator.apps.portal.clientSecret,
    ]) {
      // Whole, or a token's payload or signature alone.
      for (const part of [secret, ...secret.split('.').slice(1)]) {
        expect(text).not.toContain(part);
      }
    }
    expect(text).not.toMatch(JWT);
    expect(text).not.toMatch(/bearer/i);
  };

  it('stores one succeeded deploy as the initiator, with the environment and the component', async () => {
    const from = new Date().toISOString();
    const task = await deploy(
      'carla',
      await delegatedToken(emulator, CARLA),
      'staging',
    );
    expect(task.status).toBe('completed');

    const events = await settledAuditEvents(portal.baseUrl, {
      action: ACTION,
      from,
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      plugin: 'scaffolder',
      eventId: 'deploy',
      severity: 'medium',
      outcome: 'succeeded',
      // The verified initiator, not the scaffolder worker that ran the step.
      actor: {
        kind: 'person',
        entityRef: 'user:default/carla.chen',
        oid: CARLA,
        tid: emulator.tenantId,
      },
      meta: {
        environment: 'staging',
        taskId: task.id,
        deploymentId: expect.stringMatching(/^deploy-\d+$/),
      },
    });
    expect(events[0].entityRefs).toEqual(
      expect.arrayContaining([SERVICE, DEPLOY_TEMPLATE]),
    );
    // Who acted is the actor, not an entity the event is about.
    expect(events[0].entityRefs).not.toContain('user:default/carla.chen');
    // An admin finds it from the component and from the person.
    for (const filter of [
      { entity: SERVICE },
      { person: 'user:default/carla.chen' },
    ]) {
      const found = await settledAuditEvents(portal.baseUrl, {
        ...filter,
        action: ACTION,
      });
      expect(found.map(e => e.id)).toContain(events[0].id);
    }
    expectNothingSecret(JSON.stringify(events));
  });

  it('stores one failed deploy for a person refused production when the task is created', async () => {
    const from = new Date().toISOString();
    const token = await delegatedToken(emulator, DEV);
    tokensSeen.add(token);
    const created = await api('dev', 'POST', '/v2/tasks', {
      templateRef: DEPLOY_TEMPLATE,
      values: { component: SERVICE, environment: 'production', version: '1' },
      secrets: { entraDelegatedToken: token },
    });
    expect(created.status).toBe(403);

    const events = await settledAuditEvents(portal.baseUrl, {
      action: ACTION,
      from,
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      severity: 'high',
      outcome: 'failed',
      // The object id from Dev's User: nothing was verified before the refusal.
      actor: {
        kind: 'person',
        entityRef: 'user:default/dev.patel',
        oid: DEV,
      },
      meta: { environment: 'production' },
      error: { name: 'NotAllowedError', message: created.body.error.message },
    });
    expect(events[0].entityRefs).toEqual(
      expect.arrayContaining([SERVICE, DEPLOY_TEMPLATE]),
    );
    expectNothingSecret(JSON.stringify(events));
  });

  it("stores one failed deploy naming the initiator, not the owner of another person's token", async () => {
    const from = new Date().toISOString();
    const task = await deploy(
      'carla',
      await delegatedToken(emulator, DEV),
      'staging',
    );
    expect(task.status).toBe('failed');

    const events = await settledAuditEvents(portal.baseUrl, {
      action: ACTION,
      from,
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      outcome: 'failed',
      actor: {
        kind: 'person',
        entityRef: 'user:default/carla.chen',
        oid: CARLA,
      },
      meta: { environment: 'staging', taskId: task.id },
      error: {
        message: expect.stringContaining('belongs to another person'),
      },
    });
    expectNothingSecret(JSON.stringify(events));
  });

  // Declared last, so every deploy above has happened.
  it('holds no token or secret in the stored trail or the backend log', async () => {
    const everything = await settledAuditEvents(portal.baseUrl, {});
    const deploys = everything.filter(e => e.action === ACTION);
    expect(deploys.map(e => e.outcome).sort()).toEqual([
      'failed',
      'failed',
      'succeeded',
    ]);
    // Sign-ins and task creation are in the trail too: searched as well.
    expect([...new Set(everything.map((e: AuditEvent) => e.plugin))]).toEqual(
      expect.arrayContaining(['auth', 'scaffolder']),
    );
    expectNothingSecret(JSON.stringify(everything));
    // The auditor logs each deploy too (initiated and its outcome): the log
    // searched is the one that has them.
    const logged = portal.logLines
      .map(l => JSON.parse(l))
      .filter(l => l.isAuditEvent && l.eventId === 'deploy');
    expect(logged.map(l => l.status).sort()).toEqual([
      'failed',
      'failed',
      'initiated',
      'initiated',
      'initiated',
      'succeeded',
    ]);
    expectNothingSecret(portal.logLines.join('\n'));
  });
});
