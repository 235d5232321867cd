import { ConfidentialClientApplication } from '@azure/msal-node';
import { ConfigReader } from '@backstage/config';
import { decodeJwt } from 'jose';
import { ENTRA_CLOUDS, isMicrosoftLoginUrl } from '@internal/entra-cloud';
import {
  EntraAppCredential,
  readEntraAppCredential,
} from '@internal/entra-credentials';
import { credentialCheck, credentialExpiryCheck } from './credentialChecks';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the doctor checks: the portal's Entra settings. */
export interface DoctorInput {
  tenantId?: string;
  clientId?: string;
  /** The app's credential: exactly one of these four (AZURE_* variables). */
  clientSecret?: string;
  clientSecretFile?: string;
  clientCertificatePath?: string;
  federatedTokenFile?: string;
  /** The audience the federated token must carry (default api://AzureADTokenExchange). */
  federatedTokenAudience?: string;
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
  /** Passed, but needs attention soon (e.g. a credential expiring in days). */
  warning?: boolean;
  detail: string;
}

/** The variable each credential key is read from, as errors name them. */
const CREDENTIAL_VARIABLES: Record<string, string> = {
  clientSecret: 'AZURE_CLIENT_SECRET',
  clientSecretFile: 'AZURE_CLIENT_SECRET_FILE',
  clientCertificatePath: 'AZURE_CLIENT_CERTIFICATE_PATH',
  federatedTokenFile: 'AZURE_FEDERATED_TOKEN_FILE',
};

function readCredential(input: DoctorInput): EntraAppCredential | string {
  try {
    return readEntraAppCredential(
      new ConfigReader({
        ...(input.clientSecret && { clientSecret: input.clientSecret }),
        ...(input.clientSecretFile && {
          clientSecretFile: input.clientSecretFile,
        }),
        ...(input.clientCertificatePath && {
          clientCertificatePath: input.clientCertificatePath,
        }),
        ...(input.federatedTokenFile && {
          federatedTokenFile: input.federatedTokenFile,
        }),
        ...(input.federatedTokenAudience && {
          federatedTokenAudience: input.federatedTokenAudience,
        }),
      }),
      {
        clientId: input.clientId ?? '',
        keyName: key => CREDENTIAL_VARIABLES[key] ?? key,
      },
    );
  } catch (error) {
    return (error as Error).message;
  }
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
  const add2 = (check: DoctorCheck) => {
    checks.push(check);
    return check.ok;
  };

  const credential = readCredential(input);
  const settingsOk = add(
    'settings',
    !!input.tenantId &&
      GUID.test(input.tenantId) &&
      !!input.clientId &&
      GUID.test(input.clientId) &&
      typeof credential !== 'string',
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
      typeof credential === 'string' ? credential : '',
    ]
      .filter(Boolean)
      .join('; ') ||
      `tenant id, client id and a ${
        (credential as EntraAppCredential).kind
      } credential are set`,
  );
  if (!settingsOk) return checks;
  const app = credential as EntraAppCredential;
  const credentialOk = add2(credentialCheck(app));
  if (!credentialOk) return checks;

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

  const msal = new ConfidentialClientApplication({
    auth: {
      clientId: input.clientId!,
      ...app.msalAuth(),
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
    const result = await msal.acquireTokenByClientCredential({
      scopes: [`${graphOrigin}/.default`],
    });
    accessToken = result?.accessToken;
    add(
      'client credentials',
      !!accessToken,
      `the client id and ${app.kind} credential get an app-only Graph token`,
    );
  } catch (error) {
    const message = (error as Error).message;
    add(
      'client credentials',
      false,
      `${refusalHint(message, app)} (${message.split('\n')[0]})`,
    );
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

  if (accessToken) {
    add2(await credentialExpiryCheck(app, graphUrl, accessToken));
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

/** What to change when Entra refuses the app's credential, by AADSTS code. */
function refusalHint(message: string, app: EntraAppCredential): string {
  const d = app.describe();
  if (/AADSTS700016/.test(message)) {
    return 'no app with this client id in the tenant: check AZURE_CLIENT_ID and AZURE_TENANT_ID';
  }
  if (/AADSTS700027/.test(message)) {
    return `Entra does not accept the certificate ${d.thumbprint}: upload its public part to the app (Certificates & secrets → Certificates, or az ad app credential reset --append --cert @cert.pem)`;
  }
  if (/AADSTS70021\b|AADSTS700211|AADSTS700212|AADSTS700213/.test(message)) {
    return `no federated identity credential of the app matches the token (issuer ${d.tokenIssuer}, subject ${d.tokenSubject}): add one with az ad app federated-credential create`;
  }
  if (/AADSTS700024/.test(message)) {
    return 'Entra says the assertion expired: check the clock, or that the token file is refreshed';
  }
  if (/AADSTS7000215|AADSTS7000222|invalid_client/.test(message)) {
    return app.kind === 'secret'
      ? 'the client secret is wrong or expired: create a new one (Certificates & secrets) and set AZURE_CLIENT_SECRET to its value'
      : `Entra refused the ${app.kind} credential`;
  }
  return 'see the message';
}
