import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import {
  ClientAssertionCredential,
  ClientCertificateCredential,
  WorkloadIdentityCredential,
} from '@azure/identity';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { SignJWT } from 'jose';
import { generators, Issuer } from 'openid-client';
import { EntraEmulator } from '../emulator';
import {
  createSelfSignedCertificate,
  SelfSignedCertificate,
} from '../credentials/certificates';
import {
  startWorkloadIdentityIssuer,
  WorkloadIdentityIssuer,
} from '../workloadIdentity/issuer';
import { EmulatorAdminClient } from '../testUtils/adminClient';
import { signInThroughBrowser } from '../testUtils/browser';
import {
  recordConnections,
  startTestEmulator,
} from '../testUtils/testEmulator';
import { decodeJwt, delegatedToken, postToken } from '../testUtils/tokens';
import { JWT_BEARER_ASSERTION } from './clientAuth';

const ADA = 'f8efe4b8-7e3a-44e7-b513-87eab4796311';
const GRAPH_DEFAULT = 'https://graph.microsoft.com/.default';
const SERVICE_ACCOUNT = 'system:serviceaccount:portal:backstage';

// Each test generates RSA keys and walks several libraries' token requests; on
// a loaded two-core machine that can take longer than jest's default 5 s.
jest.setTimeout(30_000);

/** The message of a rejected promise, whatever the library wraps it in. */
async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    const err = e as { message?: string; errorMessage?: string };
    return `${err.message ?? ''} ${err.errorMessage ?? ''}`;
  }
  throw new Error('expected a refusal');
}

describe('client assertions at the token endpoint', () => {
  let emulator: EntraEmulator;
  let admin: EmulatorAdminClient;
  let connections: ReturnType<typeof recordConnections>;
  let tmp: string;

  beforeAll(async () => {
    connections = recordConnections();
    emulator = await startTestEmulator();
    admin = new EmulatorAdminClient(emulator);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entra-assertion-test-'));
  });
  afterAll(async () => {
    await emulator.close();
    connections.restore();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const portal = () => emulator.apps.portal;
  const tokenUrl = () =>
    `${emulator.httpsUrl}/${emulator.tenantId}/oauth2/v2.0/token`;

  /** A certificate registered on the portal app over the admin route. */
  async function registeredCertificate(
    opts: Parameters<typeof createSelfSignedCertificate>[0] = {},
  ): Promise<SelfSignedCertificate> {
    const cert = createSelfSignedCertificate(opts);
    const { thumbprint } = await admin.addAppCertificate(
      'portal',
      cert.certificatePem,
    );
    expect(thumbprint).toBe(cert.thumbprintSha1Hex);
    return cert;
  }

  function msalWithCertificate(cert: SelfSignedCertificate) {
    return new ConfidentialClientApplication({
      auth: {
        clientId: portal().clientId,
        authority: emulator.authority,
        knownAuthorities: [new URL(emulator.httpsUrl).host],
        clientCertificate: {
          thumbprintSha256: Buffer.from(
            cert.thumbprintSha256Base64Url,
            'base64url',
          ).toString('hex'),
          privateKey: cert.privateKeyPem,
          x5c: cert.certificatePem,
        },
      },
    });
  }

  /** A hand-made private_key_jwt assertion, as jose users (and the portal) build it. */
  function handMadeAssertion(
    cert: SelfSignedCertificate,
    opts: {
      alg?: string;
      header?: Record<string, unknown>;
      claims?: Record<string, unknown>;
      signingKey?: string;
      expiresIn?: number;
    } = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: portal().clientId,
      sub: portal().clientId,
      aud: tokenUrl(),
      jti: randomUUID(),
      nbf: now,
      exp: now + (opts.expiresIn ?? 600),
      ...opts.claims,
    })
      .setProtectedHeader({
        alg: opts.alg ?? 'RS256',
        typ: 'JWT',
        x5t: Buffer.from(cert.thumbprintSha1Hex, 'hex').toString('base64url'),
        ...opts.header,
      })
      .sign(createPrivateKey(opts.signingKey ?? cert.privateKeyPem));
  }

  function clientCredentialsWith(
    assertion: string,
    extra: Record<string, string> = {},
  ) {
    return postToken(emulator, {
      grant_type: 'client_credentials',
      client_id: portal().clientId,
      client_assertion_type: JWT_BEARER_ASSERTION,
      client_assertion: assertion,
      scope: GRAPH_DEFAULT,
      ...extra,
    });
  }

  describe('certificate (private_key_jwt)', () => {
    it('msal-node with clientCertificate gets an app token, marked as certificate-authenticated', async () => {
      const cert = await registeredCertificate();
      const result = await msalWithCertificate(
        cert,
      ).acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT] });
      expect(decodeJwt(result!.accessToken)).toMatchObject({
        azp: portal().clientId,
        azpacr: '2',
        idtyp: 'app',
      });
      const last = emulator.tokenRequests().at(-1)!;
      expect(last).toMatchObject({
        grantType: 'client_credentials',
        clientAuth: 'certificate',
      });
      expect(JSON.stringify(emulator.tokenRequests())).not.toMatch(
        /eyJ[A-Za-z0-9_-]+\./,
      );
    });

    it('msal-node exchanges a user token on-behalf-of with its certificate', async () => {
      const cert = await registeredCertificate();
      const userToken = await delegatedToken(emulator, ADA);
      const result = await msalWithCertificate(cert).acquireTokenOnBehalfOf({
        oboAssertion: userToken,
        scopes: [emulator.apps.deployApi.scope],
      });
      expect(decodeJwt(result!.accessToken)).toMatchObject({
        aud: emulator.apps.deployApi.clientId,
        oid: ADA,
        azpacr: '2',
      });
      expect(emulator.tokenRequests().at(-1)).toMatchObject({
        grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        clientAuth: 'certificate',
      });
    });

    it('msal-node with an unregistered certificate surfaces AADSTS700027 (key not found)', async () => {
      const stranger = createSelfSignedCertificate();
      const message = await failure(
        msalWithCertificate(stranger).acquireTokenByClientCredential({
          scopes: [GRAPH_DEFAULT],
        }),
      );
      expect(message).toContain('AADSTS700027');
      expect(message).toContain('The key was not found');
      // msal-node names its key by SHA-256; Entra shows what the client sent, in hex.
      expect(message).toContain(
        Buffer.from(stranger.thumbprintSha256Base64Url, 'base64url')
          .toString('hex')
          .toUpperCase(),
      );
    });

    it('@azure/identity ClientCertificateCredential (PEM file) gets a Graph token', async () => {
      const cert = await registeredCertificate();
      const file = path.join(tmp, 'portal.pem');
      fs.writeFileSync(file, cert.pem, { mode: 0o600 });
      const credential = new ClientCertificateCredential(
        emulator.tenantId,
        portal().clientId,
        { certificatePath: file },
        { authorityHost: emulator.httpsUrl, disableInstanceDiscovery: true },
      );
      const token = await credential.getToken(GRAPH_DEFAULT);
      expect(decodeJwt(token.token)).toMatchObject({
        aud: '00000003-0000-0000-c000-000000000000',
        azpacr: '2',
      });
      const users = await fetch(`${emulator.graphBaseUrl}/users?$top=1`, {
        headers: { authorization: `Bearer ${token.token}` },
      });
      expect(users.status).toBe(200);
    });

    it('openid-client redeems a sign-in code with a client_assertion in the body and no secret', async () => {
      const cert = await registeredCertificate();
      const issuer = await Issuer.discover(emulator.metadataUrl);
      const client = new issuer.Client({
        client_id: portal().clientId,
        redirect_uris: [portal().redirectUris[0]],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      });
      const verifier = generators.codeVerifier();
      const url = client.authorizationUrl({
        scope: 'openid profile offline_access',
        code_challenge: generators.codeChallenge(verifier),
        code_challenge_method: 'S256',
        nonce: 'n-1',
      });
      const res = await signInThroughBrowser(url, ADA);
      const assertion = await handMadeAssertion(cert, {
        claims: { aud: issuer.metadata.token_endpoint },
      });
      const tokens = await client.callback(
        portal().redirectUris[0],
        client.callbackParams(res.headers.get('location')!),
        { code_verifier: verifier, nonce: 'n-1' },
        {
          exchangeBody: {
            client_assertion_type: JWT_BEARER_ASSERTION,
            client_assertion: assertion,
          },
        },
      );
      expect(tokens.claims().oid).toBe(ADA);
      expect(emulator.tokenRequests().at(-1)).toMatchObject({
        grantType: 'authorization_code',
        clientAuth: 'certificate',
      });

      // The refresh is authenticated the same way.
      const refreshed = await client.refresh(tokens.refresh_token!, {
        exchangeBody: {
          client_assertion_type: JWT_BEARER_ASSERTION,
          client_assertion: await handMadeAssertion(cert),
        },
      });
      expect(refreshed.access_token).toBeTruthy();
      // Without any client credential the refresh is refused.
      await expect(client.refresh(refreshed.refresh_token!)).rejects.toThrow(
        /AADSTS7000218/,
      );
    });

    it('accepts a PS256 assertion naming the key by x5t#S256 only', async () => {
      const cert = await registeredCertificate();
      const assertion = await handMadeAssertion(cert, {
        alg: 'PS256',
        header: { x5t: undefined, 'x5t#S256': cert.thumbprintSha256Base64Url },
      });
      const { status } = await clientCredentialsWith(assertion);
      expect(status).toBe(200);
    });

    it('refuses an assertion signed by another key under a registered thumbprint (AADSTS700027)', async () => {
      const cert = await registeredCertificate();
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString();
      const { status, body } = await clientCredentialsWith(
        await handMadeAssertion(cert, { signingKey: other }),
      );
      expect(status).toBe(401);
      expect(body).toMatchObject({
        error: 'invalid_client',
        error_codes: [700027],
      });
      expect(body.error_description).toContain(
        'The provided signature value did not match the expected signature value.',
      );
      expect(body.trace_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(body.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(body.timestamp).toMatch(/Z$/);
    });

    it('refuses an expired or not yet valid assertion (AADSTS700024)', async () => {
      const cert = await registeredCertificate();
      const now = Math.floor(Date.now() / 1000);
      const expired = await clientCredentialsWith(
        await handMadeAssertion(cert, {
          claims: { nbf: now - 7200, exp: now - 3600 },
        }),
      );
      expect(expired.status).toBe(401);
      expect(expired.body.error_codes).toEqual([700024]);
      expect(expired.body.error_description).toContain(
        'Client assertion is not within its valid time range.',
      );
      const early = await clientCredentialsWith(
        await handMadeAssertion(cert, {
          claims: { nbf: now + 3600, exp: now + 4000 },
        }),
      );
      expect(early.body.error_codes).toEqual([700024]);
    });

    it('refuses an assertion for another audience (AADSTS700023) or another client (AADSTS700021)', async () => {
      const cert = await registeredCertificate();
      const otherTenantUrl = await clientCredentialsWith(
        await handMadeAssertion(cert, {
          claims: {
            aud: 'https://login.microsoftonline.com/b19432bf-159f-4ebf-861f-91de48b5e4d2/oauth2/v2.0/token',
          },
        }),
      );
      expect(otherTenantUrl.body).toMatchObject({
        error: 'invalid_client',
        error_codes: [700023],
      });
      const otherClient = await clientCredentialsWith(
        await handMadeAssertion(cert, {
          claims: {
            iss: emulator.apps.deployApi.clientId,
            sub: emulator.apps.deployApi.clientId,
          },
        }),
      );
      expect(otherClient.body.error_codes).toEqual([700021]);
    });

    it('accepts the token URL of /organizations and of the plain-http listener as audience', async () => {
      const cert = await registeredCertificate();
      for (const aud of [
        `${emulator.httpsUrl}/organizations/oauth2/v2.0/token`,
        `${emulator.httpUrl}/${emulator.tenantId}/oauth2/v2.0/token`,
      ]) {
        const { status } = await clientCredentialsWith(
          await handMadeAssertion(cert, { claims: { aud } }),
        );
        expect(status).toBe(200);
      }
    });

    it('refuses unsigned, symmetric and malformed assertions', async () => {
      const cert = await registeredCertificate();
      const header = Buffer.from(
        JSON.stringify({
          alg: 'none',
          x5t: Buffer.from(cert.thumbprintSha1Hex, 'hex').toString('base64url'),
        }),
      ).toString('base64url');
      const genuine = await handMadeAssertion(cert);
      const unsigned = `${header}.${genuine.split('.')[1]}.`;
      const none = await clientCredentialsWith(unsigned);
      expect(none.body.error_codes).toEqual([5002738]);

      const hs256 = await new SignJWT({ iss: portal().clientId })
        .setProtectedHeader({ alg: 'HS256', x5t: 'abc' })
        .sign(new TextEncoder().encode('a'.repeat(32)));
      expect((await clientCredentialsWith(hs256)).body.error_codes).toEqual([
        5002738,
      ]);

      const garbage = await clientCredentialsWith('not-a-jwt');
      expect(garbage.body).toMatchObject({
        error: 'invalid_request',
        error_codes: [50027],
      });
    });

    it('refuses a registered certificate that has expired (AADSTS700027, key expired)', async () => {
      const cert = await registeredCertificate({
        notBefore: new Date(Date.now() - 48 * 3600 * 1000),
        notAfter: new Date(Date.now() - 24 * 3600 * 1000),
      });
      const { body } = await clientCredentialsWith(
        await handMadeAssertion(cert),
      );
      expect(body.error_codes).toEqual([700027]);
      expect(body.error_description).toContain('The key used is expired.');
    });

    it('refuses a request carrying a secret and an assertion, or an unknown assertion type', async () => {
      const cert = await registeredCertificate();
      const assertion = await handMadeAssertion(cert);
      const both = await clientCredentialsWith(assertion, {
        client_secret: portal().clientSecret,
      });
      expect(both.body).toMatchObject({
        error: 'invalid_request',
        error_codes: [9002313],
      });
      const wrongType = await clientCredentialsWith(assertion, {
        client_assertion_type:
          'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
      });
      expect(wrongType.body.error_codes).toEqual([9002313]);
    });

    it('rotation: after adding a new certificate and removing the old one, the old key is refused at once', async () => {
      const old = await registeredCertificate();
      const oldAssertion = await handMadeAssertion(old);
      expect((await clientCredentialsWith(oldAssertion)).status).toBe(200);

      const next = await registeredCertificate();
      await admin.removeAppCertificate('portal', old.thumbprintSha1Hex);

      // The same, still unexpired, assertion that worked a moment ago.
      const refused = await clientCredentialsWith(oldAssertion);
      expect(refused.status).toBe(401);
      expect(refused.body.error_codes).toEqual([700027]);
      expect(refused.body.error_description).toContain('The key was not found');
      const accepted = await clientCredentialsWith(
        await handMadeAssertion(next),
      );
      expect(accepted.status).toBe(200);
    });
  });

  describe('workload identity federation', () => {
    let k8s: WorkloadIdentityIssuer;

    beforeAll(async () => {
      k8s = await startWorkloadIdentityIssuer();
      await admin.addFederatedCredential('portal', {
        issuer: k8s.issuer,
        subject: SERVICE_ACCOUNT,
      });
    });
    afterAll(() => k8s.close());

    function tokenFile(token: string): string {
      const file = path.join(tmp, `sa-token-${randomUUID()}`);
      fs.writeFileSync(file, token);
      return file;
    }

    function workloadCredential(token: string) {
      return new WorkloadIdentityCredential({
        tenantId: emulator.tenantId,
        clientId: portal().clientId,
        tokenFilePath: tokenFile(token),
        authorityHost: emulator.httpsUrl,
        disableInstanceDiscovery: true,
      });
    }

    it('the issuer serves OIDC discovery and a key set, and mints service-account-shaped tokens', async () => {
      const doc = await (
        await fetch(`${k8s.issuer}/.well-known/openid-configuration`)
      ).json();
      expect(doc).toMatchObject({
        issuer: k8s.issuer,
        jwks_uri: `${k8s.issuer}/openid/v1/jwks`,
      });
      const jwks = await (await fetch(doc.jwks_uri)).json();
      expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256' });
      const claims = decodeJwt(
        await k8s.mintToken({ subject: SERVICE_ACCOUNT }),
      );
      expect(claims).toMatchObject({
        iss: k8s.issuer,
        sub: SERVICE_ACCOUNT,
        aud: 'api://AzureADTokenExchange',
        'kubernetes.io': {
          namespace: 'portal',
          serviceaccount: { name: 'backstage' },
        },
      });
      expect(claims.exp - claims.iat).toBe(3600);
    });

    it('WorkloadIdentityCredential (token file) gets a Graph token without any secret', async () => {
      const credential = workloadCredential(
        await k8s.mintToken({ subject: SERVICE_ACCOUNT }),
      );
      const token = await credential.getToken(GRAPH_DEFAULT);
      expect(decodeJwt(token.token)).toMatchObject({
        azp: portal().clientId,
        azpacr: '2',
        roles: expect.arrayContaining(['User.Read.All']),
      });
      expect(emulator.tokenRequests().at(-1)).toMatchObject({
        grantType: 'client_credentials',
        clientAuth: 'federated',
      });
    });

    it('ClientAssertionCredential with the projected token gets a token, and on-behalf-of works with it', async () => {
      const credential = new ClientAssertionCredential(
        emulator.tenantId,
        portal().clientId,
        () => k8s.mintToken({ subject: SERVICE_ACCOUNT }),
        { authorityHost: emulator.httpsUrl, disableInstanceDiscovery: true },
      );
      expect((await credential.getToken(GRAPH_DEFAULT)).token).toBeTruthy();

      const msal = new ConfidentialClientApplication({
        auth: {
          clientId: portal().clientId,
          authority: emulator.authority,
          knownAuthorities: [new URL(emulator.httpsUrl).host],
          clientAssertion: () => k8s.mintToken({ subject: SERVICE_ACCOUNT }),
        },
      });
      const obo = await msal.acquireTokenOnBehalfOf({
        oboAssertion: await delegatedToken(emulator, ADA),
        scopes: [emulator.apps.deployApi.scope],
      });
      expect(decodeJwt(obo!.accessToken)).toMatchObject({ oid: ADA });
    });

    it('refuses a token about another service account (AADSTS700213)', async () => {
      const message = await failure(
        workloadCredential(
          await k8s.mintToken({
            subject: 'system:serviceaccount:portal:intruder',
          }),
        ).getToken(GRAPH_DEFAULT),
      );
      expect(message).toContain('AADSTS700213');
      expect(message).toContain('system:serviceaccount:portal:intruder');
    });

    it('says when the subject differs only in case (AADSTS7002138)', async () => {
      const { body } = await clientCredentialsWith(
        await k8s.mintToken({ subject: SERVICE_ACCOUNT.toUpperCase() }),
      );
      expect(body.error_codes).toEqual([7002138]);
    });

    it('refuses a token of an issuer the app does not trust (AADSTS700211)', async () => {
      const stranger = await startWorkloadIdentityIssuer();
      try {
        const message = await failure(
          workloadCredential(
            await stranger.mintToken({ subject: SERVICE_ACCOUNT }),
          ).getToken(GRAPH_DEFAULT),
        );
        expect(message).toContain('AADSTS700211');
        expect(message).toContain(stranger.issuer);
      } finally {
        await stranger.close();
      }
    });

    it('refuses a token for another audience (AADSTS700212)', async () => {
      const message = await failure(
        workloadCredential(
          await k8s.mintToken({
            subject: SERVICE_ACCOUNT,
            audience: 'https://kubernetes.default.svc',
          }),
        ).getToken(GRAPH_DEFAULT),
      );
      expect(message).toContain('AADSTS700212');
    });

    it('refuses an expired token (AADSTS700024)', async () => {
      const message = await failure(
        workloadCredential(
          await k8s.mintToken({
            subject: SERVICE_ACCOUNT,
            expiresInSeconds: -3600,
          }),
        ).getToken(GRAPH_DEFAULT),
      );
      expect(message).toContain('AADSTS700024');
    });

    it('refuses a forged token that names the issuer and its key id but another key signed it', async () => {
      const genuine = await k8s.mintToken({ subject: SERVICE_ACCOUNT });
      const { kid } = JSON.parse(
        Buffer.from(genuine.split('.')[0], 'base64url').toString(),
      );
      const forger = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const forged = await new SignJWT(decodeJwt(genuine))
        .setProtectedHeader({ alg: 'RS256', kid })
        .sign(forger.privateKey);
      const { status, body } = await clientCredentialsWith(forged);
      expect(status).toBe(401);
      expect(body).toMatchObject({
        error: 'invalid_client',
        error_codes: [700027],
      });
      // A key id the issuer never published.
      const unknownKid = await new SignJWT(decodeJwt(genuine))
        .setProtectedHeader({ alg: 'RS256', kid: 'not-a-published-key' })
        .sign(forger.privateKey);
      const unknown = await clientCredentialsWith(unknownKid);
      expect(unknown.body.error_codes).toEqual([7000272]);
      // Unsigned, with the issuer's key id.
      const [, payload] = genuine.split('.');
      const unsignedHeader = Buffer.from(
        JSON.stringify({ alg: 'none', kid }),
      ).toString('base64url');
      const unsigned = await clientCredentialsWith(
        `${unsignedHeader}.${payload}.`,
      );
      expect(unsigned.status).toBe(401);
      expect(unsigned.body.error_codes).toEqual([700027]);
    });

    it("follows the issuer's key rotation: new tokens are accepted, the old key's are not", async () => {
      const before = await k8s.mintToken({ subject: SERVICE_ACCOUNT });
      expect((await clientCredentialsWith(before)).status).toBe(200);
      await k8s.rotateKey();
      const after = await k8s.mintToken({ subject: SERVICE_ACCOUNT });
      expect((await clientCredentialsWith(after)).status).toBe(200);
      const { body } = await clientCredentialsWith(before);
      expect(body.error_codes).toEqual([7000272]);
    });

    it('answers AADSTS50166 when the issuer cannot be reached', async () => {
      const gone = await startWorkloadIdentityIssuer();
      const token = await gone.mintToken({ subject: SERVICE_ACCOUNT });
      await admin.addFederatedCredential('portal', {
        issuer: gone.issuer,
        subject: SERVICE_ACCOUNT,
      });
      await gone.close();
      const { body } = await clientCredentialsWith(token);
      expect(body).toMatchObject({
        error: 'invalid_request',
        error_codes: [50166],
      });
    });
  });

  describe('client secrets', () => {
    it('after removeClientSecrets a secret is refused and a certificate still works; a new secret works again', async () => {
      const cert = await registeredCertificate();
      const secretRequest = () =>
        postToken(emulator, {
          grant_type: 'client_credentials',
          client_id: portal().clientId,
          client_secret: portal().clientSecret,
          scope: GRAPH_DEFAULT,
        });
      try {
        await admin.removeClientSecrets('portal');
        const refused = await secretRequest();
        expect(refused.status).toBe(401);
        expect(refused.body.error_codes).toEqual([7000215]);
        expect(emulator.tokenRequests().at(-1)!.clientAuth).toBe('secret');
        const { status } = await clientCredentialsWith(
          await handMadeAssertion(cert),
        );
        expect(status).toBe(200);
      } finally {
        await admin.addClientSecret('portal', { value: portal().clientSecret });
      }
      expect((await secretRequest()).status).toBe(200);
    });

    it('refuses an expired secret with AADSTS7000222 and generates one when no value is given', async () => {
      const expired = await admin.addClientSecret(
        emulator.apps.deployApi.clientId,
        {
          value: 'expired-secret',
          endDateTime: new Date(Date.now() - 1000).toISOString(),
        },
      );
      expect(expired.value).toBe('expired-secret');
      const { body } = await postToken(emulator, {
        grant_type: 'client_credentials',
        client_id: emulator.apps.deployApi.clientId,
        client_secret: 'expired-secret',
        scope: `api://${portal().clientId}/.default`,
      });
      expect(body.error_codes).toEqual([7000222]);

      const generated = await admin.addClientSecret('deployApi');
      expect(generated.value).toMatch(/^.{3}8Q~.{34}$/);
      expect(Date.parse(generated.endDateTime) - Date.now()).toBeGreaterThan(
        700 * 24 * 3600 * 1000,
      );
    });

    it('refuses bad admin input with 400 and unknown apps with 404, never echoing a private key', async () => {
      const cert = createSelfSignedCertificate();
      await expect(admin.addAppCertificate('portal', cert.pem)).rejects.toThrow(
        /answered 400: Send the certificate only/,
      );
      await expect(admin.addAppCertificate('portal', 'hello')).rejects.toThrow(
        /answered 400/,
      );
      await expect(
        admin.addAppCertificate('no-such-app', cert.certificatePem),
      ).rejects.toThrow(/answered 404/);
      await expect(
        admin.addFederatedCredential('portal', {
          issuer: '',
          subject: 'x',
        }),
      ).rejects.toThrow(/answered 400: issuer is required/);
      await expect(
        admin.removeAppCertificate('portal', 'ABCDEF'),
      ).rejects.toThrow(/answered 404/);
    });
  });

  // Last, so that it covers every request above (issuer discovery included).
  it('opened connections to loopback only', () => {
    expect(connections.hosts.length).toBeGreaterThan(0);
    expect(connections.nonLoopback()).toEqual([]);
  });
});
