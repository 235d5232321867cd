import type { EntraEmulator } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import { startAuthBackend } from './__testUtils__/backend';

describe('a credential the portal cannot use fails startup', () => {
  let emulator: EntraEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(() => emulator?.close());

  it('names the key and the path of a missing certificate file', async () => {
    await expect(
      startAuthBackend(emulator, {
        provider: {
          clientSecret: undefined,
          clientCertificatePath: '/nonexistent/portal.pem',
        },
      }),
    ).rejects.toThrow(
      'auth.providers.microsoft.<environment>.clientCertificatePath names /nonexistent/portal.pem, which cannot be read (no such file)',
    );
  });

  it('names the four keys when none is set', async () => {
    await expect(
      startAuthBackend(emulator, { provider: { clientSecret: undefined } }),
    ).rejects.toThrow(
      /has no credential: set one of .*clientSecret, .*clientSecretFile, .*clientCertificatePath, .*federatedTokenFile/,
    );
  });
});
