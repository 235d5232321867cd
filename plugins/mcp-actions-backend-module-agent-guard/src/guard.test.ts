import { AddressInfo } from 'node:net';
import express from 'express';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import {
  createAgentGuard,
  EXECUTE_TEMPLATE_TOOL,
  Introspection,
  rewriteDelegationSecrets,
} from './guard';

const CARLA = 'user:default/carla.chen';

/** The guard in front of a stand-in MCP route that echoes what reached it. */
async function serve(introspect: (token: string) => Promise<Introspection>) {
  const events: any[] = [];
  const auditor = mockServices.auditor.mock({
    async createEvent(event: any) {
      events.push(event);
      return { success: async () => {}, fail: async () => {} };
    },
  });
  const introspected: string[] = [];
  const app = express();
  app.use(
    createAgentGuard({
      httpAuth: mockServices.httpAuth(),
      auth: mockServices.auth(),
      auditor,
      logger: mockServices.logger.mock(),
      introspect: async token => {
        introspected.push(token);
        return introspect(token);
      },
      entraIdentity: async () => ({ oid: 'oid-carla', tid: 'tid-contoso' }),
    }),
  );
  app.post('/v1', express.json(), (req, res) => {
    res.json({ reached: true, body: req.body });
  });
  const server = await new Promise<ReturnType<typeof app.listen>>(r => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  const post = async (authorization: string | undefined, body: unknown) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        ...(authorization && { authorization }),
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  return {
    post,
    events,
    introspected,
    close: () => new Promise(r => server.close(r)),
  };
}

const live: Introspection = {
  active: true,
  grantId: 'g-1',
  clientId: 'https://agents.example.com/client.json',
  clientName: 'Build Assistant',
  userEntityRef: CARLA,
};
const call = (id: number, name: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: {} },
});

describe('createAgentGuard', () => {
  it('audits every tool call of a batch with the grant and the person', async () => {
    const guard = await serve(async () => live);
    const res = await guard.post(mockCredentials.user.header(CARLA), [
      call(1, 'catalog.query-catalog-entities'),
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      call(3, 'catalog.get-catalog-entity'),
    ]);
    expect(res.status).toBe(200);
    expect(guard.events.map(e => [e.eventId, e.meta.tool])).toEqual([
      ['agent-tool-call', 'catalog.query-catalog-entities'],
      ['agent-tool-call', 'catalog.get-catalog-entity'],
    ]);
    expect(guard.events[0].meta).toEqual({
      tool: 'catalog.query-catalog-entities',
      // What makes the stored actor kind agent, with the agent's client id.
      agent: {
        clientId: live.clientId,
        clientName: live.clientName,
        grantId: 'g-1',
      },
      clientId: live.clientId,
      clientName: live.clientName,
      grantId: 'g-1',
      entityRef: CARLA,
      oid: 'oid-carla',
      tid: 'tid-contoso',
    });
    await guard.close();
  });

  it('names the agent of a call as its audit actor, with no token or grant handle in the event', async () => {
    const handle = 'agent-grant:handle-value-123';
    const guard = await serve(async () => ({
      ...live,
      delegationHandle: handle,
    }));
    const header = mockCredentials.user.header(CARLA);
    await guard.post(header, call(1, 'scaffolder.execute-template'));
    expect(guard.events).toHaveLength(1);
    const [event] = guard.events;
    // The person's request: the portal's auditor takes the person from it
    // and, seeing meta.agent.clientId, records the actor as kind agent.
    expect(event.request.headers.authorization).toBe(header);
    expect(event.meta.agent.clientId).toBe(live.clientId);
    const { request: _request, ...rest } = event;
    const serialized = JSON.stringify(rest);
    expect(serialized).not.toContain(header.replace(/^Bearer /, ''));
    expect(serialized).not.toContain(handle);
    await guard.close();
  });

  it('refuses a person without a live grant with 401, before the MCP server', async () => {
    const guard = await serve(async () => ({ active: false }));
    const res = await guard.post(
      mockCredentials.user.header(CARLA),
      call(1, 'x'),
    );
    expect(res.status).toBe(401);
    expect(res.body.reached).toBeUndefined();
    expect(res.body.error.message).toMatch(/no live agent access grant/);
    expect(guard.events).toEqual([]);
    await guard.close();
  });

  it('answers 503 when the grant cannot be checked, without passing the call on', async () => {
    const guard = await serve(async () => {
      throw new Error('introspect answered 500');
    });
    const res = await guard.post(
      mockCredentials.user.header(CARLA),
      call(1, 'x'),
    );
    expect(res.status).toBe(503);
    expect(res.body.reached).toBeUndefined();
    await guard.close();
  });

  it('lets service principals and unauthenticated calls through unasked (upstream decides)', async () => {
    const guard = await serve(async () => ({ active: false }));
    const service = await guard.post(
      mockCredentials.service.header({
        onBehalfOf: mockCredentials.service('external:robot'),
        targetPluginId: 'mcp-actions',
      }),
      call(1, 'x'),
    );
    expect(service.body.reached).toBe(true);
    const anonymous = await guard.post(undefined, call(1, 'x'));
    expect(anonymous.body.reached).toBe(true);
    expect(guard.introspected).toEqual([]);
    await guard.close();
  });
});

describe('rewriteDelegationSecrets', () => {
  const HANDLE = 'agent-grant:signed';

  it('replaces a delegated token the agent sent with its grant handle on execute-template', () => {
    const toolCall = {
      name: EXECUTE_TEMPLATE_TOOL,
      arguments: {
        templateRef: 'template:default/deploy-component',
        secrets: {
          entraDelegatedToken: 'eyJ.agent-chosen.token',
          entraDelegation: 'forged',
          other: 'kept',
        },
      },
    };
    expect(rewriteDelegationSecrets(toolCall, HANDLE)).toEqual([
      'entraDelegatedToken',
      'entraDelegation',
    ]);
    expect(toolCall.arguments.secrets).toEqual({
      other: 'kept',
      entraDelegatedToken: HANDLE,
    });
  });

  it('adds the handle when the agent sent no secrets', () => {
    const toolCall: any = { name: EXECUTE_TEMPLATE_TOOL, arguments: {} };
    expect(rewriteDelegationSecrets(toolCall, HANDLE)).toEqual([]);
    expect(toolCall.arguments.secrets).toEqual({ entraDelegatedToken: HANDLE });
  });

  it('strips delegation secrets from other tools and without a handle, adding none', () => {
    const other = {
      name: 'catalog.query-catalog-entities',
      arguments: { secrets: { entraDelegatedToken: 'eyJ.x.y' } },
    };
    rewriteDelegationSecrets(other, HANDLE);
    expect(other.arguments.secrets).toEqual({});
    const noHandle = {
      name: EXECUTE_TEMPLATE_TOOL,
      arguments: { secrets: { entraDelegatedToken: 'eyJ.x.y' } },
    };
    rewriteDelegationSecrets(noHandle, undefined);
    expect(noHandle.arguments.secrets).toEqual({});
  });
});
