import { EntraEmulator } from '../emulator';
import { startTestEmulator } from '../testUtils/testEmulator';
import { delegatedToken, postToken } from '../testUtils/tokens';

const CARLA = '5a9214bd-9425-4fb9-9a9d-bbdfb8789017';
const AZURE_DEVOPS = '499b84ac-1321-427f-aa17-267ca6975798';

describe('emulated Azure DevOps pipelines', () => {
  let emulator: EntraEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(() => emulator.close());

  const runsUrl = () =>
    `${emulator.azureDevOpsUrl}/contoso/portal/_apis/pipelines/7/runs?api-version=7.1`;
  const run = (token?: string) =>
    fetch(runsUrl(), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({
        resources: { repositories: { self: { refName: 'refs/heads/main' } } },
      }),
    });

  async function oboToken(scope: string) {
    const assertion = await delegatedToken(emulator, CARLA);
    const { body } = await postToken(emulator, {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      requested_token_use: 'on_behalf_of',
      client_id: emulator.apps.portal.clientId,
      client_secret: emulator.apps.portal.clientSecret,
      assertion,
      scope,
    });
    return body.access_token as string;
  }

  it('answers 401 with Azure DevOps’ error shape without a token or with one for another API', async () => {
    for (const res of [
      await run(),
      await run(await delegatedToken(emulator, CARLA)),
    ]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain(
        'authorization_uri=',
      );
      expect(await res.json()).toMatchObject({
        typeKey: 'UnauthorizedRequestException',
        message: expect.stringContaining('TF400813'),
      });
    }
    expect(emulator.pipelineRuns()).toEqual([]);
  });

  it('answers 403 to an app-only token for Azure DevOps', async () => {
    const { body } = await postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: emulator.apps.portal.clientId,
      client_secret: emulator.apps.portal.clientSecret,
      scope: `${AZURE_DEVOPS}/.default`,
    });
    const res = await run(body.access_token);
    expect(res.status).toBe(403);
    expect((await res.json()).message).toContain('user_impersonation');
    expect(emulator.pipelineRuns()).toEqual([]);
  });

  it('creates a run as the person behind an on-behalf-of token and completes it', async () => {
    const token = await oboToken(`${AZURE_DEVOPS}/.default`);
    const created = await run(token);
    expect(created.status).toBe(200);
    const body = await created.json();
    expect(body).toMatchObject({
      id: 1,
      state: 'inProgress',
      pipeline: { id: 7 },
      _links: {
        web: {
          href: expect.stringContaining(
            '/contoso/portal/_build/results?buildId=1',
          ),
        },
      },
    });
    const read = await fetch(body.url, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await read.json()).toMatchObject({
      id: 1,
      state: 'completed',
      result: 'succeeded',
    });
    expect(emulator.pipelineRuns()).toEqual([
      expect.objectContaining({
        organization: 'contoso',
        project: 'portal',
        pipelineId: 7,
        requestedBy: { oid: CARLA, tid: emulator.tenantId, name: 'Carla Chen' },
        clientId: emulator.apps.portal.clientId,
      }),
    ]);
    const missing = await fetch(body.url.replace('/runs/1', '/runs/99'), {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(missing.status).toBe(404);
  });
});
