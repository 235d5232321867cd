import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import permissionPlugin from '@backstage/plugin-permission-backend';
import { permissionModuleOwnershipPolicy } from './module';
import {
  RecordedAuditEvent,
  recordingAuditorFactory,
} from './__testUtils__/auditor';

const start = (ownershipPolicy: object, events: RecordedAuditEvent[] = []) =>
  startTestBackend({
    features: [
      permissionPlugin,
      permissionModuleOwnershipPolicy,
      recordingAuditorFactory(events),
      mockServices.rootConfig.factory({
        data: { permission: { enabled: true, ownershipPolicy } },
      }),
    ],
  });

/** Starts a backend with the config and returns its policy-config events. */
async function policyConfigEvents(ownershipPolicy: object) {
  const events: RecordedAuditEvent[] = [];
  const backend = await start(ownershipPolicy, events);
  await backend.stop();
  return events.filter(e => e.eventId === 'policy-config');
}

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

  describe('the policy-config audit event', () => {
    const policy = {
      admins: ['group:default/platform-admins'],
      identityCacheTtl: '30s',
      catalog: {
        registerGroups: ['group:default/payments'],
        restrictReadToOwners: { kinds: ['Resource'] },
      },
    };

    it('is recorded once at startup, by the plugin itself, with the admins and a hash of the policy', async () => {
      const events = await policyConfigEvents(policy);
      expect(events).toEqual([
        expect.objectContaining({
          plugin: 'permission',
          outcome: 'succeeded',
          principal: undefined,
          request: undefined,
          meta: {
            hash: expect.stringMatching(/^[0-9a-f]{64}$/),
            admins: ['group:default/platform-admins'],
          },
        }),
      ]);
    });

    it('keeps its hash for the same policy written differently, and changes it when the policy changes', async () => {
      const [first] = await policyConfigEvents(policy);
      // Keys in another order, the default TTL spelled as an object.
      const [reordered] = await policyConfigEvents({
        catalog: {
          restrictReadToOwners: { kinds: ['resource'] },
          registerGroups: ['group:default/payments'],
        },
        identityCacheTtl: { seconds: 30 },
        admins: ['group:default/platform-admins'],
      });
      const [moreAdmins] = await policyConfigEvents({
        ...policy,
        admins: [...policy.admins, 'group:default/security'],
      });
      const [noRegistration] = await policyConfigEvents({
        ...policy,
        catalog: { restrictReadToOwners: { kinds: ['Resource'] } },
      });
      expect(reordered.meta.hash).toBe(first.meta.hash);
      expect(moreAdmins.meta.hash).not.toBe(first.meta.hash);
      expect(moreAdmins.meta.admins).toEqual([
        'group:default/platform-admins',
        'group:default/security',
      ]);
      expect(noRegistration.meta.hash).not.toBe(first.meta.hash);
      expect(noRegistration.meta.hash).not.toBe(moreAdmins.meta.hash);
    });
  });
});
