/*
 * Issue 13's acceptance: sign-in, org ingestion and a deploy work with a
 * certificate credential and with a federated (workload identity)
 * credential, and no client secret configured: the emulator's portal app
 * has no secret at all, and every token request the portal makes (code
 * redemption, refresh, Graph's client credentials, on-behalf-of) is
 * authenticated with the certificate or the federated token.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createSelfSignedCertificate,
  EntraEmulator,
  startWorkloadIdentityIssuer,
} from '@internal/entra-emulator';
import {
  EmulatorAdminClient,
  startTestEmulator,
} from '@internal/entra-emulator/testUtils';
import {
  readPopupResponse,
  signIn,
  signInPopup,
  SignedIn,
} from '@internal/portal-test-utils';
import {
  CATALOG_READER_TOKEN,
  startDeployBackend,
} from './__testUtils__/backend';

const CARLA = '5a9214bd-9425-4fb9-9a9d-bbdfb8789017';
const CARLA_UPN = 'carla.chen@contoso.example';
const SERVICE = 'component:default/payments-service';
const SUBJECT = 'system:serviceaccount:portal:backstage';
const GRANTS = {
  code: 'authorization_code',
  refresh: 'refresh_token',
  graph: 'client_credentials',
  onBehalfOf: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
};

/** A file mounted as Kubernetes mounts Secrets: through a `..data` symlink. */
class MountedFile {
  readonly path: string;
  constructor(private readonly dir: string, private readonly name: string) {
    this.path = path.join(dir, name);
  }
  /** Writes a new version and swaps `..data` to it, atomically, as the kubelet does. */
  write(content: string) {
    const version = fs.mkdtempSync(path.join(this.dir, '..v'));
    fs.writeFileSync(path.join(version, this.name), content);
    const tmp = path.join(this.dir, '..data_tmp');
    fs.symlinkSync(path.basename(version), tmp);
    fs.renameSync(tmp, path.join(this.dir, '..data'));
    if (!fs.existsSync(this.path)) {
      fs.symlinkSync(path.join('..data', this.name), this.path);
    }
  }
}

interface CredentialSetup {
  /** The credential keys for auth and catalog config. */
  config: Record<string, unknown>;
  /** What the credential's file holds now (must never show up in output). */
  material(): string[];
  /** Replaces the credential without a restart, as an operator would. */
  rotate(): Promise<void>;
  /** Puts a credential Entra does not accept in the file. */
  breakIt(): Promise<{ expectedError: RegExp }>;
  /** Undoes breakIt. */
  repair(): Promise<void>;
  close(): Promise<void>;
}

async function certificateSetup(
  admin: EmulatorAdminClient,
  file: MountedFile,
): Promise<CredentialSetup> {
  let current = createSelfSignedCertificate({ commonName: 'portal' });
  let { thumbprint } = await admin.addAppCertificate(
    'portal',
    current.certificatePem,
  );
  file.write(current.pem);
  const seen = [current.privateKeyPem];
  return {
    config: { clientCertificatePath: file.path },
    material: () => seen,
    async rotate() {
      const next = createSelfSignedCertificate({ commonName: 'portal-next' });
      seen.push(next.privateKeyPem);
      // An operator's order: register the new one, mount it, drop the old.
      const added = await admin.addAppCertificate(
        'portal',
        next.certificatePem,
      );
      file.write(next.pem);
      await admin.removeAppCertificate('portal', thumbprint);
      current = next;
      thumbprint = added.thumbprint;
    },
    async breakIt() {
      const stranger = createSelfSignedCertificate({ commonName: 'stranger' });
      seen.push(stranger.privateKeyPem);
      file.write(stranger.pem);
      return {
        expectedError: new RegExp(
          `Entra refused the portal's app credential \\(certificate .*thumbprint ${stranger.thumbprintSha1Hex}.*AADSTS700027`,
        ),
      };
    },
    async repair() {
      file.write(current.pem);
    },
    close: async () => {},
  };
}

async function federatedSetup(
  admin: EmulatorAdminClient,
  file: MountedFile,
): Promise<CredentialSetup> {
  const issuer = await startWorkloadIdentityIssuer();
  await admin.addFederatedCredential('portal', {
    issuer: issuer.issuer,
    subject: SUBJECT,
  });
  const seen: string[] = [];
  const writeToken = async (subject = SUBJECT) => {
    const token = await issuer.mintToken({ subject });
    seen.push(token);
    file.write(token);
  };
  await writeToken();
  return {
    config: { federatedTokenFile: file.path },
    material: () => seen,
    // The kubelet refreshes the projected token long before it expires.
    rotate: () => writeToken(),
    async breakIt() {
      await writeToken('system:serviceaccount:other:intruder');
      return {
        expectedError:
          /Entra refused the portal's app credential \(federated .*subject system:serviceaccount:other:intruder.*AADSTS700213/,
      };
    },
    repair: () => writeToken(),
    close: () => issuer.close(),
  };
}

describe.each([
  ['certificate', certificateSetup],
  ['federated', federatedSetup],
] as const)(
  'the portal app with a %s credential and no client secret',
  (kind, setUp) => {
    let emulator: EntraEmulator;
    let admin: EmulatorAdminClient;
    let dir: string;
    let credential: CredentialSetup;
    let portal: Awaited<ReturnType<typeof startDeployBackend>>;
    let carla: SignedIn;

    const entity = async (ref: string) => {
      const res = await fetch(
        `${portal.baseUrl}/api/catalog/entities/by-refs`,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${CATALOG_READER_TOKEN}`,
          },
          body: JSON.stringify({ entityRefs: [ref] }),
        },
      );
      return (await res.json()).items?.[0];
    };
    const eventually = async (what: string, probe: () => Promise<boolean>) => {
      const deadline = Date.now() + 90_000;
      while (!(await probe().catch(() => false))) {
        if (Date.now() > deadline) throw new Error(`Never happened: ${what}`);
        await new Promise(r => setTimeout(r, 250));
      }
    };
    const portalTokenRequests = () =>
      emulator
        .tokenRequests()
        .filter(r => r.clientId === emulator.apps.portal.clientId);

    beforeAll(async () => {
      emulator = await startTestEmulator();
      admin = new EmulatorAdminClient(emulator);
      await admin.removeClientSecrets('portal');
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `portal-${kind}-`));
      credential = await setUp(admin, new MountedFile(dir, 'credential'));
      portal = await startDeployBackend({
        emulator,
        deployUrl: `${emulator.deployApiUrl}/deployments`,
        provider: { clientSecret: undefined, ...credential.config },
        orgIngestion: {
          ...credential.config,
          delta: { frequency: { seconds: 1 } },
        },
      });
      // Users and groups come from Graph now; the deploy needs Carla's
      // membership of payments, which owns the service.
      await eventually('Carla ingested with her groups', async () => {
        const [user, service] = await Promise.all([
          entity('user:default/carla.chen'),
          entity(SERVICE),
        ]);
        return (
          user?.relations?.some(
            (r: any) => r.targetRef === 'group:default/payments',
          ) && service?.relations?.length > 0
        );
      });
      carla = await signIn(portal.baseUrl, CARLA_UPN);
    });

    afterAll(async () => {
      await portal?.backend.stop();
      await credential?.close();
      await emulator?.close();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    /** A delegated token for the portal's own API, as the deploy form asks for it. */
    async function delegatedToken(session: SignedIn): Promise<string> {
      const url = new URL(`${portal.baseUrl}/api/auth/microsoft/refresh`);
      url.searchParams.set('env', 'development');
      url.searchParams.set('scope', emulator.apps.portal.apiScope);
      const res = await fetch(url, {
        headers: {
          cookie: session.sessionCookie,
          'x-requested-with': 'XMLHttpRequest',
        },
      });
      const body = await res.json();
      if (!res.ok) throw new Error(`Refresh failed: ${JSON.stringify(body)}`);
      return body.providerInfo.accessToken;
    }

    async function deploy(token: string) {
      const headers = {
        authorization: `Bearer ${carla.token}`,
        'content-type': 'application/json',
      };
      const created = await fetch(`${portal.baseUrl}/api/scaffolder/v2/tasks`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          templateRef: 'template:default/deploy-component',
          values: {
            component: SERVICE,
            environment: 'staging',
            version: '2.0.0',
          },
          secrets: { entraDelegatedToken: token },
        }),
      });
      expect(created.status).toBe(201);
      const { id } = await created.json();
      for (;;) {
        const task = await (
          await fetch(`${portal.baseUrl}/api/scaffolder/v2/tasks/${id}`, {
            headers,
          })
        ).json();
        if (['completed', 'failed', 'cancelled'].includes(task.status)) {
          return task;
        }
        await new Promise(r => setTimeout(r, 200));
      }
    }

    it(`signs in, ingests and deploys, authenticating every token request with the ${kind} credential`, async () => {
      expect(carla.ownershipEntityRefs).toEqual(
        expect.arrayContaining([
          'user:default/carla.chen',
          'group:default/payments',
        ]),
      );
      const before = emulator.deployCalls().length;
      const task = await deploy(await delegatedToken(carla));
      expect(task.status).toBe('completed');
      expect(emulator.deployCalls().slice(before)).toEqual([
        expect.objectContaining({
          oid: CARLA,
          scopes: ['deploy'],
          clientId: emulator.apps.portal.clientId,
        }),
      ]);

      const requests = portalTokenRequests();
      expect(new Set(requests.map(r => r.grantType))).toEqual(
        new Set(Object.values(GRANTS)),
      );
      expect(new Set(requests.map(r => r.clientAuth))).toEqual(new Set([kind]));
    });

    it(`keeps working when the ${kind} credential is replaced, without a restart`, async () => {
      await credential.rotate();
      const rotatedAt = new Date().toISOString();

      // Sign-in redeems its code with the new credential.
      const again = await signIn(portal.baseUrl, CARLA_UPN);
      expect(again.ownershipEntityRefs).toContain('group:default/payments');

      // Ingestion's next poll takes a new Graph token with it, too.
      const newcomer = {
        id: 'c0ffee00-0000-4000-8000-000000000013',
        displayName: 'Nia Newcomer',
        userPrincipalName: 'nia.newcomer@contoso.example',
        mail: 'nia.newcomer@contoso.example',
      };
      emulator.directory.addUser(newcomer);
      await eventually(
        'a user added after the rotation is ingested',
        async () => Boolean(await entity('user:default/nia.newcomer')),
      );
      // And on-behalf-of (MSAL, built anew for the new credential).
      expect((await deploy(await delegatedToken(again))).status).toBe(
        'completed',
      );

      const after = portalTokenRequests().filter(r => r.time >= rotatedAt);
      // A new certificate is a new credential version: Graph's client drops
      // its cached app token and asks again with the new key (the old one is
      // no longer registered). A refreshed federated token is the same
      // credential: the cached app token stays good until it expires.
      expect([...new Set(after.map(r => r.grantType))]).toEqual(
        expect.arrayContaining(
          kind === 'certificate'
            ? Object.values(GRANTS)
            : [GRANTS.code, GRANTS.refresh, GRANTS.onBehalfOf],
        ),
      );
      expect(new Set(after.map(r => r.clientAuth))).toEqual(new Set([kind]));
    });

    it('refuses sign-in with a clear error when the file holds a credential Entra does not accept, and leaks nothing', async () => {
      const { expectedError } = await credential.breakIt();
      try {
        const popup = await signInPopup(portal.baseUrl, CARLA_UPN);
        const { response, error } = readPopupResponse(popup.body);
        expect(response).toBeUndefined();
        expect(error.message).toMatch(expectedError);
        const everything = [popup.body, ...portal.logLines].join('\n');
        for (const secret of credential.material()) {
          for (const part of secret.split('\n').filter(l => l.length > 20)) {
            expect(everything).not.toContain(part);
          }
        }
        expect(everything).not.toMatch(/client_assertion=ey/);

        // A refresh meanwhile fails as in an outage (Backstage answers any
        // failed refresh with 401), but the session cookie is kept: the fix
        // is the operator's, not the person's.
        const url = new URL(`${portal.baseUrl}/api/auth/microsoft/refresh`);
        url.searchParams.set('env', 'development');
        url.searchParams.set('scope', emulator.apps.portal.apiScope);
        const refresh = await fetch(url, {
          headers: {
            cookie: carla.sessionCookie,
            'x-requested-with': 'XMLHttpRequest',
          },
        });
        expect(refresh.status).toBe(401);
        const refused = (await refresh.json()).error;
        expect(refused.cause.name).toBe('ServiceUnavailableError');
        expect(refused.message).toMatch(expectedError);
        expect(
          refresh.headers
            .getSetCookie()
            .some(c => /^microsoft-refresh-token=;/.test(c)),
        ).toBe(false);
      } finally {
        await credential.repair();
      }
      // Repaired: sign-in works again at once.
      await signIn(portal.baseUrl, CARLA_UPN);
    });
  },
);
