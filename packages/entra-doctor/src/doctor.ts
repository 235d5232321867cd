import { ConfidentialClientApplication } from '@azure/msal-node';
import { decodeJwt } from 'jose';
import { ENTRA_CLOUDS, isMicrosoftLoginUrl } from '@internal/entra-cloud';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the doctor checks: the portal's Entra settings. */
export interface DoctorInput {
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** Sign-in host, e.g. https://login.microsoftonline.com (default) or the emulator's. */
  authorityHost?: string;
  /** Graph base URL, e.g. https://graph.microsoft.com/v1.0 */
  graphUrl?: string;
  /** The callback URL the backend uses; must be registered on the app. */
  redirectUri: string;
}

/** One check: what was checked, whether it passed, and what to change if not. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** Graph application roles org ingestion needs, with accepted broader ones. */
const REQUIRED_ROLES: Array<{ need: string; alternatives: string[] }> = [
  { need: 'User.Read.All', alternatives: ['Directory.Read.All'] },
  {
    need: 'GroupMember.Read.All',
    alternatives: ['Group.Read.All', 'Directory.Read.All'],
  },
];

/**
 * Checks the configuration and the tenant, in the order a failure explains
 * the next: settings, metadata, client credentials, Graph permissions,
 * redirect URI, a Graph read. Later checks are skipped (reported as failed
 * with the reason) when an earlier one makes them meaningless.
 */
export async function runDoctor(input: DoctorInput): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const add = (name: string, ok: boolean, detail: string) => {
    checks.push({ name, ok, detail });
    return ok;
  };

  const settingsOk = add(
    'settings',
    !!input.tenantId &&
      GUID.test(input.tenantId) &&
      !!input.clientId &&
      GUID.test(input.clientId) &&
      !!input.clientSecret,
    [
      !input.tenantId || !GUID.test(input.tenantId)
        ? `AZURE_TENANT_ID must be the directory (tenant) id, a GUID (got '${
            input.tenantId ?? ''
          }')`
        : '',
      !input.clientId || !GUID.test(input.clientId)
        ? `AZURE_CLIENT_ID must be the application (client) id, a GUID (got '${
            input.clientId ?? ''
          }')`
        : '',
      !input.clientSecret ? 'AZURE_CLIENT_SECRET is not set' : '',
    ]
      .filter(Boolean)
      .join('; ') || 'tenant id, client id and secret are set',
  );
  if (!settingsOk) return checks;

  const host = (input.authorityHost ?? ENTRA_CLOUDS.public.loginHost).replace(
    /\/+$/,
    '',
  );
  const authority = `${host}/${input.tenantId}`;
  const graphUrl = (
    input.graphUrl ?? 'https://graph.microsoft.com/v1.0'
  ).replace(/\/+$/, '');
  const metadataUrl = `${authority}/v2.0/.well-known/openid-configuration`;

  let metadata: { issuer?: string; authorization_endpoint?: string } = {};
  try {
    const res = await fetch(metadataUrl);
    metadata = await res.json();
    add(
      'metadata',
      res.ok && !!metadata.issuer?.includes(input.tenantId!),
      res.ok
        ? `${metadataUrl} answers, issuer ${metadata.issuer}`
        : `${metadataUrl} answered ${res.status}: check AZURE_TENANT_ID`,
    );
  } catch (error) {
    add(
      'metadata',
      false,
      `${metadataUrl} cannot be reached (${
        (error as Error).message
      }): check the network and the authority`,
    );
    return checks;
  }

  const app = new ConfidentialClientApplication({
    auth: {
      clientId: input.clientId!,
      clientSecret: input.clientSecret,
      authority,
      // A host MSAL does not know (the emulator) is trusted as given,
      // instead of being validated against Microsoft's public discovery.
      ...(isMicrosoftLoginUrl(host)
        ? {}
        : { knownAuthorities: [new URL(host).host] }),
    },
  });
  let accessToken: string | undefined;
  try {
    const graphOrigin = new URL(graphUrl).origin;
    const result = await app.acquireTokenByClientCredential({
      scopes: [`${graphOrigin}/.default`],
    });
    accessToken = result?.accessToken;
    add(
      'client credentials',
      !!accessToken,
      'the client id and secret get an app-only Graph token',
    );
  } catch (error) {
    const message = (error as Error).message;
    let hint = 'see the message';
    if (/AADSTS7000215|invalid_client/.test(message)) {
      hint =
        'the client secret is wrong or expired: create a new one (Certificates & secrets) and set AZURE_CLIENT_SECRET to its value';
    } else if (/AADSTS700016/.test(message)) {
      hint =
        'no app with this client id in the tenant: check AZURE_CLIENT_ID and AZURE_TENANT_ID';
    }
    add('client credentials', false, `${hint} (${message.split('\n')[0]})`);
  }

  if (accessToken) {
    const roles = (decodeJwt(accessToken).roles as string[] | undefined) ?? [];
    const missing = REQUIRED_ROLES.filter(
      r => ![r.need, ...r.alternatives].some(x => roles.includes(x)),
    ).map(r => r.need);
    add(
      'graph permissions',
      missing.length === 0,
      missing.length === 0
        ? `application roles: ${roles.join(', ')}`
        : `missing application permission(s) ${missing.join(
            ', ',
          )}: add them under API permissions → Microsoft Graph → Application, then grant admin consent`,
    );
  } else {
    add('graph permissions', false, 'skipped: no app-only token');
  }

  if (metadata.authorization_endpoint) {
    const url = new URL(metadata.authorization_endpoint);
    url.search = new URLSearchParams({
      client_id: input.clientId!,
      response_type: 'code',
      redirect_uri: input.redirectUri,
      scope: 'openid',
      state: 'doctor',
    }).toString();
    const res = await fetch(url, { redirect: 'manual' });
    // Entra shows the error page (200 or 400) instead of redirecting.
    const redirected = res.status >= 300 && res.status < 400;
    const body = redirected ? '' : await res.text();
    const mismatch =
      /AADSTS50011/.test(body) ||
      /AADSTS50011/.test(res.headers.get('location') ?? '');
    add(
      'redirect uri',
      !mismatch && res.status < 400,
      mismatch
        ? `${input.redirectUri} is not a redirect URI of the app: add it under Authentication → Web`
        : `${input.redirectUri} is registered`,
    );
  }

  if (accessToken) {
    const res = await fetch(`${graphUrl}/users?$top=1&$select=id`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    add(
      'graph read',
      res.ok,
      res.ok
        ? `${graphUrl}/users answers`
        : `${graphUrl}/users answered ${res.status}: ${(await res.text()).slice(
            0,
            200,
          )}`,
    );
  }
  return checks;
}
