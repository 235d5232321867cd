/*
 * An AI agent acts for a person, under the person's rights: an MCP client
 * made with the official SDK connects to the portal's MCP server, completes
 * Backstage's OAuth flow headlessly (the seeded person signs in at the Entra
 * emulator and approves), lists tools and queries the catalog. What comes
 * back is what the same person gets from the REST API, with
 * `restrictReadToOwners: [Resource]` hiding payments' database from Rosa.
 */
import { mockServices } from '@backstage/backend-test-utils';
import { loadSeed } from '@internal/entra-emulator';
import type { EntraEmulator } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import {
  AgentClientHost,
  approveAs,
  connectAgent,
  ConnectedAgent,
  signIn,
  startAgentClientHost,
} from '@internal/portal-test-utils';
import { PEOPLE, startAgentBackend } from './__testUtils__/backend';

type Person = keyof typeof PEOPLE;

describe('an MCP agent acting for a person', () => {
  let emulator: EntraEmulator;
  let host: AgentClientHost;
  let baseUrl: string;
  let stopBackend: () => Promise<void>;
  const tokens = {} as Record<Person, string>;
  const agents = {} as Record<Person, ConnectedAgent>;
  /** Audit events the MCP guard emitted. */
  const audited: any[] = [];
  const auditor = mockServices.auditor.mock({
    async createEvent(event: any) {
      if (event.eventId === 'agent-tool-call') audited.push(event);
      return { success: async () => {}, fail: async () => {} };
    },
  });

  const rest = async (who: Person, path: string) => {
    const res = await fetch(`${baseUrl}${path}`, {
      headers: { authorization: `Bearer ${tokens[who]}` },
    });
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    return res.json();
  };
  const queryTool = async (who: Person, query: object) => {
    const result: any = await agents[who].client.callTool({
      name: 'catalog.query-catalog-entities',
      arguments: { query },
    });
    if (result.isError) throw new Error(JSON.stringify(result.content));
    return JSON.parse(result.content[0].text);
  };
  const api = async (
    who: Person,
    method: string,
    path: string,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${baseUrl}/api/auth/agent-access/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${tokens[who]}`, ...headers },
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const mcpStatus = (authorization: string) =>
    fetch(`${baseUrl}/api/mcp-actions/v1`, {
      method: 'POST',
      headers: {
        authorization,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    }).then(r => r.status);
  const refreshGrant = async (refreshToken: string) => {
    const res = await fetch(`${baseUrl}/api/auth/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: host.clientId,
      }),
    });
    return { status: res.status, body: await res.json() };
  };
  const refs = (items: any[]) =>
    items.map(e => `${e.kind.toLowerCase()}:default/${e.metadata.name}`).sort();

  beforeAll(async () => {
    emulator = await startTestEmulator();
    host = await startAgentClientHost(emulator, 'Test Agent');
    const started = await startAgentBackend({
      emulator,
      agentClientIds: [host.clientId],
      features: [auditor.factory],
    });
    baseUrl = started.baseUrl;
    stopBackend = () => started.backend.stop();
    // Sign-in needs the users in the catalog; the provider applies them
    // while the backend starts and the catalog stitches in the background.
    const deadline = Date.now() + 45_000;
    for (const [who, { upn }] of Object.entries(PEOPLE)) {
      for (;;) {
        try {
          tokens[who as Person] = (await signIn(baseUrl, upn)).token;
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise(r => setTimeout(r, 250));
        }
      }
    }
    for (const who of Object.keys(PEOPLE) as Person[]) {
      agents[who] = await connectAgent({
        baseUrl,
        host,
        approve: approveAs(baseUrl, tokens[who]),
      });
    }
  });

  afterAll(async () => {
    await Promise.all(Object.values(agents).map(a => a.close()));
    await stopBackend?.();
    await host?.close();
    await emulator?.close();
  });

  it('completes OAuth headlessly and holds a Backstage token for the person', async () => {
    const { access_token, refresh_token } = agents.carla.provider.tokens()!;
    expect(refresh_token).toEqual(expect.any(String));
    const payload = JSON.parse(
      Buffer.from(access_token.split('.')[1], 'base64url').toString(),
    );
    expect(payload.sub).toBe('user:default/carla.chen');
    // The person's own token is not the agent's.
    expect(access_token).not.toBe(tokens.carla);
  });

  it('lists the catalog tools', async () => {
    const { tools } = await agents.carla.client.listTools();
    expect(tools.map(t => t.name)).toContain('catalog.query-catalog-entities');
  });

  it('returns to each person only what the person may read, as REST does', async () => {
    const query = { kind: { $in: ['component', 'resource'] } };
    const viaMcp = {
      carla: refs((await queryTool('carla', query)).items),
      rosa: refs((await queryTool('rosa', query)).items),
    };
    // Two filters are "either", as the tool's $in.
    const byQuery =
      '/api/catalog/entities/by-query?filter=kind=component&filter=kind=resource';
    const viaRest = {
      carla: refs((await rest('carla', byQuery)).items),
      rosa: refs((await rest('rosa', byQuery)).items),
    };
    expect(viaMcp.carla).toEqual([
      'component:default/payments-api',
      'resource:default/payments-db',
    ]);
    expect(viaMcp.rosa).toEqual(['component:default/payments-api']);
    expect(viaMcp).toEqual(viaRest);
  });

  it('refuses an MCP call without a token, and with a forged one', async () => {
    const call = (authorization?: string) =>
      fetch(`${baseUrl}/api/mcp-actions/v1`, {
        method: 'POST',
        headers: {
          ...(authorization && { authorization }),
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
    expect((await call()).status).toBe(401);
    const { access_token } = agents.carla.provider.tokens()!;
    const [h, p] = access_token.split('.');
    const forged = JSON.parse(Buffer.from(p, 'base64url').toString());
    forged.sub = 'user:default/rosa.ruiz';
    const tampered = `${h}.${Buffer.from(JSON.stringify(forged)).toString(
      'base64url',
    )}.${access_token.split('.')[2]}`;
    expect((await call(`Bearer ${tampered}`)).status).toBe(401);
  });

  it("lists each person's own grant, naming the client", async () => {
    const carla = await api('carla', 'GET', '/grants');
    expect(carla.status).toBe(200);
    expect(carla.body.items).toEqual([
      expect.objectContaining({
        id: expect.any(String),
        clientId: host.clientId,
        clientName: 'Test Agent',
        expiresAt: expect.any(String),
      }),
    ]);
    const rosa = await api('rosa', 'GET', '/grants');
    expect(rosa.body.items).toHaveLength(1);
    expect(rosa.body.items[0].id).not.toBe(carla.body.items[0].id);
  });

  it('refuses the grant routes without a person, and someone else’s grant', async () => {
    const anonymous = await fetch(`${baseUrl}/api/auth/agent-access/v1/grants`);
    expect(anonymous.status).toBe(401);
    const [carlasGrant] = (await api('carla', 'GET', '/grants')).body.items;
    expect(
      (await api('rosa', 'DELETE', `/grants/${carlasGrant.id}`)).status,
    ).toBe(404);
    // Still Carla's and still working.
    expect((await api('carla', 'GET', '/grants')).body.items).toHaveLength(1);
    await expect(agents.carla.client.listTools()).resolves.toBeTruthy();
  });

  it("refuses the person's own browser token at the MCP server: it is not an agent's", async () => {
    expect(await mcpStatus(`Bearer ${tokens.carla}`)).toBe(401);
    const { access_token } = agents.carla.provider.tokens()!;
    expect(await mcpStatus(`Bearer ${access_token}`)).toBe(200);
  });

  it('lets the introspection route answer only the MCP plugin', async () => {
    const res = await fetch(`${baseUrl}/api/auth/agent-access/v1/introspect`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens.carla}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        token: agents.carla.provider.tokens()!.access_token,
      }),
    });
    expect(res.status).toBe(403);
  });

  it('refreshes under a live grant, and the new token works', async () => {
    const { refresh_token } = agents.rosa.provider.tokens()!;
    const refreshed = await refreshGrant(refresh_token!);
    expect(refreshed.status).toBe(200);
    expect(await mcpStatus(`Bearer ${refreshed.body.access_token}`)).toBe(200);
    agents.rosa.provider.saveTokens(refreshed.body);
  });

  it('revoked: the next MCP call is refused and refresh is invalid_grant', async () => {
    const { access_token, refresh_token } = agents.rosa.provider.tokens()!;
    const [grant] = (await api('rosa', 'GET', '/grants')).body.items;
    expect((await api('rosa', 'DELETE', `/grants/${grant.id}`)).status).toBe(
      204,
    );

    expect(await mcpStatus(`Bearer ${access_token}`)).toBe(401);
    const refreshed = await refreshGrant(refresh_token!);
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe('invalid_grant');
    expect((await api('rosa', 'GET', '/grants')).body.items).toEqual([]);
    // Carla's agent is untouched.
    await expect(agents.carla.client.listTools()).resolves.toBeTruthy();
  });

  it('audits each tool call with the client, tool, person, oid and tid', async () => {
    audited.length = 0;
    await queryTool('carla', { kind: 'component' });
    expect(audited).toEqual([
      expect.objectContaining({
        eventId: 'agent-tool-call',
        meta: {
          tool: 'catalog.query-catalog-entities',
          clientId: host.clientId,
          clientName: 'Test Agent',
          grantId: expect.any(String),
          entityRef: 'user:default/carla.chen',
          oid: loadSeed().users.find(
            u => u.userPrincipalName === PEOPLE.carla.upn,
          )!.id,
          tid: emulator.tenantId,
          // what makes the stored actor the agent (docs/audit.md)
          agent: {
            clientId: host.clientId,
            clientName: 'Test Agent',
            grantId: expect.any(String),
          },
        },
      }),
    ]);
    // tools/list is not a tool call.
    await agents.carla.client.listTools();
    expect(audited).toHaveLength(1);
  });

  it("lets an admin revoke someone else's grant, which stops that agent", async () => {
    // Admins list only their own grants...
    const own = (await api('ada', 'GET', '/grants')).body.items;
    expect(own).toHaveLength(1);
    const [carlasGrant] = (await api('carla', 'GET', '/grants')).body.items;
    expect(own[0].id).not.toBe(carlasGrant.id);
    // ...but may revoke anyone's.
    expect(
      (await api('ada', 'DELETE', `/grants/${carlasGrant.id}`)).status,
    ).toBe(204);
    const { access_token } = agents.carla.provider.tokens()!;
    expect(await mcpStatus(`Bearer ${access_token}`)).toBe(401);
    expect((await api('carla', 'GET', '/grants')).body.items).toEqual([]);
  });
});
