import { ConfigReader } from '@backstage/config';
import { readDelegationConfig } from './delegationConfig';

const microsoft = {
  environment: 'development',
  providers: {
    microsoft: {
      development: {
        clientId: 'portal-client',
        clientSecret: 'emulator-only',
        tenantId: '00000000-0000-0000-0000-000000000001',
      },
    },
  },
};
const config = (agentAccess: object) =>
  new ConfigReader({
    backend: { baseUrl: 'https://portal.example.com' },
    auth: microsoft,
    agentAccess,
  });

describe('readDelegationConfig', () => {
  it('is off unless enabled', () => {
    expect(readDelegationConfig(config({}))).toBeUndefined();
  });

  it('refuses delegation without encryption keys, naming the key', () => {
    expect(() =>
      readDelegationConfig(config({ delegation: { enabled: true } })),
    ).toThrow(/agentAccess\.encryptionKeys is empty/);
  });

  it('refuses a short key, naming it', () => {
    expect(() =>
      readDelegationConfig(
        config({
          delegation: { enabled: true },
          encryptionKeys: [{ id: 'k1', secret: 'short' }],
        }),
      ),
    ).toThrow(/agentAccess\.encryptionKeys\[0\]\.secret \(id k1\)/);
  });

  it('defaults the scope to the portal API and the callback to the backend', () => {
    const read = readDelegationConfig(
      config({
        delegation: { enabled: true },
        encryptionKeys: [{ id: 'k1', secret: 'x'.repeat(32) }],
      }),
    )!;
    expect(read.scope).toBe('api://portal-client/access_as_user');
    expect(read.callbackUrl).toBe(
      'https://portal.example.com/api/auth/agent-access/v1/delegations/callback',
    );
  });
});
