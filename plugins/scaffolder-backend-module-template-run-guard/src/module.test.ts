/*
 * The guard in front of the real scaffolder: people signed in with real
 * Backstage tokens, the permission backend asking a policy that lets only
 * tara run create-database, and the catalog resolving that policy's
 * condition for the template named in the request.
 */
import {
  callMcpTool,
  startGuardedBackend,
  signIn,
} from './__testUtils__/backend';

const RESTRICTED = 'template:default/create-database';
const OPEN = 'template:default/create-cache';
const TARA = 'user:default/tara.thompson'; // may run create-database
const ROSA = 'user:default/rosa.ruiz'; // may not

describe('scaffolderModuleTemplateRunGuard', () => {
  const runners = new Set([TARA]);
  let baseUrl: string;
  let stop: () => Promise<void>;
  const tokens: Record<string, string> = {};

  const api = async (
    who: string | undefined,
    method: string,
    path: string,
    body?: unknown,
  ) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(who ? { authorization: `Bearer ${tokens[who]}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const run = (who: string | undefined, templateRef: unknown, values = {}) =>
    api(who, 'POST', '/api/scaffolder/v2/tasks', {
      templateRef,
      values: { name: 'orders', ...values },
    });
  const finished = async (id: string) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { body } = await api(TARA, 'GET', `/api/scaffolder/v2/tasks/${id}`);
      if (['completed', 'failed', 'cancelled'].includes(body?.status)) {
        return body.status;
      }
      if (Date.now() > deadline) throw new Error(`Task ${id} never finished`);
      await new Promise(r => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    const started = await startGuardedBackend({
      restricted: 'create-database',
      open: 'create-cache',
      runners,
      ownershipPolicy: {
        admins: ['group:default/platform-admins'],
        scaffolder: {
          templates: [
            {
              template: 'template:default/Create-Database',
              groups: ['group:default/platform-team'],
            },
          ],
        },
      },
    });
    baseUrl = started.baseUrl;
    stop = () => started.backend.stop();
    for (const who of [TARA, ROSA]) {
      tokens[who] = await signIn(baseUrl, who);
    }
    const deadline = Date.now() + 45_000;
    while ((await api(ROSA, 'GET', '/api/catalog/entities')).body?.length < 2) {
      if (Date.now() > deadline) throw new Error('Catalog never settled');
      await new Promise(r => setTimeout(r, 250));
    }
  });

  afterAll(() => stop?.());

  it("lists the permission in the scaffolder's permission metadata", async () => {
    const { body } = await api(
      ROSA,
      'GET',
      '/api/scaffolder/.well-known/backstage/permissions/metadata',
    );
    expect(body.permissions).toContainEqual({
      type: 'resource',
      name: 'scaffolder.template.run',
      attributes: { action: 'create' },
      resourceType: 'catalog-entity',
    });
  });

  it('leaves a restricted template readable, its form included', async () => {
    const entity = await api(
      ROSA,
      'GET',
      '/api/catalog/entities/by-name/template/default/create-database',
    );
    const schema = await api(
      ROSA,
      'GET',
      '/api/scaffolder/v2/templates/default/template/create-database/parameter-schema',
    );
    expect([entity.status, schema.status, schema.body.steps[0].title]).toEqual([
      200,
      200,
      'Database',
    ]);
  });

  it('refuses to run it for someone the policy does not let run it, saying who may', async () => {
    const { status, body } = await run(ROSA, RESTRICTED);
    expect(status).toBe(403);
    expect(body.error).toMatchObject({
      name: 'NotAllowedError',
      message:
        'You may not run template:default/create-database: only members of group:default/platform-team (and portal admins) can run it',
    });
    const tasks = await api(
      ROSA,
      'GET',
      `/api/scaffolder/v2/tasks?createdBy=${ROSA}`,
    );
    expect(tasks.body.tasks).toEqual([]);
  });

  it.each([
    ['a short ref', 'create-database'],
    ['another case', 'Template:default/CREATE-DATABASE'],
    ['an object', { kind: 'template', name: 'create-database' }],
  ])(
    'reads the template from %s as the scaffolder does',
    async (_, templateRef) => {
      expect((await run(ROSA, templateRef)).status).toBe(403);
    },
  );

  it('runs it for someone the policy lets run it, with the request intact', async () => {
    const { status, body } = await run(TARA, RESTRICTED);
    expect(status).toBe(201);
    const task = await api(TARA, 'GET', `/api/scaffolder/v2/tasks/${body.id}`);
    expect(task.body.spec).toMatchObject({
      parameters: { name: 'orders' },
      templateInfo: { entityRef: RESTRICTED },
    });
    expect(await finished(body.id)).toBe('completed');
  });

  it('runs an unrestricted template for everyone', async () => {
    expect((await run(ROSA, OPEN)).status).toBe(201);
  });

  it("accepts bodies as large as the scaffolder's own limit", async () => {
    // Beyond the 100 kB default of express.json.
    const { status } = await run(ROSA, OPEN, { notes: 'x'.repeat(500_000) });
    expect(status).toBe(201);
  });

  it('answers 404 for a template that does not exist, as the scaffolder does', async () => {
    const refused = await run(ROSA, 'template:default/no-such-template');
    const allowed = await run(TARA, 'template:default/no-such-template');
    expect([refused.status, refused.body.error.message]).toEqual([
      404,
      'Template template:default/no-such-template not found',
    ]);
    expect([allowed.status, allowed.body.error.message]).toEqual([
      404,
      'Template template:default/no-such-template not found',
    ]);
  });

  it('refuses a request without a template', async () => {
    const { status, body } = await api(
      ROSA,
      'POST',
      '/api/scaffolder/v2/tasks',
      { values: {} },
    );
    expect([status, body.error.name]).toEqual([400, 'InputError']);
  });

  it('leaves unauthenticated callers to the auth policy', async () => {
    expect((await run(undefined, OPEN)).status).toBe(401);
  });

  it('asks again when a task is retried', async () => {
    const created = await run(TARA, RESTRICTED);
    expect(await finished(created.body.id)).toBe('completed');
    const retry = () =>
      api(
        TARA,
        'POST',
        `/api/scaffolder/v2/tasks/${created.body.id}/retry`,
        {},
      );

    runners.delete(TARA);
    try {
      const refused = await retry();
      expect([refused.status, refused.body.error.message]).toEqual([
        403,
        'You may not run template:default/create-database: only members of group:default/platform-team (and portal admins) can run it',
      ]);
    } finally {
      runners.add(TARA);
    }
    expect((await retry()).status).toBe(201);
  });

  describe('the MCP execute-template tool', () => {
    const TOOL = 'scaffolder.execute-template';
    const execute = async (who: string, templateRef: string) => {
      const { status, message } = await callMcpTool(
        baseUrl,
        tokens[who],
        TOOL,
        {
          templateRef,
          values: { name: 'orders' },
        },
      );
      // A tool's refusal is a result marked isError, not a protocol error.
      expect([status, message.error]).toEqual([200, undefined]);
      return message.result as {
        isError?: boolean;
        content: Array<{ text: string }>;
        structuredContent?: { taskId: string };
      };
    };

    it('refuses a restricted template with the reason the HTTP route gives', async () => {
      const before = await api(
        ROSA,
        'GET',
        `/api/scaffolder/v2/tasks?createdBy=${ROSA}`,
      );
      const result = await execute(ROSA, RESTRICTED);
      expect(result).toEqual({
        isError: true,
        content: [
          {
            type: 'text',
            text: 'NotAllowedError: You may not run template:default/create-database: only members of group:default/platform-team (and portal admins) can run it',
          },
        ],
      });
      const after = await api(
        ROSA,
        'GET',
        `/api/scaffolder/v2/tasks?createdBy=${ROSA}`,
      );
      expect(after.body.tasks).toHaveLength(before.body.tasks.length);
    });

    it('answers a template that does not exist as not found, for everyone', async () => {
      for (const who of [ROSA, TARA]) {
        const result = await execute(who, 'template:default/no-such-template');
        expect([result.isError, result.content[0].text]).toEqual([
          true,
          'NotFoundError: Template template:default/no-such-template not found',
        ]);
      }
    });

    it('runs a template for someone the policy lets run it', async () => {
      const result = await execute(TARA, RESTRICTED);
      expect(result.isError).toBeFalsy();
      const taskId = result.structuredContent?.taskId;
      expect(typeof taskId).toBe('string');
      expect(await finished(taskId!)).toBe('completed');
    });
  });
});
