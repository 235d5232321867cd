/*
 * An agent's tool calls as the stored audit trail has them: the agent
 * backend (real auth, Backstage's OAuth server for MCP clients, the MCP
 * guard) with the portal's auditor and audit plugin, as packages/backend runs
 * them. An MCP client made with the official SDK connects for Carla, and
 * every event is read back through GET /api/audit/events once the sink has
 * flushed.
 */
import { loadSeed } from '@internal/entra-emulator';
import type { EntraEmulator } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import type { AuditEvent } from '@internal/plugin-audit-common';
import {
  AgentClientHost,
  approveAs,
  AUDIT_READER_TOKEN,
  callMcpTool,
  connectAgent,
  ConnectedAgent,
  settledAuditEvents,
  signIn,
  startAgentClientHost,
} from '@internal/portal-test-utils';
import { PEOPLE, startAgentBackend } from './__testUtils__/backend';

const ACTION = 'mcp-actions.agent-tool-call';
const TOOL = 'catalog.query-catalog-entities';
const CARLA_REF = 'user:default/carla.chen';

/** Anything that looks like a JWT, whole or cut short. */
const JWT = /eyJ[\w-]{6,}\.[\w-]*/;

describe('agent tool calls in the stored audit trail', () => {
  let emulator: EntraEmulator;
  let host: AgentClientHost;
  let agent: ConnectedAgent;
  let baseUrl: string;
  let stopBackend: () => Promise<void>;
  let logLines: string[];
  let personToken: string;
  /** Every token and session value the flows below handed out. */
  const secrets = new Set<string>();

  const carlaOid = loadSeed().users.find(
    u => u.userPrincipalName === PEOPLE.carla.upn,
  )!.id;

  /** Remembers the agent's current tokens, to look for them in the trail. */
  const agentTokens = () => {
    const { access_token, refresh_token } = agent.provider.tokens()!;
    for (const t of [access_token, refresh_token]) if (t) secrets.add(t);
    return { accessToken: access_token };
  };

  const expectNothingSecret = (events: AuditEvent[] | string) => {
    const text = typeof events === 'string' ? events : JSON.stringify(events);
    for (const secret of [
      ...secrets,
      AUDIT_READER_TOKEN,
      emulator.apps.portal.clientSecret,
    ]) {
      // Whole, or a token's payload or signature alone.
      for (const part of [secret, ...secret.split('.').slice(1)]) {
        expect(text).not.toContain(part);
      }
    }
    expect(text).not.toMatch(JWT);
    expect(text).not.toMatch(/bearer/i);
    // OAuth's code and verifier travel in queries: never stored.
    for (const event of typeof events === 'string' ? [] : events) {
      expect(event.request?.route ?? '').not.toContain('?');
    }
  };

  beforeAll(async () => {
    emulator = await startTestEmulator();
    host = await startAgentClientHost(emulator, 'Test Agent');
    const started = await startAgentBackend({
      emulator,
      agentClientIds: [host.clientId],
      auditTrail: true,
    });
    baseUrl = started.baseUrl;
    logLines = started.logLines;
    stopBackend = () => started.backend.stop();
    // Sign-in needs Carla's User, which the catalog stitches in the background.
    const deadline = Date.now() + 45_000;
    for (;;) {
      try {
        const signedIn = await signIn(baseUrl, PEOPLE.carla.upn);
        personToken = signedIn.token;
        secrets.add(signedIn.token);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise(r => setTimeout(r, 250));
      }
    }
    agent = await connectAgent({
      baseUrl,
      host,
      approve: approveAs(baseUrl, personToken),
    });
    agentTokens();
  });

  afterAll(async () => {
    await agent?.close();
    await stopBackend?.();
    await host?.close();
    await emulator?.close();
  });

  it('stores one tool call as the agent acting for the person, with its client id', async () => {
    const from = new Date().toISOString();
    const result: any = await agent.client.callTool({
      name: TOOL,
      arguments: { query: { kind: 'component' } },
    });
    expect(result.isError).toBeFalsy();
    const { accessToken } = agentTokens();

    const events = await settledAuditEvents(baseUrl, { action: ACTION, from });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      plugin: 'mcp-actions',
      eventId: 'agent-tool-call',
      outcome: 'succeeded',
      // The person's User and Entra object id (from the catalog), the
      // agent's client: not the person acting themselves. No tid: these
      // Users come from a fixed test provider, and the trail takes a
      // person's tenant from the org ingestion provider that brought them in
      // (CatalogActorResolver.test.ts in plugins/audit-backend).
      actor: {
        kind: 'agent',
        entityRef: CARLA_REF,
        oid: carlaOid,
        clientId: host.clientId,
      },
      meta: {
        tool: TOOL,
        agent: {
          clientId: host.clientId,
          clientName: 'Test Agent',
          grantId: expect.any(String),
        },
      },
      request: { method: 'POST', route: '/api/mcp-actions/v1' },
    });
    // The person filter finds what agents did for them too.
    const byPerson = await settledAuditEvents(baseUrl, {
      person: CARLA_REF,
      action: ACTION,
    });
    expect(byPerson.map(e => e.id)).toContain(events[0].id);
    expect(JSON.stringify(events)).not.toContain(accessToken);
    expectNothingSecret(events);
  });

  it('stores nothing for a listing, which is not a tool call', async () => {
    const from = new Date().toISOString();
    await agent.client.listTools();
    // A tool call after it, so the read below waits for the flush that
    // would also carry an event of the listing.
    await agent.client.callTool({
      name: TOOL,
      arguments: { query: { kind: 'group' } },
    });
    const events = await settledAuditEvents(baseUrl, { action: ACTION, from });
    expect(events).toHaveLength(1);
    expect(events[0].meta.tool).toBe(TOOL);
  });

  it("stores no tool call for the person's own browser token, nor a forged agent token", async () => {
    const from = new Date().toISOString();
    const { accessToken } = agentTokens();
    const [h, p, sig] = accessToken.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${Buffer.from(
      JSON.stringify({ ...claims, sub: 'user:default/rosa.ruiz' }),
    ).toString('base64url')}.${sig}`;
    for (const token of [personToken, forged]) {
      const { status } = await callMcpTool(
        baseUrl,
        { authorization: `Bearer ${token}` },
        TOOL,
        { query: { kind: 'component' } },
      );
      expect(status).toBe(401);
    }
    // Then a real call, whose stored event shows the trail has flushed.
    await agent.client.callTool({
      name: TOOL,
      arguments: { query: { kind: 'component' } },
    });
    const events = await settledAuditEvents(baseUrl, { action: ACTION, from });
    expect(events).toHaveLength(1);
    expect(events[0].actor).toMatchObject({
      kind: 'agent',
      entityRef: CARLA_REF,
      clientId: host.clientId,
    });
  });

  // Declared last, so every flow above (sign-in, OAuth, tool calls) is in it.
  it('holds no token or secret anywhere in the stored trail or the backend log', async () => {
    agentTokens();
    const everything = await settledAuditEvents(baseUrl, {});
    expect(everything.filter(e => e.action === ACTION)).toHaveLength(3);
    expect(everything.some(e => e.action === 'auth.sign-in')).toBe(true);
    expectNothingSecret(everything);
    // The auditor logs each tool call too (initiated and the outcome): the
    // log searched is the one that has them.
    const logged = logLines
      .map(l => JSON.parse(l))
      .filter(l => l.isAuditEvent && l.eventId === 'agent-tool-call');
    expect(logged.map(l => l.status).sort()).toEqual([
      'initiated',
      'initiated',
      'initiated',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    expectNothingSecret(logLines.join('\n'));
  });
});
