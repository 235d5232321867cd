import {
  coreServices,
  createBackendPlugin,
  createServiceFactory,
  LoggerService,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { NotAllowedError } from '@backstage/errors';
import { JsonObject } from '@backstage/types';
import { AuditEvent } from '@internal/plugin-audit-common';
import express from 'express';
import request from 'supertest';
import { auditorServiceFactory } from './auditorServiceFactory';
import { auditSinkServiceRef } from './auditSinkServiceRef';
import { AuditEventWriter, AuditSink } from './types';

interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
  meta: unknown;
}

/** A root logger that keeps every line with the fields of its children. */
function recordingLogger(
  lines: LogLine[],
  fields: Record<string, unknown> = {},
): LoggerService {
  const log =
    (level: string) =>
    (message: string, meta?: unknown): void => {
      lines.push({
        level,
        message,
        fields,
        meta:
          meta instanceof Error
            ? { name: meta.name, message: meta.message, stack: meta.stack }
            : meta,
      });
    };
  return {
    error: log('error'),
    warn: log('warn'),
    info: log('info'),
    debug: log('debug'),
    child: meta => recordingLogger(lines, { ...fields, ...meta }),
  };
}

const JWT =
  'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsIm9pZCI6IjEyMyJ9.c2lnbmF0dXJl';

/**
 * A plugin whose routes emit auditor events the way real plugins do; the
 * query says which meta and which outcome.
 */
const testPlugin = createBackendPlugin({
  pluginId: 'tester',
  register(env) {
    env.registerInit({
      deps: {
        auditor: coreServices.auditor,
        httpRouter: coreServices.httpRouter,
      },
      async init({ auditor, httpRouter }) {
        const router = express.Router();
        router.use(express.json());
        router.post('/emit', async (req, res) => {
          const body = req.body as {
            meta?: JsonObject;
            outcomeMeta?: JsonObject;
            fail?: boolean;
            severity?: 'low' | 'medium' | 'high' | 'critical';
            noRequest?: boolean;
            twice?: boolean;
          };
          const event = await auditor.createEvent({
            eventId: 'thing-do',
            severityLevel: body.severity,
            request: body.noRequest ? undefined : req,
            meta: body.meta,
          });
          if (body.fail) {
            await event.fail({
              meta: body.outcomeMeta,
              error: new NotAllowedError(`refused, token was ${JWT}`),
            });
          } else {
            await event.success({ meta: body.outcomeMeta });
          }
          if (body.twice) await event.success();
          res.status(200).json({ ok: true });
        });
        httpRouter.use(router);
        // The route decides about credentials itself, so a forged token
        // reaches it and the auditor has to cope with it.
        httpRouter.addAuthPolicy({ path: '/emit', allow: 'unauthenticated' });
      },
    });
  },
});

async function setup(
  config: JsonObject = {},
  enqueue?: (event: AuditEvent) => void,
) {
  const events: AuditEvent[] = [];
  const lines: LogLine[] = [];
  const sink: AuditSink = {
    enqueue: e => {
      enqueue?.(e);
      events.push(e);
    },
    attach: () => {},
    flush: async () => {},
    stats: () => ({ buffered: 0, dropped: 0, written: events.length }),
  };
  const backend = await startTestBackend({
    features: [
      auditorServiceFactory,
      testPlugin,
      createServiceFactory({
        service: auditSinkServiceRef,
        deps: {},
        factory: () => sink,
      }),
      createServiceFactory({
        service: coreServices.rootLogger,
        deps: {},
        factory: () => recordingLogger(lines),
      }),
      mockServices.rootConfig.factory({ data: config }),
      // the mock's default is a signed-in user; a request without a token
      // must look like one in production
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
    ],
  });
  const emit = (body: object, authorization?: string, query = '') => {
    const r = request(backend.server).post(`/api/tester/emit${query}`);
    if (authorization) r.set('Authorization', authorization);
    return r.set('User-Agent', 'audit-test/1').send(body);
  };
  const auditLines = () => lines.filter(l => l.fields.isAuditEvent === true);
  return { backend, events, lines, auditLines, emit };
}

describe('auditorServiceFactory', () => {
  it('stores a user request as the person, once, with the route but not its query', async () => {
    const { emit, events } = await setup();
    const res = await emit(
      { meta: { entityRef: 'Component:default/Shop' } },
      mockCredentials.user.header('user:default/alice'),
      '?code=secret-code&state=s1',
    );
    expect(res.status).toBe(200);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event).toMatchObject({
      plugin: 'tester',
      eventId: 'thing-do',
      action: 'tester.thing-do',
      severity: 'low',
      outcome: 'succeeded',
      actor: {
        kind: 'person',
        entityRef: 'user:default/alice',
        userAgent: 'audit-test/1',
      },
      request: { method: 'POST', route: '/api/tester/emit' },
      entityRefs: ['component:default/shop'],
      meta: { entityRef: 'Component:default/Shop' },
    });
    expect(event.id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(Number.isNaN(Date.parse(event.time))).toBe(false);
    expect(JSON.stringify(event)).not.toContain('secret-code');
  });

  it('stores exactly one event per createEvent, however often the outcome is reported', async () => {
    const { emit, events, auditLines } = await setup();
    await emit({ twice: true }, mockCredentials.user.header());
    await emit({ fail: true }, mockCredentials.user.header());
    expect(events.map(e => e.outcome)).toEqual(['succeeded', 'failed']);
    expect(new Set(events.map(e => e.id)).size).toBe(2);
    // the log keeps upstream's lines: initiated + outcome (+ the repeat)
    expect(auditLines().map(l => l.message)).toEqual([
      'tester.thing-do',
      'tester.thing-do',
      'tester.thing-do',
      'tester.thing-do',
      'tester.thing-do',
    ]);
  });

  it('names a plugin service token by plugin and other services by subject', async () => {
    const { emit, events } = await setup();
    await emit(
      {},
      mockCredentials.service.header({
        onBehalfOf: mockCredentials.service('plugin:scaffolder'),
        targetPluginId: 'tester',
      }),
    );
    await emit({}, mockCredentials.service.header());
    expect(events.map(e => e.actor)).toEqual([
      expect.objectContaining({ kind: 'plugin', plugin: 'scaffolder' }),
      expect.objectContaining({
        kind: 'service',
        subject: 'external:test-service',
      }),
    ]);
  });

  it('is the emitting plugin when there is no request', async () => {
    const { emit, events } = await setup();
    await emit({ noRequest: true }, mockCredentials.user.header());
    expect(events).toHaveLength(1);
    expect(events[0].actor).toEqual({ kind: 'plugin', plugin: 'tester' });
    expect(events[0].request).toBeUndefined();
  });

  it('records a forged or absent token as anonymous and still lets the route answer', async () => {
    const { emit, events } = await setup();
    const forged = await emit({}, mockCredentials.user.invalidHeader());
    const forgedService = await emit({}, 'Bearer not-a-token-at-all');
    const absent = await emit({});
    expect([forged.status, forgedService.status, absent.status]).toEqual([
      200, 200, 200,
    ]);
    expect(events.map(e => e.actor.kind)).toEqual([
      'anonymous',
      'anonymous',
      'anonymous',
    ]);
    expect(events.every(e => e.actor.entityRef === undefined)).toBe(true);
  });

  it('names the person of a cookie-authenticated request (TechDocs pages)', async () => {
    const { backend, events } = await setup();
    const res = await request(backend.server)
      .post('/api/tester/emit')
      .set('Cookie', mockCredentials.limitedUser.cookie('user:default/carol'))
      .send({});
    expect(res.status).toBe(200);
    expect(events[0].actor).toMatchObject({
      kind: 'person',
      entityRef: 'user:default/carol',
    });
  });

  it('never throws into the audited operation, even when the sink does', async () => {
    const { emit, events } = await setup({}, () => {
      throw new Error('sink exploded');
    });
    const res = await emit(
      { meta: { entityRef: 'component:default/a' }, fail: true },
      mockCredentials.user.header(),
    );
    expect(res.status).toBe(200);
    expect(events).toHaveLength(0);
  });

  it('stores the event when logging fails', async () => {
    const events: AuditEvent[] = [];
    const fail = () => {
      throw new Error('log transport closed');
    };
    const broken: LoggerService = {
      error: fail,
      warn: fail,
      info: fail,
      debug: fail,
      child: () => broken,
    };
    // only the audit lines fail, the backend's own logging works
    const root = (): LoggerService => ({
      ...recordingLogger([]),
      child: meta => (meta.isAuditEvent ? broken : root()),
    });
    const backend = await startTestBackend({
      features: [
        auditorServiceFactory,
        testPlugin,
        createServiceFactory({
          service: auditSinkServiceRef,
          deps: {},
          factory: () => ({
            enqueue: (e: AuditEvent) => {
              events.push(e);
            },
            attach: () => {},
            flush: async () => {},
            stats: () => ({ buffered: 0, dropped: 0, written: 0 }),
          }),
        }),
        createServiceFactory({
          service: coreServices.rootLogger,
          deps: {},
          factory: root,
        }),
      ],
    });
    const res = await request(backend.server)
      .post('/api/tester/emit')
      .set('Authorization', mockCredentials.user.header())
      .send({ fail: true });
    expect(res.status).toBe(200);
    expect(events.map(e => e.outcome)).toEqual(['failed']);
  });

  it('honours meta.actor only when the caller is not a signed-in person', async () => {
    const { emit, events } = await setup();
    const claimed = {
      kind: 'person',
      entityRef: 'User:default/Bob',
      oid: 'oid-bob',
      tid: 'tid-1',
    };
    // sign-in: nobody is signed in yet, the verified ID token names the person
    await emit({ meta: { actor: claimed, reason: 'ok' } });
    // a deploy run by the scaffolder worker for its initiator
    await emit(
      { outcomeMeta: { actor: claimed } },
      mockCredentials.service.header({
        onBehalfOf: mockCredentials.service('plugin:scaffolder'),
        targetPluginId: 'tester',
      }),
    );
    // a signed-in person cannot make the trail name somebody else
    await emit(
      { meta: { actor: claimed } },
      mockCredentials.user.header('user:default/mallory'),
    );
    expect(events[0].actor).toMatchObject({
      kind: 'person',
      entityRef: 'user:default/bob',
      oid: 'oid-bob',
      tid: 'tid-1',
    });
    expect(events[0].meta).toEqual({ reason: 'ok' });
    expect(events[1].actor).toMatchObject({
      kind: 'person',
      entityRef: 'user:default/bob',
    });
    expect(events[1].meta).toEqual({});
    expect(events[2].actor).toMatchObject({
      kind: 'person',
      entityRef: 'user:default/mallory',
    });
    expect(events[2].actor.oid).toBeUndefined();
    // the claim is kept as data, but it is not an entity the event is about
    expect(events[2].entityRefs).toEqual([]);
  });

  it('makes a person acting through an MCP client an agent', async () => {
    const { emit, events } = await setup();
    await emit(
      {
        meta: {
          agent: { clientId: 'client-42', clientName: 'Claude', grantId: 'g1' },
          tool: 'catalog.get',
        },
      },
      mockCredentials.user.header('user:default/alice'),
    );
    // without a user token meta.agent makes nobody an agent
    await emit({ meta: { agent: { clientId: 'client-42' } } });
    expect(events[0].actor).toMatchObject({
      kind: 'agent',
      entityRef: 'user:default/alice',
      clientId: 'client-42',
    });
    expect(events[0].meta.agent).toEqual({
      clientId: 'client-42',
      clientName: 'Claude',
      grantId: 'g1',
    });
    expect(events[1].actor.kind).toBe('anonymous');
  });

  it('keeps secrets out of stored meta, errors and every log line', async () => {
    const { emit, events, lines } = await setup();
    const secrets = {
      idToken: JWT,
      header: 'Bearer abc.def-secret',
      nested: {
        token: 'plain-token-value',
        client_secret: 'cs-value',
        code: 'auth-code-value',
        deeper: { password: 'pw-value', list: [`x ${JWT} y`] },
      },
      authCode: 'another-code-value',
      message: `sent Authorization: Bearer zzz-secret to graph`,
      keep: 'visible',
    };
    await emit(
      { meta: secrets, outcomeMeta: { refreshToken: 'rt-value' }, fail: true },
      mockCredentials.user.header(),
      `?code=query-code-value&id_token=${JWT}`,
    );
    expect(events).toHaveLength(1);
    const stored = JSON.stringify(events[0]);
    const logged = JSON.stringify(lines);
    for (const secret of [
      JWT,
      'abc.def-secret',
      'plain-token-value',
      'cs-value',
      'auth-code-value',
      'pw-value',
      'another-code-value',
      'zzz-secret',
      'rt-value',
      'query-code-value',
    ]) {
      expect(stored).not.toContain(secret);
      expect(logged).not.toContain(secret);
    }
    expect(events[0].meta).toMatchObject({
      idToken: '[redacted]',
      header: '[redacted]',
      nested: {
        token: '[redacted]',
        client_secret: '[redacted]',
        code: '[redacted]',
        deeper: { password: '[redacted]', list: ['x [redacted] y'] },
      },
      authCode: '[redacted]',
      refreshToken: '[redacted]',
      message: 'sent Authorization: [redacted] to graph',
      keep: 'visible',
    });
    expect(events[0].error).toEqual({
      name: 'NotAllowedError',
      message: 'refused, token was [redacted]',
    });
    expect(logged).toContain('visible');
  });

  it('logs like upstream: initiated and outcome lines, levels from backend.auditor', async () => {
    const { emit, auditLines } = await setup({
      backend: {
        auditor: {
          severityLogLevelMappings: { medium: 'warn', high: 'error' },
        },
      },
    });
    await emit(
      { severity: 'medium', meta: { entityRef: 'component:default/a' } },
      mockCredentials.user.header('user:default/alice'),
      '?q=1',
    );
    await emit({ severity: 'high', fail: true });
    await emit({});
    const logged = auditLines();
    expect(logged.map(l => [l.level, l.message])).toEqual([
      ['warn', 'tester.thing-do'],
      ['warn', 'tester.thing-do'],
      ['error', 'tester.thing-do'],
      ['error', 'tester.thing-do'],
      ['debug', 'tester.thing-do'],
      ['debug', 'tester.thing-do'],
    ]);
    expect(logged[0].fields).toMatchObject({ plugin: 'tester' });
    expect(logged[0].meta).toMatchObject({
      plugin: 'tester',
      eventId: 'thing-do',
      severityLevel: 'medium',
      status: 'initiated',
      actor: { actorId: 'user:default/alice', userAgent: 'audit-test/1' },
      request: { url: '/api/tester/emit', method: 'POST' },
      meta: { entityRef: 'component:default/a' },
    });
    expect(logged[1].meta).toMatchObject({ status: 'succeeded' });
    // a failure: the event fields on a child logger, the error as meta
    expect(logged[3].fields).toMatchObject({
      isAuditEvent: true,
      eventId: 'thing-do',
      status: 'failed',
      actor: {},
    });
    expect(logged[3].meta).toMatchObject({ name: 'NotAllowedError' });
  });

  it('refuses an unknown log level in backend.auditor.severityLogLevelMappings', async () => {
    await expect(
      setup({
        backend: { auditor: { severityLogLevelMappings: { low: 'loud' } } },
      }),
    ).rejects.toThrow(
      "The configuration value for 'backend.auditor.severityLogLevelMappings.low' was given an invalid value: 'loud'",
    );
  });

  it('delivers through the default sink to the writer the audit plugin attaches', async () => {
    const written: AuditEvent[] = [];
    const writer: AuditEventWriter = {
      write: async batch => {
        written.push(...batch);
      },
    };
    let sinkOfPlugin: AuditSink | undefined;
    const storePlugin = createBackendPlugin({
      pluginId: 'audit',
      register(env) {
        env.registerInit({
          deps: { sink: auditSinkServiceRef },
          async init({ sink }) {
            sink.attach(writer);
            sinkOfPlugin = sink;
          },
        });
      },
    });
    const backend = await startTestBackend({
      features: [auditorServiceFactory, testPlugin, storePlugin],
    });
    await request(backend.server)
      .post('/api/tester/emit')
      .set('Authorization', mockCredentials.user.header())
      .send({ meta: { templateRef: 'template:default/deploy' } });
    await sinkOfPlugin!.flush();
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      action: 'tester.thing-do',
      actor: { kind: 'person', entityRef: 'user:default/mock' },
      entityRefs: ['template:default/deploy'],
    });
    expect(sinkOfPlugin!.stats()).toMatchObject({ written: 1, buffered: 0 });
  });
});
