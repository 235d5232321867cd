import { EntraEmulator } from '../emulator';
import { LoadedSeedApp } from '../types';

/** Seed keys of the pipeline apps: service principals that are group members. */
export type PipelineKey =
  | 'payments-pipeline'
  | 'search-pipeline'
  | 'stray-pipeline'
  | 'fabrikam-pipeline';

/**
 * A seeded pipeline app: its app id, service principal object id (the `oid`
 * of its tokens), first client secret and the tenant it is registered in.
 */
export function pipelineApp(
  emulator: EntraEmulator,
  key: PipelineKey,
): {
  appId: string;
  servicePrincipalId: string;
  clientSecret: string;
  tenantId: string;
} {
  const home = emulator.seed.apps.find(a => a.key === key);
  const foreign = (emulator.seed.otherTenants ?? [])
    .map(t => ({ t, app: t.apps.find(a => a.key === key) }))
    .find(x => x.app);
  const app: LoadedSeedApp | undefined = home ?? foreign?.app;
  if (!app?.servicePrincipal) {
    throw new Error(`The seed has no pipeline app '${key}'`);
  }
  return {
    appId: app.clientId,
    servicePrincipalId: app.servicePrincipal.id,
    clientSecret: app.clientSecrets[0],
    tenantId: home ? emulator.tenantId : foreign!.t.tenant.id,
  };
}

/**
 * A client-credentials token of a seeded pipeline app, by default for the
 * portal's own API (`api://<portal>/.default`) from the app's own tenant,
 * as `@azure/identity`'s `ClientSecretCredential` would get it. Throws with
 * Entra's answer when refused.
 */
export async function pipelineAppToken(
  emulator: EntraEmulator,
  key: PipelineKey,
  opts: { scope?: string; tenantId?: string } = {},
): Promise<string> {
  const app = pipelineApp(emulator, key);
  const tenant = opts.tenantId ?? app.tenantId;
  const res = await fetch(`${emulator.httpUrl}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: app.appId,
      client_secret: app.clientSecret,
      scope: opts.scope ?? `api://${emulator.apps.portal.clientId}/.default`,
    }).toString(),
  });
  const body = await res.json();
  if (res.status !== 200) {
    throw new Error(
      `Token request for ${key} failed: ${res.status} ${body.error}: ${body.error_description}`,
    );
  }
  return body.access_token as string;
}
