import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntraEmulator } from '@internal/entra-emulator';
import { startTestEmulator } from '@internal/entra-emulator/testUtils';
import { decodeJwt } from 'jose';
import {
  readPopupResponse,
  recordingAuditor,
  refreshSession,
  seedEntities,
  signIn,
  startAuthBackend,
} from './__testUtils__/backend';
import { startTokenRewritingProxy } from './__testUtils__/tokenRewritingProxy';

jest.setTimeout(60_000);

/** The emulator's second organisation (seed `otherTenants`). */
const FABRIKAM = '0b583716-e27a-46fe-bfd6-34162f9d604e';

/** The Set-Cookie lines of a response about the refresh-token cookie. */
function refreshCookies(res: Response) {
  return res.headers
    .getSetCookie()
    .filter(c => c.startsWith('microsoft-refresh-token'));
}

describe('sign-in through a multi-tenant authority (tenantId common/organizations + allowedTenantIds)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'entra-multi-tenant-test-'));
  let emulator: EntraEmulator;
  let proxy: Awaited<ReturnType<typeof startTokenRewritingProxy>>;
  const urls: Record<string, string> = {};
  const stops: Array<() => Promise<void>> = [];
  const auditor = recordingAuditor();
  const fabrikamIssuer = () => `${emulator.httpsUrl}/${FABRIKAM}/v2.0`;

  beforeAll(async () => {
    emulator = await startTestEmulator({ dataDir });
    proxy = await startTokenRewritingProxy(emulator, dataDir);
    const admitContoso = { allowedTenantIds: [emulator.tenantId] };
    const backends = {
      common: {
        tenantId: 'common',
        authority: `${emulator.httpsUrl}/common`,
        ...admitContoso,
      },
      organizations: {
        tenantId: 'organizations',
        authority: `${emulator.httpsUrl}/organizations`,
        ...admitContoso,
      },
      // Through the hop that can replace ID tokens, signed with a valid key.
      forgeable: {
        tenantId: 'common',
        authority: `${proxy.origin}/common`,
        ...admitContoso,
      },
      // The opt-in email resolver: what nOAuth would abuse.
      byEmail: {
        tenantId: 'common',
        authority: `${proxy.origin}/common`,
        ...admitContoso,
        signIn: {
          resolvers: [
            {
              resolver: 'verifiedEmailMatchingUserEntityProfileEmail',
              allowedDomains: ['contoso.example'],
            },
          ],
        },
      },
      // Both tenants admitted, still by email.
      byEmailBothTenants: {
        tenantId: 'organizations',
        authority: `${proxy.origin}/organizations`,
        allowedTenantIds: [emulator.tenantId, FABRIKAM],
        signIn: {
          resolvers: [
            {
              resolver: 'verifiedEmailMatchingUserEntityProfileEmail',
              allowedDomains: ['contoso.example'],
            },
          ],
        },
      },
    };
    // Quinn's mail is Ada's address too: without Quinn, the email resolver
    // finds exactly one User for it, Contoso's Ada.
    const entities = seedEntities(emulator, {
      omitUpns: ['quinn.quist@contoso.example'],
    });
    for (const [name, provider] of Object.entries(backends)) {
      const started = await startAuthBackend(emulator, {
        provider,
        entities,
        auditor: auditor.factory,
      });
      urls[name] = started.baseUrl;
      stops.push(() => started.backend.stop());
    }
  });

  afterAll(async () => {
    for (const stop of stops) await stop();
    await proxy?.close();
    await emulator?.close();
  });

  beforeEach(() => {
    auditor.events.length = 0;
  });
  afterEach(() => proxy.set(undefined));

  it.each(['common', 'organizations'])(
    'signs a person of an admitted tenant in through /%s, keyed on oid + tid',
    async authority => {
      const result = await signIn(urls[authority], 'ada.admin@contoso.example');
      const { response, error } = readPopupResponse(result.body);
      expect(error).toBeUndefined();
      const ada = emulator.seed.users.find(
        u => u.userPrincipalName === 'ada.admin@contoso.example',
      )!;
      expect(decodeJwt(response.providerInfo.idToken)).toMatchObject({
        iss: emulator.issuer,
        tid: emulator.tenantId,
        oid: ada.id,
      });
      expect(response.backstageIdentity.identity.userEntityRef).toBe(
        'user:default/ada.admin',
      );
      expect(response.backstageIdentity.identity.ownershipEntityRefs).toEqual(
        expect.arrayContaining(['group:default/platform-admins']),
      );
    },
  );

  it('refuses a person of a tenant not in allowedTenantIds, saying which tenant', async () => {
    const result = await signIn(urls.common, 'farah.field@fabrikam.example');
    const { response, error } = readPopupResponse(result.body);
    expect(response).toBeUndefined();
    expect(error.name).toBe('AuthenticationError');
    expect(error.message).toBe(
      `Sign-in refused: the account belongs to tenant ${FABRIKAM}, which this portal does not admit. ` +
        'Sign in with an account of an admitted organisation, or ask a portal admin to add the tenant to ' +
        'auth.providers.microsoft.<environment>.allowedTenantIds.',
    );
    // Refused: the browser keeps no session.
    expect(result.sessionCookie).not.toMatch(/microsoft-refresh-token=/);
    // Refused before the token was verified (its tenant picks the issuer
    // to verify it with): its oid and tid are claims, not facts, so the
    // audit event names nobody.
    expect(auditor.events).toEqual([
      expect.objectContaining({
        eventId: 'sign-in',
        outcome: 'failed',
        meta: { actor: { kind: 'anonymous' }, reason: 'tenant-not-admitted' },
        error: expect.objectContaining({ message: error.message }),
      }),
    ]);
  });

  it("never signs another tenant's person in as the Contoso person whose email they carry (nOAuth)", async () => {
    // The worst case: the email resolver, with the email marked verified.
    proxy.set(proxy.resign(c => ({ ...c, xms_edov: true })));
    const contosoAda = await signIn(urls.byEmail, 'ada.admin@contoso.example');
    expect(
      readPopupResponse(contosoAda.body).response.backstageIdentity.identity
        .userEntityRef,
    ).toBe('user:default/ada.admin');

    // Fabrikam's "Ada Admin": mail ada.admin@contoso.example.
    const result = await signIn(urls.byEmail, 'ada.admin@fabrikam.example');
    const { response, error } = readPopupResponse(result.body);
    expect(response).toBeUndefined();
    expect(error.message).toMatch(
      `the account belongs to tenant ${FABRIKAM}, which this portal does not admit`,
    );
  });

  it("never signs an admitted tenant's person in as the Contoso person whose email they carry", async () => {
    proxy.set(proxy.resign(c => ({ ...c, xms_edov: true })));
    const contosoAda = await signIn(
      urls.byEmailBothTenants,
      'ada.admin@contoso.example',
    );
    expect(
      readPopupResponse(contosoAda.body).response.backstageIdentity.identity
        .userEntityRef,
    ).toBe('user:default/ada.admin');

    const result = await signIn(
      urls.byEmailBothTenants,
      'ada.admin@fabrikam.example',
    );
    const { response, error } = readPopupResponse(result.body);
    expect(response).toBeUndefined();
    // Answered as if no User had the email (Contoso Ada's User has another
    // oid): Backstage's answer when the only resolver finds nobody.
    expect(error.message).toMatch(/unable to resolve user identity/);
  });

  it('refuses a token whose tid names an admitted tenant but whose issuer is another tenant', async () => {
    // Ben's token, signed with a valid key, as if Fabrikam had issued it.
    proxy.set(proxy.resign(c => ({ ...c, iss: fabrikamIssuer() })));
    const result = await signIn(urls.forgeable, 'ben.builder@contoso.example');
    const { response, error } = readPopupResponse(result.body);
    expect(response).toBeUndefined();
    expect(error.message).toBe(
      `Sign-in with Microsoft Entra ID failed: unexpected iss value, expected ${
        emulator.issuer
      }, got: ${fabrikamIssuer()}`,
    );
  });

  it('refreshes the session of a signed-in person of an admitted tenant', async () => {
    const { sessionCookie } = await signIn(
      urls.common,
      'ada.admin@contoso.example',
    );
    expect(sessionCookie).toMatch(/microsoft-refresh-token=/);
    const res = await refreshSession(
      urls.common,
      sessionCookie!,
      emulator.apps.portal.apiScope,
    );
    expect(res.status).toBe(200);
    const { providerInfo, backstageIdentity } = await res.json();
    expect(backstageIdentity.identity.userEntityRef).toBe(
      'user:default/ada.admin',
    );
    expect(decodeJwt(providerInfo.idToken)).toMatchObject({
      iss: emulator.issuer,
      tid: emulator.tenantId,
    });
    // The portal API token the deploy flow exchanges on-behalf-of.
    expect(decodeJwt(providerInfo.accessToken).scp).toContain('access_as_user');
  });

  it.each([
    [
      'tid and iss of a tenant not admitted',
      (c: Record<string, any>) => ({
        ...c,
        tid: FABRIKAM,
        iss: fabrikamIssuer(),
      }),
      /belongs to tenant 0b583716-e27a-46fe-bfd6-34162f9d604e, which this portal does not admit/,
      'tenant-not-admitted',
    ],
    [
      'an admitted tid with another tenant as issuer',
      (c: Record<string, any>) => ({ ...c, iss: fabrikamIssuer() }),
      /unexpected iss value/,
      'token-invalid',
    ],
  ])(
    'refuses a refresh whose ID token has %s, and deletes the session cookie',
    async (_case, forge, message, reason) => {
      const { sessionCookie } = await signIn(
        urls.forgeable,
        'ben.builder@contoso.example',
      );
      expect(sessionCookie).toMatch(/microsoft-refresh-token=/);
      proxy.set(proxy.resign(forge));
      auditor.events.length = 0;
      const res = await refreshSession(urls.forgeable, sessionCookie!);
      expect(res.status).toBe(401);
      expect(await res.text()).toMatch(message);
      expect(refreshCookies(res)).toEqual([
        expect.stringMatching(
          /^microsoft-refresh-token=; Max-Age=0; Path=\/api\/auth\/microsoft;/,
        ),
      ]);
      // One refused session, naming nobody: the forged token verified nothing.
      expect(auditor.events).toEqual([
        expect.objectContaining({
          eventId: 'session-refused',
          outcome: 'failed',
          meta: { actor: { kind: 'anonymous' }, reason },
        }),
      ]);
    },
  );
});
