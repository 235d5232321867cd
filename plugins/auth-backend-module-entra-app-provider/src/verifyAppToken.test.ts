import { once } from 'node:events';
import { createServer, Server } from 'node:http';
import { exportJWK, generateKeyPair, JWTPayload, SignJWT } from 'jose';
import { EntraAppConfig } from './config';
import { AppTokenVerifier } from './verifyAppToken';

const TENANT = '11111111-2222-4333-8444-555555555555';
const PORTAL = '66666666-7777-4888-9999-000000000000';
const APP = '2f6a1e0c-5b1d-4f3e-9a57-0c6b1f0a7e01';
const SP = '9c1d7d43-3a1e-4c59-8a0b-6d8a1c3e2f10';

let server: Server;
let tenantKey: CryptoKey;
let otherKey: CryptoKey;
let config: EntraAppConfig;

beforeAll(async () => {
  const tenant = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  tenantKey = tenant.privateKey;
  otherKey = other.privateKey;
  const jwks = (key: CryptoKey, kid: string) =>
    exportJWK(key).then(jwk => ({
      keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }],
    }));
  const keysOf: Record<string, object> = {
    [`/${TENANT}/discovery/v2.0/keys`]: await jwks(tenant.publicKey, 'k1'),
    // Another tenant's keys: never asked for.
    '/other/discovery/v2.0/keys': await jwks(other.publicKey, 'k2'),
  };
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(keysOf[req.url!] ?? { keys: [] }));
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${
    (server.address() as { port: number }).port
  }`;
  config = {
    tenantId: TENANT,
    jwksUrl: `${origin}/${TENANT}/discovery/v2.0/keys`,
    issuers: [`${origin}/${TENANT}/v2.0`, `https://sts.windows.net/${TENANT}/`],
    audiences: [`api://${PORTAL}`, PORTAL],
    requireIdtyp: true,
    roleGroups: {},
  };
});

afterAll(() => server.close());

const now = () => Math.floor(Date.now() / 1000);

/** A v1 app token (`appid`, sts.windows.net), as Entra issues for `accessTokenAcceptedVersion: null`. */
function v1Claims(extra: JWTPayload = {}): JWTPayload {
  return {
    aud: `api://${PORTAL}`,
    iss: `https://sts.windows.net/${TENANT}/`,
    iat: now(),
    nbf: now(),
    exp: now() + 3600,
    tid: TENANT,
    oid: SP,
    sub: SP,
    appid: APP,
    roles: ['Portal.Registrar'],
    idtyp: 'app',
    ver: '1.0',
    ...extra,
  };
}

const sign = (claims: JWTPayload, key = tenantKey, kid = 'k1') =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
    .sign(key);

describe('AppTokenVerifier', () => {
  it('accepts a v1 token (appid, sts.windows.net issuer) of the configured tenant', async () => {
    const result = await new AppTokenVerifier(config).verify(
      await sign(v1Claims()),
    );
    expect(result).toEqual({
      ok: true,
      app: {
        appId: APP,
        objectId: SP,
        tenantId: TENANT,
        roles: ['Portal.Registrar'],
        expiresAt: expect.any(Number),
      },
    });
  });

  it("checks the signature with the configured tenant's keys only", async () => {
    const result = await new AppTokenVerifier(config).verify(
      await sign(v1Claims(), otherKey, 'k2'),
    );
    expect(result).toMatchObject({
      ok: false,
      refusal: {
        check: 'signature',
        appId: APP,
        objectId: SP,
        tenantId: TENANT,
      },
    });
  });

  it('refuses a token that is not valid yet, beyond a minute of clock skew', async () => {
    const verifier = new AppTokenVerifier(config);
    expect(
      await verifier.verify(await sign(v1Claims({ nbf: now() + 30 }))),
    ).toMatchObject({ ok: true });
    expect(
      await verifier.verify(await sign(v1Claims({ nbf: now() + 600 }))),
    ).toMatchObject({
      ok: false,
      refusal: { check: 'nbf' },
    });
  });

  it('without idtyp: refused by default, app-only with requireIdtyp false when oid is sub', async () => {
    const { idtyp, ...noIdtyp } = v1Claims();
    const token = await sign(noIdtyp);
    expect(await new AppTokenVerifier(config).verify(token)).toMatchObject({
      ok: false,
      refusal: {
        check: 'app-only',
        reason: expect.stringContaining("add the optional claim 'idtyp'"),
      },
    });
    const lenient = new AppTokenVerifier({ ...config, requireIdtyp: false });
    expect(await lenient.verify(token)).toMatchObject({ ok: true });
    // A person's token without idtyp has sub ≠ oid (pairwise) and scp.
    expect(
      await lenient.verify(await sign({ ...noIdtyp, sub: 'pairwise-sub' })),
    ).toMatchObject({
      ok: false,
      refusal: { check: 'app-only' },
    });
  });

  it('refuses a token without an app id or object id', async () => {
    const { appid, ...noAppId } = v1Claims();
    expect(
      await new AppTokenVerifier(config).verify(await sign(noAppId)),
    ).toMatchObject({
      ok: false,
      refusal: { check: 'claims' },
    });
  });

  it('refuses what is not a JWT, and an HMAC token signed with a public value', async () => {
    const verifier = new AppTokenVerifier(config);
    expect(await verifier.verify('not-a-jwt')).toMatchObject({
      ok: false,
      refusal: { check: 'format' },
    });
    const hs = await new SignJWT(v1Claims())
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .sign(
        new TextEncoder().encode('the-public-modulus-as-a-secret-0123456789'),
      );
    expect(await verifier.verify(hs)).toMatchObject({
      ok: false,
      refusal: { check: 'alg' },
    });
  });
});
