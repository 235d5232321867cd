/*
 * Deploys as the portal runs them: seeded people signed in through Entra
 * (the emulator) start templates over the scaffolder's HTTP API with their
 * delegated token in the task's secrets, as the frontend's form decorator
 * puts it there; the real scaffolder runs entra:deploy and
 * azure-devops:pipeline:run, which exchange it on-behalf-of with the
 * emulator and call its deploy API and Azure DevOps pipelines.
 *
 *   Carla Chen  payments (owns payments-service) and production-deployers
 *   Dev Patel   payments only: may deploy to staging, not to production
 *   Rosa Ruiz   data: owns nothing here, may deploy nowhere
 */
import type { EntraEmulator } from '@internal/entra-emulator';
import {
  decodeJwt,
  delegatedToken,
  postToken,
  startTestEmulator,
} from '@internal/entra-emulator/testUtils';
import {
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
const PIPELINE_TEMPLATE = 'template:default/azure-devops-pipeline';
const COMPUTED_ENVIRONMENT_TEMPLATE =
  'template:default/deploy-computed-environment';
const OBO_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SIGN_IN_AGAIN = 'Sign in to the portal again';

describe('deploys carrying the initiator’s Entra identity', () => {
  let emulator: EntraEmulator;
  let target: Awaited<ReturnType<typeof startRecordingTarget>>;
  let portal: Awaited<ReturnType<typeof startDeployBackend>>;
  const backstageToken: Record<'carla' | 'dev' | 'rosa', string> = {} as any;
  /** Every token a test handed the portal or the portal obtained. */
  const tokensSeen = new Set<string>();

  beforeAll(async () => {
    emulator = await startTestEmulator();
    target = await startRecordingTarget(emulator);
    portal = await startDeployBackend({ emulator, deployUrl: target.url });
    await waitForStitched(portal.baseUrl, [
      DEPLOY_TEMPLATE,
      PIPELINE_TEMPLATE,
      COMPUTED_ENVIRONMENT_TEMPLATE,
      SERVICE,
      'user:default/carla.chen',
      'user:default/dev.patel',
      'user:default/rosa.ruiz',
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
    backstageToken.rosa = await signIn(
      portal.baseUrl,
      'rosa.ruiz@contoso.example',
    );
  });

  afterAll(async () => {
    await portal?.backend.stop();
    await target?.close();
    await emulator?.close();
  });

  const api = scaffolderApi(() => portal.baseUrl, backstageToken);

  /** Runs a template as `who` with `token` as the delegated token; waits for the end. */
  async function run(
    who: 'carla' | 'dev',
    token: string | undefined,
    values: Record<string, unknown>,
    templateRef = DEPLOY_TEMPLATE,
  ) {
    if (token) tokensSeen.add(token);
    const created = await api(who, 'POST', '/v2/tasks', {
      templateRef,
      values,
      secrets: token ? { entraDelegatedToken: token } : {},
    });
    expect(created.status).toBe(201);
    return finished(who, created.body.id as string);
  }

  /** Waits for a task to end; its events (log, completion) as JSON text too. */
  async function finished(who: 'carla' | 'dev', id: string) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { body } = await api(who, 'GET', `/v2/tasks/${id}`);
      if (['completed', 'failed', 'cancelled'].includes(body.status)) {
        const events = (await api(who, 'GET', `/v2/tasks/${id}/events`)).body;
        return { id, task: body, events, text: JSON.stringify(events) };
      }
      if (Date.now() > deadline) throw new Error(`Task ${id} never finished`);
      await new Promise(r => setTimeout(r, 200));
    }
  }

  const deployValues = (environment: string) => ({
    component: SERVICE,
    environment,
    version: '1.4.2',
  });
  const oboRequests = () =>
    emulator.tokenRequests().filter(r => r.grantType === OBO_GRANT).length;
  const auditEvents = () =>
    portal.logLines
      .map(l => JSON.parse(l))
      .filter(l => l.isAuditEvent && l.eventId === 'deploy');

  it('deploys as the owner: the deploy API sees their oid and scp deploy, the task links the deployment', async () => {
    const token = await delegatedToken(emulator, CARLA);
    const before = emulator.deployCalls().length;
    const { id, task, text } = await run(
      'carla',
      token,
      deployValues('staging'),
    );
    expect(task.status).toBe('completed');
    const calls = emulator.deployCalls().slice(before);
    expect(calls).toEqual([
      expect.objectContaining({
        oid: CARLA,
        tid: emulator.tenantId,
        scopes: ['deploy'],
        clientId: emulator.apps.portal.clientId,
        payload: expect.objectContaining({
          component: SERVICE,
          environment: 'staging',
          version: '1.4.2',
          taskId: id,
          initiator: 'user:default/carla.chen',
          template: DEPLOY_TEMPLATE,
        }),
      }),
    ]);
    const completion = JSON.parse(text).find(
      (e: any) => e.type === 'completion',
    );
    expect(completion.body.output.links).toEqual([
      {
        title: expect.stringMatching(/^Deployment deploy-\d+$/),
        url: expect.stringContaining('/deploy-api/deployments/deploy-'),
      },
    ]);
    for (const t of target.tokens) tokensSeen.add(t);
    expect(decodeJwt(target.tokens.at(-1)!)).toMatchObject({
      oid: CARLA,
      scp: 'deploy',
    });
  });

  it('audits the deploy (medium) naming initiator, template, task, environment, target and deployment id', async () => {
    const succeeded = auditEvents().filter(e => e.status === 'succeeded');
    expect(succeeded.at(-1)).toMatchObject({
      severityLevel: 'medium',
      plugin: 'scaffolder',
      meta: {
        action: 'entra:deploy',
        initiator: {
          entityRef: 'user:default/carla.chen',
          oid: CARLA,
          tid: emulator.tenantId,
        },
        template: DEPLOY_TEMPLATE,
        taskId: expect.any(String),
        environment: 'staging',
        target: target.url,
        deploymentId: expect.stringMatching(/^deploy-\d+$/),
        outcome: 'succeeded',
        // Who deployed, for the audit trail: the verified initiator, not
        // the scaffolder worker that ran the step.
        actor: {
          kind: 'person',
          entityRef: 'user:default/carla.chen',
          oid: CARLA,
          tid: emulator.tenantId,
        },
        templateRef: DEPLOY_TEMPLATE,
        componentRef: SERVICE,
        entityRefs: [SERVICE, DEPLOY_TEMPLATE],
      },
    });
    // Exactly one event for the deploy (and its outcome line).
    const ofTask = auditEvents().filter(
      e => e.meta.taskId === succeeded.at(-1).meta.taskId,
    );
    expect(ofTask.map(e => e.status)).toEqual(['initiated', 'succeeded']);
  });

  it("refuses another person's token (valid signature), without exchanging it", async () => {
    const obo = oboRequests();
    const { task, text } = await run(
      'carla',
      await delegatedToken(emulator, DEV),
      deployValues('staging'),
    );
    expect(task.status).toBe('failed');
    expect(text).toContain(
      `belongs to another person (object id ${DEV}), not to user:default/carla.chen`,
    );
    expect(oboRequests()).toBe(obo);
    expect(auditEvents().at(-1)).toMatchObject({
      severityLevel: 'high',
      status: 'failed',
      meta: {
        initiator: { entityRef: 'user:default/carla.chen' },
        outcome: 'failed',
      },
    });
  });

  it('refuses an app-only token', async () => {
    const { body } = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: emulator.apps.portal.clientId,
      client_secret: emulator.apps.portal.clientSecret,
      scope: `api://${emulator.apps.portal.clientId}/.default`,
    });
    const obo = oboRequests();
    const { task, text } = await run(
      'carla',
      body.access_token,
      deployValues('staging'),
    );
    expect(task.status).toBe('failed');
    expect(text).toContain('The token is an app-only token');
    expect(oboRequests()).toBe(obo);
  });

  it('refuses a token for another audience', async () => {
    const graphToken = await delegatedToken(
      emulator,
      CARLA,
      'https://graph.microsoft.com/User.Read',
    );
    const { task, text } = await run(
      'carla',
      graphToken,
      deployValues('staging'),
    );
    expect(task.status).toBe('failed');
    expect(text).toContain('is for another application');
    expect(text).toContain(`not the portal (${emulator.apps.portal.clientId})`);
  });

  it('refuses a non-member deploying to production when the task is created, naming who may, before any exchange', async () => {
    const obo = oboRequests();
    const calls = emulator.deployCalls().length;
    const token = await delegatedToken(emulator, DEV);
    tokensSeen.add(token);
    const created = await api('dev', 'POST', '/v2/tasks', {
      templateRef: DEPLOY_TEMPLATE,
      values: deployValues('production'),
      secrets: { entraDelegatedToken: token },
    });
    expect([created.status, created.body?.error?.message]).toEqual([
      403,
      'You may not deploy to production: only members of group:default/production-deployers (and portal admins) can deploy there',
    ]);
    expect(oboRequests()).toBe(obo);
    expect(emulator.deployCalls().length).toBe(calls);
    expect(auditEvents().at(-1)).toMatchObject({
      severityLevel: 'high',
      status: 'failed',
      meta: {
        initiator: { entityRef: 'user:default/dev.patel' },
        template: DEPLOY_TEMPLATE,
        environment: 'production',
        outcome: 'failed',
        actor: { kind: 'person', entityRef: 'user:default/dev.patel' },
        templateRef: DEPLOY_TEMPLATE,
        componentRef: SERVICE,
      },
    });
  });

  it('refuses a non-owner deploying to staging when the task is created, naming the owners', async () => {
    const created = await api('rosa', 'POST', '/v2/tasks', {
      templateRef: DEPLOY_TEMPLATE,
      values: deployValues('staging'),
      secrets: { entraDelegatedToken: 'not-needed-for-a-refusal' },
    });
    expect([created.status, created.body?.error?.message]).toEqual([
      403,
      `You may not deploy ${SERVICE} to staging: only the owners of ${SERVICE} (and portal admins) can deploy there`,
    ]);
  });

  it('still stops it in the scaffolder, before any exchange, where the environment is only known when the task runs', async () => {
    const obo = oboRequests();
    const calls = emulator.deployCalls().length;
    const { task, text } = await run(
      'dev',
      await delegatedToken(emulator, DEV),
      deployValues('PRODUCTION'),
      COMPUTED_ENVIRONMENT_TEMPLATE,
    );
    expect(task.status).toBe('failed');
    expect(text).toContain('Unauthorized action: entra:deploy');
    expect(oboRequests()).toBe(obo);
    expect(emulator.deployCalls().length).toBe(calls);
  });

  it('lets the same person deploy to staging, which owners may', async () => {
    const { task } = await run(
      'dev',
      await delegatedToken(emulator, DEV),
      deployValues('staging'),
    );
    expect(task.status).toBe('completed');
    expect(emulator.deployCalls().at(-1)).toMatchObject({ oid: DEV });
  });

  it('tells the person to sign in again when their token has expired, and a retry with a fresh token deploys', async () => {
    const claims = decodeJwt(await delegatedToken(emulator, CARLA));
    const now = Math.floor(Date.now() / 1000);
    const expired = emulator.signToken({
      ...claims,
      iat: now - 7200,
      nbf: now - 7200,
      exp: now - 3600,
    });
    const obo = oboRequests();
    const { id, task, text } = await run(
      'carla',
      expired,
      deployValues('staging'),
    );
    expect(task.status).toBe('failed');
    expect(text).toContain(
      'Your delegated Entra token expired before the deploy ran.',
    );
    expect(text).toContain(SIGN_IN_AGAIN);
    expect(oboRequests()).toBe(obo);

    // A retry must bring a fresh token (the form decorator asks Entra again).
    const stale = await api('carla', 'POST', `/v2/tasks/${id}/retry`, {});
    expect([stale.status, JSON.stringify(stale.body)]).toEqual([
      400,
      expect.stringContaining('secrets.entraDelegatedToken is required'),
    ]);
    const fresh = await delegatedToken(emulator, CARLA);
    tokensSeen.add(fresh);
    const retried = await api('carla', 'POST', `/v2/tasks/${id}/retry`, {
      secrets: { entraDelegatedToken: fresh },
    });
    expect(retried.status).toBe(201);
    expect((await finished('carla', id)).task.status).toBe('completed');
    expect(emulator.deployCalls().at(-1)).toMatchObject({
      oid: CARLA,
      payload: expect.objectContaining({ taskId: id }),
    });
  });

  it('tells the person to sign in again when Entra refuses the exchange (invalid_grant)', async () => {
    const token = await delegatedToken(emulator, CARLA);
    emulator.directory.setAccountEnabled(CARLA, false);
    try {
      const { task, text } = await run('carla', token, deployValues('staging'));
      expect(task.status).toBe('failed');
      expect(text).toContain(
        'Entra no longer accepts your sign-in for this deploy (invalid_grant, AADSTS50057)',
      );
      expect(text).toContain(SIGN_IN_AGAIN);
    } finally {
      emulator.directory.setAccountEnabled(CARLA, true);
    }
  });

  it('refuses a task without a delegated token, naming the form decorator', async () => {
    const created = await api('carla', 'POST', '/v2/tasks', {
      templateRef: DEPLOY_TEMPLATE,
      values: deployValues('staging'),
    });
    expect(created.status).toBe(400);
    expect(JSON.stringify(created.body)).toContain(
      'secrets.entraDelegatedToken is required',
    );
  });

  it('redacts the exchanged token where a target echoes it in an error', async () => {
    target.state.echoTokenInError = true;
    const before = target.tokens.length;
    try {
      const { task, text } = await run(
        'carla',
        await delegatedToken(emulator, CARLA),
        deployValues('staging'),
      );
      expect(task.status).toBe('failed');
      expect(text).toContain(
        'refused the deploy: HTTP 502: Upstream refused Bearer ***',
      );
      const echoed = target.tokens.slice(before);
      expect(echoed).toHaveLength(1);
      echoed.forEach(t => tokensSeen.add(t));
    } finally {
      target.state.echoTokenInError = false;
    }
  });

  it('runs an Azure DevOps pipeline as the person, waits for it and links the run', async () => {
    const { task, text } = await run(
      'carla',
      await delegatedToken(emulator, CARLA),
      {
        organization: 'contoso',
        project: 'portal',
        pipelineId: 7,
        branch: 'refs/heads/main',
        wait: true,
      },
      PIPELINE_TEMPLATE,
    );
    expect(task.status).toBe('completed');
    expect(emulator.pipelineRuns().at(-1)).toMatchObject({
      organization: 'contoso',
      project: 'portal',
      pipelineId: 7,
      requestedBy: { oid: CARLA, tid: emulator.tenantId, name: 'Carla Chen' },
      state: 'completed',
      request: {
        resources: { repositories: { self: { refName: 'refs/heads/main' } } },
      },
    });
    const completion = JSON.parse(text).find(
      (e: any) => e.type === 'completion',
    );
    expect(completion.body.output.links[0].url).toContain(
      '/azure-devops/contoso/portal/_build/results?buildId=',
    );
    expect(auditEvents().at(-1)).toMatchObject({
      severityLevel: 'medium',
      meta: {
        action: 'azure-devops:pipeline:run',
        initiator: { oid: CARLA },
        outcome: 'succeeded',
      },
    });
  });

  // Declared last, so every deploy above has happened.
  it('leaves no token it saw in task logs, events, outputs, the scaffolder tables or the backend log', async () => {
    expect(tokensSeen.size).toBeGreaterThan(8);
    const tasks = (
      await api('carla', 'GET', '/v2/tasks?createdBy=user:default/carla.chen')
    ).body;
    const everything = [
      JSON.stringify(tasks),
      JSON.stringify(await portal.scaffolderTables()),
      ...portal.logLines,
    ].join('\n');
    expect(everything).toContain('user:default/carla.chen');
    // Whole, or its payload or signature alone (a token cut short still
    // carries its payload).
    const leaks = [...tokensSeen].filter(t =>
      [t, ...t.split('.').slice(1)].some(part => everything.includes(part)),
    );
    expect(leaks).toEqual([]);
    // Nor any JWT cut short (header and payload of any token, ours or not).
    expect(everything.match(/eyJ[\w-]{10,}\.eyJ[\w-]*/g) ?? []).toEqual([]);
  });
});
