/*
 * An AI agent deploys as the person who connected it (issue 14): an MCP
 * client made with the official SDK connects for Carla; on consent she
 * also lets it "deploy as me", which signs her in at Entra (the emulator)
 * for the portal's API and stores her delegation encrypted. The agent then
 * runs the shipped deploy template through the scaffolder's MCP tool; the
 * deploy API sees Carla's oid and tid, on-behalf-of from her delegation,
 * and the agent's client id. Secrets the agent sends are never trusted,
 * and once the grant is revoked nothing of the delegation is left.
 */
import {
  coreServices,
  createBackendModule,
  DatabaseService,
} from '@backstage/backend-plugin-api';
import mcpActionsPlugin from '@backstage/plugin-mcp-actions-backend';
import type { EntraEmulator } from '@internal/entra-emulator';
import {
  delegatedToken,
  signInThroughBrowser,
  startTestEmulator,
} from '@internal/entra-emulator/testUtils';
import authModuleAgentAccess from '@internal/plugin-auth-backend-module-agent-access';
import mcpActionsModuleAgentGuard from '@internal/plugin-mcp-actions-backend-module-agent-guard';
import {
  AgentClientHost,
  approveAs,
  connectAgent,
  ConnectedAgent,
  startAgentClientHost,
} from '@internal/portal-test-utils';
import {
  signIn,
  startDeployBackend,
  waitForStitched,
} from './__testUtils__/backend';

const CARLA = '5a9214bd-9425-4fb9-9a9d-bbdfb8789017';
const DEV = '55c6b85a-2fda-452b-8b33-6d001fc7e7cd';
const SERVICE = 'component:default/payments-service';
const DEPLOY_TEMPLATE = 'template:default/deploy-component';
/** Registered on the portal app in the emulator's seed. */
const DELEGATION_CALLBACK =
  'http://localhost:7007/api/auth/agent-access/v1/delegations/callback';
const UPN = {
  carla: 'carla.chen@contoso.example',
  dev: 'dev.patel@contoso.example',
};
type Person = keyof typeof UPN;

describe('an MCP agent deploying as the person', () => {
  let emulator: EntraEmulator;
  let host: AgentClientHost;
  let portal: Awaited<ReturnType<typeof startDeployBackend>>;
  let authDb: Awaited<ReturnType<DatabaseService['getClient']>>;
  const tokens = {} as Record<Person, string>;
  const agents: ConnectedAgent[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator();
    host = await startAgentClientHost(emulator, 'Deploy Agent');
    let authDatabase: DatabaseService | undefined;
    portal = await startDeployBackend({
      emulator,
      deployUrl: `${emulator.deployApiUrl}/deployments`,
      features: [
        authModuleAgentAccess,
        mcpActionsPlugin,
        mcpActionsModuleAgentGuard,
        createBackendModule({
          pluginId: 'auth',
          moduleId: 'agent-deploy-test-database',
          register(reg) {
            reg.registerInit({
              deps: { database: coreServices.database },
              async init({ database }) {
                authDatabase = database;
              },
            });
          },
        }),
      ],
      config: {
        backend: { actions: { pluginSources: ['scaffolder'] } },
        auth: {
          backstageTokenExpiration: { minutes: 15 },
          clientIdMetadataDocuments: {
            enabled: true,
            allowedClientIdPatterns: [host.clientId],
          },
          experimentalRefreshToken: {
            enabled: true,
            tokenLifetime: { hours: 12 },
            maxRotationLifetime: { days: 7 },
          },
        },
        root: {
          agentAccess: {
            delegation: { enabled: true, callbackUrl: DELEGATION_CALLBACK },
            encryptionKeys: [
              { id: 'k1', secret: 'agent-deploy-test-key-0123456789abcdef' },
            ],
          },
        },
      },
    });
    authDb = await authDatabase!.getClient();
    await waitForStitched(portal.baseUrl, [
      DEPLOY_TEMPLATE,
      SERVICE,
      'user:default/carla.chen',
      'user:default/dev.patel',
    ]);
    tokens.carla = await signIn(portal.baseUrl, UPN.carla);
    tokens.dev = await signIn(portal.baseUrl, UPN.dev);
  });

  afterAll(async () => {
    await Promise.all(agents.map(a => a.close()));
    await portal?.backend.stop();
    await host?.close();
    await emulator?.close();
  });

  const agentAccess = (who: Person, path: string, init: RequestInit = {}) =>
    fetch(`${portal.baseUrl}/api/auth/agent-access/v1${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${tokens[who]}`,
        'content-type': 'application/json',
        ...init.headers,
      },
    });

  /**
   * What the consent page does when the person ticks "deploy as me": asks
   * for the Entra sign-in URL, the person signs in there (as `atEntra`),
   * Entra's redirect reaches our callback, then the page approves.
   */
  async function delegate(who: Person, sessionId: string, atEntra: Person) {
    const started = await agentAccess(who, '/delegations', {
      method: 'POST',
      body: JSON.stringify({ sessionId }),
    });
    expect(started.status).toBe(200);
    const { authorizeUrl } = await started.json();
    const url = new URL(authorizeUrl);
    expect(url.searchParams.get('scope')?.split(' ')).toEqual(
      expect.arrayContaining([
        `api://${emulator.apps.portal.clientId}/access_as_user`,
        'offline_access',
      ]),
    );
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    const login = await signInThroughBrowser(authorizeUrl, UPN[atEntra]);
    const redirect = new URL(login.headers.get('location')!);
    expect(`${redirect.origin}${redirect.pathname}`).toBe(DELEGATION_CALLBACK);
    // The browser follows Entra's redirect to the portal's backend.
    return fetch(
      `${portal.baseUrl}/api/auth/agent-access/v1/delegations/callback${redirect.search}`,
      { redirect: 'manual' },
    );
  }

  async function connect(who: Person, options: { delegateAs?: Person } = {}) {
    const agent = await connectAgent({
      baseUrl: portal.baseUrl,
      host,
      approve: async sessionId => {
        if (options.delegateAs) {
          const callback = await delegate(who, sessionId, options.delegateAs);
          if (callback.status !== 302) {
            throw Object.assign(new Error('delegation refused'), {
              status: callback.status,
              body: await callback.json(),
            });
          }
          expect(callback.headers.get('location')).toBe(
            `http://localhost:3000/oauth2/authorize/${sessionId}?delegation=granted`,
          );
        }
        return approveAs(portal.baseUrl, tokens[who])(sessionId);
      },
    });
    agents.push(agent);
    return agent;
  }

  async function deployThroughAgent(
    who: Person,
    agent: ConnectedAgent,
    secrets?: Record<string, string>,
  ) {
    const result: any = await agent.client.callTool({
      name: 'scaffolder.execute-template',
      arguments: {
        templateRef: DEPLOY_TEMPLATE,
        values: {
          component: SERVICE,
          environment: 'staging',
          version: '2.0.0',
        },
        ...(secrets && { secrets }),
      },
    });
    if (result.isError) return { error: JSON.stringify(result.content) };
    const { taskId } = JSON.parse(result.content[0].text);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const task = await fetch(
        `${portal.baseUrl}/api/scaffolder/v2/tasks/${taskId}`,
        { headers: { authorization: `Bearer ${tokens[who]}` } },
      ).then(r => r.json());
      if (['completed', 'failed', 'cancelled'].includes(task.status)) {
        const events = await fetch(
          `${portal.baseUrl}/api/scaffolder/v2/tasks/${taskId}/events`,
          { headers: { authorization: `Bearer ${tokens[who]}` } },
        ).then(r => r.json());
        return { taskId, status: task.status, text: JSON.stringify(events) };
      }
      if (Date.now() > deadline) throw new Error(`Task ${taskId} never ended`);
      await new Promise(r => setTimeout(r, 200));
    }
  }

  const delegationsOf = (userEntityRef: string) =>
    authDb('agent_delegations').where({ user_entity_ref: userEntityRef });

  let carlasAgent: ConnectedAgent;

  it('deploys as Carla: the deploy record names her oid and tid and the agent, and the secret the agent sent is ignored', async () => {
    carlasAgent = await connect('carla', { delegateAs: 'carla' });
    const [stored] = await delegationsOf('user:default/carla.chen');
    expect(stored).toMatchObject({ state: 'active', oid: CARLA, key_id: 'k1' });
    // Only ciphertext: no refresh token, no JWT in the row.
    const { ciphertext, ...columns } = stored;
    expect(JSON.stringify(columns)).not.toMatch(/eyJ/);
    expect(Buffer.from(ciphertext, 'base64').toString('latin1')).not.toMatch(
      /RefreshToken|secret|eyJ[A-Za-z0-9_-]{10}/,
    );

    const before = emulator.deployCalls().length;
    const { status, text } = await deployThroughAgent('carla', carlasAgent, {
      // What a compromised agent would try: a token of its choosing.
      entraDelegatedToken: await delegatedToken(emulator, DEV),
    });
    expect([status, text]).toEqual(['completed', expect.any(String)]);
    expect(emulator.deployCalls().slice(before)).toEqual([
      expect.objectContaining({
        oid: CARLA,
        tid: emulator.tenantId,
        clientId: emulator.apps.portal.clientId,
        agentClientId: host.clientId,
        scopes: ['deploy'],
        payload: expect.objectContaining({
          initiator: 'user:default/carla.chen',
          environment: 'staging',
          version: '2.0.0',
        }),
      }),
    ]);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10}/);
    expect(text).not.toContain('agent-grant:');
    const audit = portal.logLines
      .map(l => JSON.parse(l))
      .filter(l => l.isAuditEvent && l.eventId === 'deploy')
      .at(-1);
    expect(audit.meta).toMatchObject({
      outcome: 'succeeded',
      initiator: { entityRef: 'user:default/carla.chen', oid: CARLA },
      agent: { clientId: host.clientId, grantId: stored.grant_id },
      // The audit trail's actor: the agent, acting for Carla.
      actor: {
        kind: 'agent',
        entityRef: 'user:default/carla.chen',
        oid: CARLA,
        tid: emulator.tenantId,
        clientId: host.clientId,
      },
    });
  });

  it("refuses a deploy by an agent without delegation, even with the person's own Entra token in its secrets", async () => {
    const devsAgent = await connect('dev');
    const before = emulator.deployCalls().length;
    const own = await delegatedToken(emulator, DEV);
    const { status, text } = await deployThroughAgent('dev', devsAgent, {
      entraDelegatedToken: own,
    });
    expect(status).toBe('failed');
    expect(text).toContain(
      'Reconnect the agent and choose \\"also let this agent deploy as me\\"',
    );
    expect(text).not.toContain(own);
    expect(emulator.deployCalls()).toHaveLength(before);
  });

  it('refuses a delegation when someone else signs in at Entra (oid mismatch)', async () => {
    const attempt = connect('dev', { delegateAs: 'carla' });
    await expect(attempt).rejects.toMatchObject({
      status: 403,
      body: {
        error: expect.objectContaining({
          message: expect.stringContaining(
            'You signed in at Entra as someone other than user:default/dev.patel',
          ),
        }),
      },
    });
    const rows = await delegationsOf('user:default/dev.patel');
    expect(rows.every(r => r.state !== 'active' && !r.ciphertext)).toBe(true);
  });

  it('refuses a replayed delegation callback', async () => {
    // A fresh pending delegation for Carla, then the same callback twice.
    const agent = await connectAgent({
      baseUrl: portal.baseUrl,
      host,
      approve: async sessionId => {
        const first = await delegate('carla', sessionId, 'carla');
        expect(first.status).toBe(302);
        const replay = await fetch(
          first.url.replace(/^.*?\/api\//, `${portal.baseUrl}/api/`),
          { redirect: 'manual' },
        );
        expect(replay.status).toBe(403);
        return approveAs(portal.baseUrl, tokens.carla)(sessionId);
      },
    });
    agents.push(agent);
    carlasAgent = agent;
  });

  it('fails the deploy, asking to reconnect, when the stored ciphertext was changed', async () => {
    const [row] = await delegationsOf('user:default/carla.chen')
      .where({ state: 'active' })
      .orderBy('created_at', 'desc');
    const bytes = Buffer.from(row.ciphertext, 'base64');
    bytes[0] ^= 1;
    await authDb('agent_delegations')
      .where({ id: row.id })
      .update({ ciphertext: bytes.toString('base64') });
    const before = emulator.deployCalls().length;
    const { status, text } = await deployThroughAgent('carla', carlasAgent);
    expect(status).toBe('failed');
    expect(text).toContain('Reconnect the agent');
    expect(emulator.deployCalls()).toHaveLength(before);
    expect(
      await authDb('agent_delegations').where({ id: row.id }).first(),
    ).toMatchObject({ state: 'expired', ciphertext: null });
  });

  it('after the person revokes the grant, the agent cannot deploy and no delegation is left', async () => {
    carlasAgent = await connect('carla', { delegateAs: 'carla' });
    expect((await deployThroughAgent('carla', carlasAgent)).status).toBe(
      'completed',
    );
    const { items } = await agentAccess('carla', '/grants').then(r => r.json());
    for (const grant of items) {
      const res = await agentAccess('carla', `/grants/${grant.id}`, {
        method: 'DELETE',
      });
      expect(res.status).toBe(204);
    }
    const before = emulator.deployCalls().length;
    await expect(deployThroughAgent('carla', carlasAgent)).rejects.toThrow(
      // The SDK's refresh is refused (invalid_grant) before any call.
      /Invalid refresh token|401/,
    );
    expect(emulator.deployCalls()).toHaveLength(before);
    const rows = await delegationsOf('user:default/carla.chen');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter(r => r.ciphertext !== null)).toEqual([]);
  });
});
