import http from 'node:http';
import { AddressInfo } from 'node:net';
import { generateKeyPair, KeyObject, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { exportJWK, JWK, SignJWT } from 'jose';
import { DEFAULT_FEDERATED_AUDIENCE } from '../credentials/appCredentials';

const generateKeyPairAsync = promisify(generateKeyPair);

/** A running stand-in for a Kubernetes service-account token issuer. */
export interface WorkloadIdentityIssuer {
  /** `http://127.0.0.1:<port>`: the `iss` of its tokens and the federated credential's issuer. */
  issuer: string;
  /**
   * A projected service-account token for `subject`
   * (`system:serviceaccount:<namespace>:<name>`), for `audience` (default
   * `api://AzureADTokenExchange`), valid `expiresInSeconds` (default 3600;
   * negative for an expired one).
   */
  mintToken(opts: {
    subject: string;
    audience?: string;
    expiresInSeconds?: number;
    notBefore?: Date;
  }): Promise<string>;
  /** Signs with a new key from now on; the old key leaves the published key set. */
  rotateKey(): Promise<void>;
  close(): Promise<void>;
}

interface IssuerKey {
  kid: string;
  privateKey: KeyObject;
  jwk: JWK;
}

async function newKey(): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: 2048,
  });
  const kid = randomUUID();
  const jwk = {
    ...(await exportJWK(publicKey)),
    kid,
    alg: 'RS256',
    use: 'sig',
  };
  return { kid, privateKey, jwk };
}

/**
 * Starts an OIDC issuer on 127.0.0.1 shaped like the Kubernetes API
 * server's service-account issuer (what AKS publishes for workload identity):
 * `/.well-known/openid-configuration` and `/openid/v1/jwks`, and RS256
 * tokens with `iss`, `sub`, `aud`, `exp`, `iat`, `nbf` and the
 * `kubernetes.io` claim, as a projected volume holds them.
 */
export async function startWorkloadIdentityIssuer(
  opts: { port?: number } = {},
): Promise<WorkloadIdentityIssuer> {
  let key = await newKey();
  let issuer = '';
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
      json(res, {
        issuer,
        jwks_uri: `${issuer}/openid/v1/jwks`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
      return;
    }
    if (req.method === 'GET' && path === '/openid/v1/jwks') {
      json(res, { keys: [key.jwk] });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    async mintToken({ subject, audience, expiresInSeconds, notBefore }) {
      const parts = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(subject);
      const now = Math.floor(Date.now() / 1000);
      const nbf = notBefore ? Math.floor(notBefore.getTime() / 1000) : now;
      return new SignJWT({
        ...(parts
          ? {
              'kubernetes.io': {
                namespace: parts[1],
                serviceaccount: { name: parts[2], uid: randomUUID() },
                pod: { name: `${parts[2]}-pod`, uid: randomUUID() },
              },
            }
          : {}),
      })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid })
        .setIssuer(issuer)
        .setSubject(subject)
        .setAudience(audience ?? DEFAULT_FEDERATED_AUDIENCE)
        .setIssuedAt(now)
        .setNotBefore(nbf)
        .setExpirationTime(now + (expiresInSeconds ?? 3600))
        .sign(key.privateKey);
    },
    async rotateKey() {
      key = await newKey();
    },
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function json(res: http.ServerResponse, body: unknown) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
