import {
  BackstageCredentials,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuditEvent, AuditEventPage } from '@internal/plugin-audit-common';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { auditPlugin } from './plugin';
import { TRUNCATED_HEADER } from './service/router';
import { AuditSink, auditSinkServiceRef, auditorServiceFactory } from './sink';

const ADMIN = 'user:default/ada.admin';
const CARLA = 'user:default/carla.chen';
const SHOP = 'component:default/shop';

type Started = {
  server: Parameters<typeof request>[0];
  sink: AuditSink;
  scheduler: ReturnType<typeof mockServices.scheduler.mock>;
  authorize: jest.Mock;
  stop: () => Promise<void>;
};

function isAdmin(credentials: BackstageCredentials) {
  return (
    credentials.principal &&
    (credentials.principal as { type?: string; userEntityRef?: string })
      .userEntityRef === ADMIN
  );
}

async function startAudit(config: object = {}): Promise<Started> {
  let sink: AuditSink | undefined;
  // Takes hold of the backend's one sink, as another plugin's auditor would.
  const probe = createBackendPlugin({
    pluginId: 'probe',
    register(env) {
      env.registerInit({
        deps: { auditSink: auditSinkServiceRef },
        async init({ auditSink }) {
          sink = auditSink;
        },
      });
    },
  });
  const authorize = jest.fn(
    async (items: unknown[], options: { credentials: BackstageCredentials }) =>
      items.map(() => ({
        result: isAdmin(options.credentials)
          ? AuthorizeResult.ALLOW
          : AuthorizeResult.DENY,
      })),
  );
  const permissions = mockServices.permissions.mock({
    authorize: authorize as any,
  });
  const scheduler = mockServices.scheduler.mock();
  const backend = await startTestBackend({
    features: [
      auditPlugin,
      probe,
      auditorServiceFactory,
      permissions.factory,
      scheduler.factory,
      catalogServiceMock.factory({ entities: [] }),
      // No Authorization header means no credentials (the mock's default
      // would be a signed-in user).
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
      mockServices.rootConfig.factory({ data: config }),
    ],
  });
  return {
    server: backend.server,
    sink: sink!,
    scheduler,
    authorize,
    stop: () => backend.stop(),
  };
}

function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: randomUUID(),
    time: new Date().toISOString(),
    plugin: 'scaffolder',
    eventId: 'deploy',
    action: 'scaffolder.deploy',
    severity: 'medium',
    outcome: 'succeeded',
    actor: { kind: 'person', entityRef: CARLA, oid: 'oid-c', tid: 'tid-1' },
    request: { method: 'POST', route: '/api/scaffolder/v2/tasks' },
    entityRefs: [SHOP],
    meta: { environment: 'production' },
    ...overrides,
  };
}

async function store(sink: AuditSink, events: AuditEvent[]) {
  for (const e of events) {
    sink.enqueue(e);
  }
  await sink.flush();
}

const admin = () => mockCredentials.user.header(ADMIN);
const carla = () => mockCredentials.user.header(CARLA);

/** RFC 4180 records, to read back what the export wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else {
      cell += c;
    }
  }
  expect(cell).toBe('');
  expect(row).toEqual([]);
  return rows;
}

describe('audit plugin', () => {
  let backend: Started;
  beforeAll(async () => {
    backend = await startAudit();
  });
  afterAll(async () => {
    await backend?.stop();
  });

  const deploy = event({ time: '2026-12-02T10:00:00.000Z' });
  const denied = event({
    plugin: 'permission',
    eventId: 'permission-denied',
    action: 'permission.permission-denied',
    outcome: 'failed',
    time: '2026-12-03T10:00:00.000Z',
    actor: { kind: 'person', entityRef: 'user:default/rosa.ruiz' },
    meta: { permission: 'catalog.entity.delete', rule: 'IS_ENTITY_OWNER' },
    error: { name: 'NotAllowedError', message: 'not the owner' },
  });

  it('answers an admin the stored events, newest first, with filters', async () => {
    await store(backend.sink, [deploy, denied]);

    const all = await request(backend.server)
      .get('/api/audit/events')
      .set('Authorization', admin());
    expect(all.status).toBe(200);
    const ids = (all.body as AuditEventPage).items.map(e => e.id);
    expect(ids.indexOf(denied.id)).toBeLessThan(ids.indexOf(deploy.id));
    expect(all.body.items.find((e: AuditEvent) => e.id === deploy.id)).toEqual(
      deploy,
    );

    const byPerson = await request(backend.server)
      .get('/api/audit/events')
      .query({ person: 'carla.chen', action: 'deploy', entity: SHOP })
      .set('Authorization', admin());
    expect(byPerson.body.items.map((e: AuditEvent) => e.id)).toEqual([
      deploy.id,
    ]);

    const failed = await request(backend.server)
      .get('/api/audit/events')
      .query({
        outcome: 'failed',
        from: '2026-12-03T00:00:00Z',
        to: '2026-12-04',
      })
      .set('Authorization', admin());
    expect(failed.body.items).toEqual([denied]);
  });

  it('pages with the cursor it answers', async () => {
    const page = Array.from({ length: 5 }, () =>
      event({ eventId: 'paged', action: 'test.paged' }),
    );
    await store(backend.sink, page);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await request(backend.server)
        .get('/api/audit/events')
        .query({
          action: 'test.paged',
          limit: 2,
          ...(cursor ? { cursor } : {}),
        })
        .set('Authorization', admin());
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((e: AuditEvent) => e.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(page.map(e => e.id).reverse());
  });

  it.each([
    ['/api/audit/events'],
    ['/api/audit/events/export?format=csv'],
    ['/api/audit/health'],
  ])(
    'refuses %s to a non-admin (403) and without credentials (401)',
    async path => {
      const refused = await request(backend.server)
        .get(path)
        .set('Authorization', carla());
      expect(refused.status).toBe(403);
      expect(refused.body.error.name).toBe('NotAllowedError');
      expect(refused.body.error.message).toContain('audit.read');
      expect(JSON.stringify(refused.body)).not.toContain(deploy.id);

      const anonymous = await request(backend.server).get(path);
      expect(anonymous.status).toBe(401);

      const forged = await request(backend.server)
        .get(path)
        .set(
          'Authorization',
          'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.',
        );
      expect(forged.status).toBe(401);

      // A non-admin's bad parameters are not even looked at.
      const badAndRefused = await request(backend.server)
        .get(`${path}${path.includes('?') ? '&' : '?'}limit=zero`)
        .set('Authorization', carla());
      expect(badAndRefused.status).toBe(403);
    },
  );

  it('asks the permission framework for audit.read with the caller', async () => {
    backend.authorize.mockClear();
    await request(backend.server)
      .get('/api/audit/health')
      .set('Authorization', carla());
    expect(backend.authorize).toHaveBeenCalledWith(
      [{ permission: expect.objectContaining({ name: 'audit.read' }) }],
      {
        credentials: expect.objectContaining({
          principal: expect.objectContaining({ userEntityRef: CARLA }),
        }),
      },
    );
  });

  it.each([
    ['/api/audit/events?limit=0', 'limit'],
    ['/api/audit/events?limit=501', 'limit'],
    ['/api/audit/events?limit=ten', 'limit'],
    ['/api/audit/events?cursor=bogus!', 'cursor'],
    [
      `/api/audit/events?cursor=${Buffer.from('-4').toString('base64url')}`,
      'cursor',
    ],
    ['/api/audit/events?outcome=maybe', 'outcome'],
    ['/api/audit/events?severity=urgent', 'severity'],
    ['/api/audit/events?from=yesterday', 'from'],
    ['/api/audit/events?to=2026-13-45T99:00:00Z', 'to'],
    ['/api/audit/events?from=2026-12-05&to=2026-12-01', 'to'],
    ['/api/audit/events?person=user:', 'person'],
    ['/api/audit/events?entity=shop', 'entity'],
    ['/api/audit/events?action=drop%20table', 'action'],
    ['/api/audit/events?person=a&person=b', 'person'],
    ['/api/audit/events?actor=user:default/carla.chen', 'actor'],
    ['/api/audit/events/export?format=xlsx', 'format'],
    ['/api/audit/events/export?limit=5', 'limit'],
  ])('answers %s with 400 naming %s', async (path, name) => {
    const res = await request(backend.server)
      .get(path)
      .set('Authorization', admin());
    expect(res.status).toBe(400);
    expect(res.body.error.name).toBe('InputError');
    expect(res.body.error.message).toMatch(new RegExp(`\\b${name}\\b`));
  });

  it('exports JSON Lines that parse back to the stored events', async () => {
    const res = await request(backend.server)
      .get('/api/audit/events/export')
      .query({ format: 'jsonl', outcome: 'failed' })
      .set('Authorization', admin());
    expect(res.status).toBe(200);
    expect(res.headers['content-disposition']).toBe(
      'attachment; filename="audit-events.jsonl"',
    );
    expect(res.headers[TRUNCATED_HEADER.toLowerCase()]).toBeUndefined();
    const lines = res.text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map(line => JSON.parse(line))).toEqual([denied]);
  });

  it('exports CSV with the header and cells escaped against formulas', async () => {
    const hostile = event({
      eventId: 'csv',
      action: 'test.csv',
      actor: { kind: 'service', subject: '=HYPERLINK("http://evil.example")' },
      request: { method: 'GET', route: '/api/x,y' },
      entityRefs: ['component:default/a', 'component:default/b'],
      meta: { note: 'line one\nline "two", three', formula: '@SUM(A1)' },
      error: { name: 'Error', message: '-1+1' },
    });
    await store(backend.sink, [hostile]);
    const res = await request(backend.server)
      .get('/api/audit/events/export')
      .query({ format: 'csv', action: 'test.csv' })
      .set('Authorization', admin());
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(
      'attachment; filename="audit-events.csv"',
    );
    expect(res.text).toContain('"\'=HYPERLINK(""http://evil.example"")"');
    const rows = parseCsv(res.text);
    expect(rows).toEqual([
      [
        'time',
        'action',
        'outcome',
        'severity',
        'actor_kind',
        'actor_ref',
        'actor_oid',
        'actor_tid',
        'actor_app_id',
        'actor_client_id',
        'method',
        'route',
        'entity_refs',
        'meta',
        'error',
      ],
      [
        hostile.time,
        'test.csv',
        'succeeded',
        'medium',
        'service',
        '\'=HYPERLINK("http://evil.example")',
        '',
        '',
        '',
        '',
        'GET',
        '/api/x,y',
        'component:default/a component:default/b',
        JSON.stringify(hostile.meta),
        JSON.stringify(hostile.error),
      ],
    ]);
  });

  it('records who exported the trail', async () => {
    await request(backend.server)
      .get('/api/audit/events/export')
      .query({ format: 'jsonl', person: 'user:default/nobody' })
      .set('Authorization', admin());
    await backend.sink.flush();
    const res = await request(backend.server)
      .get('/api/audit/events')
      .query({ action: 'audit.events-export', person: ADMIN })
      .set('Authorization', admin());
    const mine = res.body.items.filter(
      (e: AuditEvent) =>
        (e.meta.filter as { person?: string }).person === 'user:default/nobody',
    );
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      plugin: 'audit',
      outcome: 'succeeded',
      actor: { kind: 'person', entityRef: ADMIN },
      meta: { format: 'jsonl', count: 0, truncated: false, completed: true },
    });
  });

  it('answers the sink health to an admin', async () => {
    const res = await request(backend.server)
      .get('/api/audit/health')
      .set('Authorization', admin());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ buffered: 0, dropped: 0 });
    expect(res.body.written).toBeGreaterThan(0);
  });

  it('schedules retention on one replica, and it removes only old events', async () => {
    expect(backend.scheduler.scheduleTask).toHaveBeenCalledTimes(1);
    const task = backend.scheduler.scheduleTask.mock.calls[0][0];
    expect(task).toMatchObject({
      id: 'audit-retention',
      scope: 'global',
      frequency: { hours: 6 },
      timeout: { minutes: 30 },
    });
    const old = event({
      eventId: 'retention',
      action: 'test.retention',
      time: new Date(Date.now() - 401 * 24 * 3600 * 1000).toISOString(),
    });
    const kept = event({
      eventId: 'retention',
      action: 'test.retention',
      time: new Date(Date.now() - 399 * 24 * 3600 * 1000).toISOString(),
    });
    await store(backend.sink, [old, kept]);
    await task.fn(new AbortController().signal);
    const res = await request(backend.server)
      .get('/api/audit/events')
      .query({ action: 'test.retention' })
      .set('Authorization', admin());
    expect(res.body.items.map((e: AuditEvent) => e.id)).toEqual([kept.id]);
  });
});

describe('audit plugin configuration', () => {
  it('cuts an export at audit.export.maxEvents and says so', async () => {
    const backend = await startAudit({
      audit: {
        export: { maxEvents: 3 },
        retention: { maxAgeDays: 30, frequency: { minutes: 10 } },
      },
    });
    try {
      const events = Array.from({ length: 4 }, () =>
        event({ eventId: 'capped', action: 'test.capped' }),
      );
      await store(backend.sink, events);
      const res = await request(backend.server)
        .get('/api/audit/events/export')
        .query({ action: 'test.capped' })
        .set('Authorization', admin());
      expect(res.status).toBe(200);
      expect(res.headers[TRUNCATED_HEADER.toLowerCase()]).toBe('true');
      expect(
        res.text
          .trim()
          .split('\n')
          .map(line => JSON.parse(line).id),
      ).toEqual(
        events
          .slice(1)
          .map(e => e.id)
          .reverse(),
      );
      expect(backend.scheduler.scheduleTask.mock.calls[0][0].frequency).toEqual(
        { minutes: 10 },
      );
    } finally {
      await backend.stop();
    }
  });

  it.each([
    [{ retention: { maxAgeDays: 0 } }, /audit.retention.maxAgeDays/],
    [{ export: { maxEvents: 1.5 } }, /audit.export.maxEvents/],
  ])('refuses to start with %j', async (audit, message) => {
    await expect(startAudit({ audit })).rejects.toThrow(message);
  });
});
