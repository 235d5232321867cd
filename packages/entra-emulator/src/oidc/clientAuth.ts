import { Request } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { EmulatorContext } from '../context';
import { ClientAuthMethod, SeedApp } from '../types';
import { decodeAssertion, DecodedAssertion } from './assertionClaims';
import { verifyCertificateAssertion } from './certificateAssertion';
import { aadsts } from './errors';
import { verifyFederatedAssertion } from './federatedAssertion';

/** The only `client_assertion_type` Entra accepts. */
export const JWT_BEARER_ASSERTION =
  'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The client a token request authenticated, and how. */
export interface AuthenticatedClient {
  app: SeedApp;
  method: ClientAuthMethod;
}

interface PresentedCredentials {
  clientId?: string;
  secret?: string;
  assertion?: string;
  assertionType?: string;
}

function presented(req: Request): PresentedCredentials {
  const body = req.body ?? {};
  const out: PresentedCredentials = {
    clientId: str(body.client_id),
    secret: str(body.client_secret),
    assertion: str(body.client_assertion),
    assertionType: str(body.client_assertion_type),
  };
  const header = req.headers.authorization;
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const sep = decoded.indexOf(':');
    out.clientId = decodeURIComponent(decoded.slice(0, sep));
    out.secret = decodeURIComponent(decoded.slice(sep + 1));
  }
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * Whether an assertion is the client's own (signed with its certificate) or
 * another issuer's (federated): Entra tells them apart the same way, by a
 * certificate thumbprint in the header or `iss` naming the client.
 */
function assertionKind(
  decoded: DecodedAssertion,
  clientId: string | undefined,
): 'certificate' | 'federated' {
  const { header, claims } = decoded;
  if (header.x5t !== undefined || header['x5t#S256'] !== undefined) {
    return 'certificate';
  }
  const self = clientId ?? claims.sub;
  return claims.iss !== undefined && claims.iss === self
    ? 'certificate'
    : 'federated';
}

/**
 * The client authentication a request carries, for the request log; never
 * throws, so a refused request is recorded too.
 */
export function presentedClientAuth(
  req: Request,
): ClientAuthMethod | undefined {
  const p = presented(req);
  if (p.assertion) {
    try {
      return assertionKind(decodeAssertion(p.assertion), p.clientId);
    } catch {
      return undefined;
    }
  }
  return p.secret ? 'secret' : undefined;
}

/**
 * Authenticates the calling application as Entra's token endpoint does:
 * `client_secret_basic`/`client_secret_post` against the app's unexpired
 * secrets, or `client_assertion` (jwt-bearer) signed with one of its
 * certificates (private_key_jwt) or issued by an external issuer it trusts
 * (workload identity federation).
 */
export async function authenticateClient(
  ctx: EmulatorContext,
  req: Request,
): Promise<AuthenticatedClient> {
  const p = presented(req);
  if (p.assertion || p.assertionType) {
    if (p.secret) {
      throw aadsts.malformedRequest(
        'Send either client_secret or client_assertion, not both.',
      );
    }
    if (p.assertionType !== JWT_BEARER_ASSERTION) {
      throw p.assertionType
        ? aadsts.malformedRequest(
            `client_assertion_type must be '${JWT_BEARER_ASSERTION}'.`,
          )
        : aadsts.missingParameter('client_assertion_type');
    }
    if (!p.assertion) throw aadsts.missingParameter('client_assertion');
    const decoded = decodeAssertion(p.assertion);
    const kind = assertionKind(decoded, p.clientId);
    // A certificate assertion names its client; a federated one does not.
    const clientId =
      p.clientId ??
      (kind === 'certificate' && typeof decoded.claims.sub === 'string'
        ? decoded.claims.sub
        : undefined);
    if (!clientId) throw aadsts.missingParameter('client_id');
    const app = requireApp(ctx, clientId);
    const creds = ctx.credentials.find(app.clientId)!;
    if (kind === 'certificate') {
      await verifyCertificateAssertion(ctx, creds, p.assertion, decoded);
    } else {
      await verifyFederatedAssertion(
        ctx.issuerKeys,
        creds,
        p.assertion,
        decoded,
      );
    }
    return { app, method: kind };
  }

  if (!p.clientId) throw aadsts.missingParameter('client_id');
  const app = requireApp(ctx, p.clientId);
  if (!p.secret) throw aadsts.missingSecret();
  const match = ctx.credentials
    .find(app.clientId)!
    .passwords.find(s => safeEqual(s.value, p.secret!));
  if (!match) throw aadsts.invalidSecret(app.clientId);
  if (Date.parse(match.endDateTime) < Date.now()) {
    throw aadsts.expiredSecret(app.clientId);
  }
  return { app, method: 'secret' };
}

function requireApp(ctx: EmulatorContext, clientId: string): SeedApp {
  const app = ctx.directory.app(clientId);
  if (!app) throw aadsts.unknownClient(clientId);
  return app;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
