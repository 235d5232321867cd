/*
 * Test-only: an HTTPS hop in front of the emulator that lets a test replace
 * the ID token the token endpoint returns, so the module's verification can
 * be tried with tokens a real attacker could present (another tenant's token
 * signed by a valid key, wrong audience, expired, `alg: none`, unknown key).
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  decodeJwt,
  decodeProtectedHeader,
  importPKCS8,
  SignJWT,
  generateKeyPair,
} from 'jose';
import type { EntraEmulator } from '@internal/entra-emulator';

export type IdTokenRewrite = (idToken: string) => Promise<string>;

export async function startTokenRewritingProxy(
  emulator: EntraEmulator,
  dataDir: string,
) {
  let rewrite: IdTokenRewrite | undefined;
  let proxyUrl = '';
  const server = https.createServer(
    {
      cert: readFileSync(join(dataDir, 'localhost.pem')),
      key: readFileSync(join(dataDir, 'localhost-key.pem')),
    },
    async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const upstream = await fetch(`${emulator.httpsUrl}${req.url}`, {
        method: req.method,
        headers: {
          'content-type': req.headers['content-type'] ?? '',
          authorization: req.headers.authorization ?? '',
        },
        body: req.method === 'POST' ? Buffer.concat(chunks) : undefined,
      });
      let body = await upstream.text();
      if (req.url!.includes('/.well-known/openid-configuration')) {
        const doc = JSON.parse(body);
        doc.token_endpoint = `${proxyUrl}${
          new URL(doc.token_endpoint).pathname
        }`;
        body = JSON.stringify(doc);
      } else if (
        req.url!.includes('/oauth2/v2.0/token') &&
        rewrite &&
        upstream.ok
      ) {
        const tokens = JSON.parse(body);
        tokens.id_token = await rewrite(tokens.id_token);
        body = JSON.stringify(tokens);
      }
      res.writeHead(upstream.status, {
        'content-type':
          upstream.headers.get('content-type') ?? 'application/json',
      });
      res.end(body);
    },
  );
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  proxyUrl = `https://localhost:${(server.address() as AddressInfo).port}`;

  const signingKey = await importPKCS8(
    readFileSync(join(dataDir, 'signing-key.pem'), 'utf8'),
    'RS256',
  );
  /** Re-signs the token's claims, changed by `edit`, with the emulator's key. */
  const resign =
    (
      edit: (claims: Record<string, any>) => Record<string, any>,
      key?: CryptoKey | any,
      kid?: string,
    ): IdTokenRewrite =>
    async idToken => {
      const header = decodeProtectedHeader(idToken);
      return new SignJWT(edit({ ...decodeJwt(idToken) }))
        .setProtectedHeader({
          alg: 'RS256',
          typ: 'JWT',
          kid: kid ?? header.kid,
        })
        .sign(key ?? signingKey);
    };

  return {
    authority: `${proxyUrl}/${emulator.tenantId}`,
    /** The hop's origin, for other authorities, e.g. `${origin}/common`. */
    origin: proxyUrl,
    set(next: IdTokenRewrite | undefined) {
      rewrite = next;
    },
    resign,
    async resignWithUnknownKey(): Promise<IdTokenRewrite> {
      const { privateKey } = await generateKeyPair('RS256');
      return resign(c => c, privateKey, 'not-a-key-of-this-tenant');
    },
    unsigned: (async idToken => {
      const enc = (o: object) =>
        Buffer.from(JSON.stringify(o)).toString('base64url');
      return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(decodeJwt(idToken))}.`;
    }) as IdTokenRewrite,
    close: () => new Promise<void>(r => server.close(() => r())),
  };
}
