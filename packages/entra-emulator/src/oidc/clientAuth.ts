import { Request } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { Directory } from '../seed/directory';
import { SeedApp } from '../types';
import { aadsts } from './errors';

/**
 * Authenticates the calling application with `client_secret_basic` or
 * `client_secret_post`, the two methods openid-client, MSAL and
 * @azure/identity use with secrets.
 */
export function authenticateClient(
  req: Request,
  directory: Directory,
): SeedApp {
  let clientId: string | undefined = req.body?.client_id;
  let secret: string | undefined = req.body?.client_secret;
  const header = req.headers.authorization;
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const sep = decoded.indexOf(':');
    clientId = decodeURIComponent(decoded.slice(0, sep));
    secret = decodeURIComponent(decoded.slice(sep + 1));
  }
  if (!clientId) throw aadsts.missingParameter('client_id');
  const app = directory.app(clientId);
  if (!app) throw aadsts.unknownClient(clientId);
  if (!secret) throw aadsts.missingSecret();
  const ok = (app.clientSecrets ?? []).some(s => safeEqual(s, secret!));
  if (!ok) throw aadsts.invalidSecret(clientId);
  return app;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
