import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import permissionPlugin from '@backstage/plugin-permission-backend';
import { permissionModuleOwnershipPolicy } from './module';

const start = (ownershipPolicy: object) =>
  startTestBackend({
    features: [
      permissionPlugin,
      permissionModuleOwnershipPolicy,
      mockServices.rootConfig.factory({
        data: { permission: { enabled: true, ownershipPolicy } },
      }),
    ],
  });

describe('permissionModuleOwnershipPolicy', () => {
  it('stops the backend at startup on a wrong value, naming the key', async () => {
    await expect(
      start({ admins: ['group:default/platform-admins', 'platform-admins'] }),
    ).rejects.toThrow(
      "Invalid config at permission.ownershipPolicy.admins[1]: 'platform-admins' is not an entity ref; write it as group:default/<name>",
    );
  });

  it('starts with a valid configuration', async () => {
    const backend = await start({ admins: ['group:default/platform-admins'] });
    expect(backend).toBeDefined();
    await backend.stop();
  });
});
