import { Request } from 'express';
import { EmulatorContext } from '../context';
import { AppCredentials } from '../credentials/appCredentials';
import { sendCollection, readSelect } from './collection';
import { graphErrors } from './errors';
import { GraphObject, project } from './representations';

/** Application permissions that may read application objects. */
export const READ_APPLICATIONS = [
  'Application.Read.All',
  'Application.ReadWrite.All',
  'Directory.Read.All',
];

/**
 * Graph's `application` resource, the subset that tells an operator how an
 * app authenticates and when its credentials expire. Secret values are never
 * returned (`secretText: null`, only a three-character `hint`), and
 * certificates are named by their SHA-1 thumbprint (`customKeyIdentifier`).
 */
export function applicationResource(creds: AppCredentials): GraphObject {
  const { app } = creds;
  return {
    '@odata.type': '#microsoft.graph.application',
    id: creds.objectId,
    appId: app.clientId,
    displayName: app.displayName,
    signInAudience: app.signInAudience ?? 'AzureADMyOrg',
    identifierUris: app.identifierUris ?? [`api://${app.clientId}`],
    passwordCredentials: creds.passwords.map(p => ({
      customKeyIdentifier: null,
      displayName: p.displayName,
      endDateTime: p.endDateTime,
      hint: p.value.slice(0, 3),
      keyId: p.keyId,
      secretText: null,
      startDateTime: p.startDateTime,
    })),
    keyCredentials: creds.keys.map(k => ({
      customKeyIdentifier: k.thumbprintSha1Hex,
      displayName: k.displayName,
      endDateTime: k.notAfter.toISOString(),
      key: null,
      keyId: k.keyId,
      startDateTime: k.notBefore.toISOString(),
      type: 'AsymmetricX509Cert',
      usage: 'Verify',
    })),
  };
}

/**
 * `/applications`, `/applications/{id}`, `/applications(appId='{appId}')`
 * and their `/federatedIdentityCredentials`. `segments` start at the
 * `applications…` segment.
 */
export function applicationRoutes(
  ctx: EmulatorContext,
  req: Request,
  segments: string[],
): unknown {
  const [first, ...rest] = segments;
  const all = ctx.credentials.all();
  let creds: AppCredentials | undefined;
  if (first === 'applications' && rest.length === 0) {
    return sendCollection(ctx, req, all.map(applicationResource), {
      keepType: false,
    });
  }
  const byAppId = /^applications\(appId='([^']*)'\)$/i.exec(first);
  if (byAppId) {
    creds = all.find(
      c => c.app.clientId.toLowerCase() === byAppId[1].toLowerCase(),
    );
    if (!creds) throw graphErrors.notFound(byAppId[1]);
  } else if (first === 'applications' && rest.length > 0) {
    const id = rest.shift()!;
    creds = all.find(c => c.objectId === id.toLowerCase());
    if (!creds) throw graphErrors.notFound(id);
  } else {
    throw graphErrors.noRoute(first);
  }
  if (rest.length === 0) {
    return {
      '@odata.context': `${ctx.urls.graphBaseUrl}/$metadata#applications/$entity`,
      ...project(applicationResource(creds), readSelect(req), false),
    };
  }
  if (rest.length === 1 && rest[0] === 'federatedIdentityCredentials') {
    return {
      '@odata.context': `${ctx.urls.graphBaseUrl}/$metadata#applications('${creds.objectId}')/federatedIdentityCredentials`,
      value: creds.federated.map(f => ({ ...f })),
    };
  }
  throw graphErrors.noRoute(rest.join('/'));
}
