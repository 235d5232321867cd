import { ConfigReader } from '@backstage/config';
import { readEntraDeployConfig } from './config';

const TENANT = 'b19432bf-159f-4ebf-861f-91de48b5e4d2';
const portalApp = {
  clientId: '7bc4a39a-e36e-411a-932c-a52950fa7769',
  clientSecret: 'secret',
  tenantId: TENANT,
};
const read = (entraDeploy: object, auth: object = {}) =>
  readEntraDeployConfig(
    new ConfigReader({
      auth: {
        environment: 'production',
        providers: { microsoft: { production: portalApp } },
        ...auth,
      },
      scaffolder: { entraDeploy },
    }),
  );
const target = {
  name: 'staging',
  url: 'https://deploy.example.com/api/deployments',
  scope: 'api://34579d53-4691-45b2-9be1-de6bc5d02721/deploy',
};

describe('readEntraDeployConfig', () => {
  it('takes the portal app from auth.environment and derives the authority from the cloud', () => {
    const config = read({ environments: [target] });
    expect(config.entraKey).toBe('auth.providers.microsoft.production');
    expect(config.entra.authority).toBe(
      `https://login.microsoftonline.com/${TENANT}`,
    );
    expect(config.environments.get('staging')).toEqual({
      ...target,
      method: 'POST',
      timeoutMs: 30_000,
    });
    expect(config.azureDevOps).toEqual({
      host: 'https://dev.azure.com',
      scope: '499b84ac-1321-427f-aa17-267ca6975798/.default',
      pollIntervalMs: 5000,
      waitTimeoutMs: 1_800_000,
    });
  });

  it('follows the Microsoft cloud switch of the sign-in settings', () => {
    const config = read(
      {},
      {
        providers: {
          microsoft: { production: { ...portalApp, cloud: 'usgov' } },
        },
      },
    );
    expect(config.entra.authority).toBe(
      `https://login.microsoftonline.us/${TENANT}`,
    );
  });

  it.each([
    [
      { environments: [{ ...target, url: 'http://deploy.example.com/x' }] },
      "scaffolder.entraDeploy.environments[0].url must be an https URL (http only on localhost), since a person's token is sent to it",
    ],
    [
      { environments: [target, target] },
      "scaffolder.entraDeploy.environments[1].name 'staging' is listed twice",
    ],
    [
      { environments: [{ ...target, method: 'GET' }] },
      'scaffolder.entraDeploy.environments[0].method must be one of POST, PUT, PATCH',
    ],
    [
      { environments: [{ ...target, scope: 'api://a/deploy api://b/deploy' }] },
      'scaffolder.entraDeploy.environments[0].scope must be one scope',
    ],
    [
      { authEnvironment: 'staging' },
      "scaffolder.entraDeploy needs the portal's Entra app registration at auth.providers.microsoft.staging",
    ],
    [
      { azureDevOps: { host: 'http://ado.example.com/tfs' } },
      'scaffolder.entraDeploy.azureDevOps.host must be an https URL',
    ],
  ])('refuses %j at startup, naming the key', (entraDeploy, message) => {
    expect(() => read(entraDeploy)).toThrow(message);
  });

  it('allows http on localhost (the emulator, a local target)', () => {
    expect(
      read({
        environments: [{ ...target, url: 'http://localhost:8400/x' }],
      }).environments.get('staging')?.url,
    ).toBe('http://localhost:8400/x');
  });
});
