import { randomUUID } from 'node:crypto';
import { Response } from 'express';

/** An OAuth error in Entra's shape, with its AADSTS code. */
export class EntraOAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly aadsts: number,
    readonly description: string,
  ) {
    super(`AADSTS${aadsts}: ${description}`);
  }
}

/** The JSON body Entra's token endpoint answers errors with. */
export function entraErrorBody(e: EntraOAuthError) {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').slice(0, 19);
  return {
    error: e.error,
    error_description: `AADSTS${e.aadsts}: ${e.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}Z`,
    error_codes: [e.aadsts],
    timestamp: `${timestamp}Z`,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${e.aadsts}`,
  };
}

/** Sends `e` as Entra does: JSON with `error`, `error_description`, `error_codes`, `trace_id`. */
export function sendEntraError(res: Response, e: EntraOAuthError) {
  res.status(e.status).set('Cache-Control', 'no-store').json(entraErrorBody(e));
}

const CERT_CREDENTIALS_DOC =
  'Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .';
const FEDERATION_DOC =
  'Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation';

function keysHint(clientId: string) {
  return `Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/${clientId}'`;
}

/** Entra's `Start=…, End=…` rendering of a key's validity (US date, 24 h clock). */
function keyPeriod(start: Date, end: Date) {
  const f = (d: Date) => {
    const p = (n: number) => String(n).padStart(2, '0');
    return `${p(d.getUTCMonth() + 1)}/${p(
      d.getUTCDate(),
    )}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(
      d.getUTCSeconds(),
    )}`;
  };
  return `Start=${f(start)}, End=${f(end)}`;
}

/** The AADSTS errors the emulator reproduces. */
export const aadsts = {
  expiredSecret: (clientId: string) =>
    new EntraOAuthError(
      401,
      'invalid_client',
      7000222,
      `The provided client secret keys for app '${clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
    ),
  // Entra's generic refusal of a malformed request, here for an assertion
  // whose type is not jwt-bearer or a request carrying two client credentials.
  malformedRequest: (why: string) =>
    new EntraOAuthError(
      400,
      'invalid_request',
      9002313,
      `Invalid request. Request is malformed or invalid. ${why}`,
    ),
  malformedAssertion: () =>
    new EntraOAuthError(
      400,
      'invalid_request',
      50027,
      'JWT token is invalid or malformed.',
    ),
  unsupportedAssertionAlgorithm: (alg: string) =>
    new EntraOAuthError(
      401,
      'invalid_client',
      5002738,
      `Invalid JWT token. '${alg}' is not a supported signature algorithm. Supported signing algorithms are: 'RS256,PS256'`,
    ),
  assertionClientMismatch: () =>
    new EntraOAuthError(
      401,
      'invalid_client',
      700021,
      `Client assertion application identifier doesn't match 'client_id' parameter. ${CERT_CREDENTIALS_DOC}`,
    ),
  clientAssertionAudience: () =>
    new EntraOAuthError(
      401,
      'invalid_client',
      700023,
      `Client assertion audience claim does not match Realm issuer. ${CERT_CREDENTIALS_DOC}`,
    ),
  assertionTime: (now: Date, nbf?: number, exp?: number) =>
    new EntraOAuthError(
      401,
      'invalid_client',
      700024,
      `Client assertion is not within its valid time range. Current time: ${now.toISOString()}, assertion valid from ${
        nbf === undefined ? 'unspecified' : new Date(nbf * 1000).toISOString()
      }, expiry time of assertion ${
        exp === undefined ? 'unspecified' : new Date(exp * 1000).toISOString()
      }. ${CERT_CREDENTIALS_DOC}`,
    ),
  assertionMissingClaim: (claim: string) =>
    new EntraOAuthError(
      401,
      'invalid_client',
      700027,
      `Client assertion failed signature validation. [Reason - The assertion has no '${claim}' claim.] ${CERT_CREDENTIALS_DOC}`,
    ),
  certificateNotRegistered: (clientId: string, thumbprintHex?: string) =>
    new EntraOAuthError(
      401,
      'invalid_client',
      700027,
      `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., ${
        thumbprintHex
          ? `Thumbprint of key used by client: '${thumbprintHex}', `
          : ''
      }${keysHint(clientId)}]`,
    ),
  assertionBadSignature: (
    thumbprintHex: string,
    notBefore: Date,
    notAfter: Date,
  ) =>
    new EntraOAuthError(
      401,
      'invalid_client',
      700027,
      `Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '${thumbprintHex}', Found key '${keyPeriod(
        notBefore,
        notAfter,
      )}']`,
    ),
  assertionKeyExpired: (
    thumbprintHex: string,
    notBefore: Date,
    notAfter: Date,
  ) =>
    new EntraOAuthError(
      401,
      'invalid_client',
      700027,
      `Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '${thumbprintHex}', Found key '${keyPeriod(
        notBefore,
        notAfter,
      )}']`,
    ),
  federatedIssuer: (issuer: string) =>
    new EntraOAuthError(
      401,
      'invalid_client',
      700211,
      `No matching federated identity record found for presented assertion issuer '${issuer}'. ${FEDERATION_DOC}`,
    ),
  federatedAudience: (audience: string) =>
    new EntraOAuthError(
      401,
      'invalid_client',
      700212,
      `No matching federated identity record found for presented assertion audience '${audience}'. ${FEDERATION_DOC}`,
    ),
  federatedSubject: (subject: string) =>
    new EntraOAuthError(
      401,
      'invalid_client',
      700213,
      `No matching federated identity record found for presented assertion subject '${subject}'. ${FEDERATION_DOC}`,
    ),
  // Since 2025 Entra compares subjects case-sensitively and says so.
  federatedSubjectCase: (subject: string) =>
    new EntraOAuthError(
      401,
      'invalid_client',
      7002138,
      `No matching federated identity record found for presented assertion subject '${subject}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. See documentation at: https://learn.microsoft.com/entra/workload-id/workload-identity-federation.`,
    ),
  federatedKeyNotFound: (kid: string, issuer: string) =>
    new EntraOAuthError(
      401,
      'invalid_client',
      7000272,
      `The certificate with identifier ${kid} used to sign the federated credential could not be found in the metadata of identity provider ${issuer}. Please validate that your Identity Provider's metadata exposes the key used to sign the incoming token.`,
    ),
  federatedBadSignature: (issuer: string) =>
    new EntraOAuthError(
      401,
      'invalid_client',
      700027,
      `Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Issuer of the federated credential: '${issuer}']`,
    ),
  externalOidcFailed: () =>
    new EntraOAuthError(
      400,
      'invalid_request',
      50166,
      'Request to External OIDC endpoint failed.',
    ),
  unknownClient: (clientId: string, directoryName = 'Contoso') =>
    new EntraOAuthError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${directoryName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
    ),
  invalidSecret: (clientId: string) =>
    new EntraOAuthError(
      401,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
    ),
  missingSecret: () =>
    new EntraOAuthError(
      401,
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ),
  redirectMismatch: (uri: string, clientId: string) =>
    new EntraOAuthError(
      400,
      'invalid_request',
      50011,
      `The redirect URI '${uri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'.`,
    ),
  codeRedeemed: () =>
    new EntraOAuthError(
      400,
      'invalid_grant',
      54005,
      'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
    ),
  codeExpired: () =>
    new EntraOAuthError(
      400,
      'invalid_grant',
      70008,
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
    ),
  invalidGrant: (why: string) =>
    new EntraOAuthError(
      400,
      'invalid_grant',
      70000,
      `Provided grant is invalid or malformed. ${why}`,
    ),
  pkceMismatch: () =>
    new EntraOAuthError(
      400,
      'invalid_grant',
      501481,
      'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
    ),
  invalidScope: (scope: string) =>
    new EntraOAuthError(
      400,
      'invalid_scope',
      70011,
      `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
    ),
  defaultScopeRequired: (scope: string) =>
    new EntraOAuthError(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    ),
  unknownResource: (resource: string) =>
    new EntraOAuthError(
      400,
      'invalid_resource',
      500011,
      `The resource principal named ${resource} was not found in the tenant named Contoso. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
    ),
  consentRequired: (clientId: string, scope: string) =>
    new EntraOAuthError(
      400,
      'invalid_grant',
      65001,
      `The user or administrator has not consented to use the application with ID '${clientId}'. Send an interactive authorization request for this user and resource. Scope: ${scope}.`,
    ),
  unsupportedGrant: (grant: string) =>
    new EntraOAuthError(
      400,
      'unsupported_grant_type',
      70003,
      `The app requested an unsupported grant type '${grant}'.`,
    ),
  missingParameter: (name: string) =>
    new EntraOAuthError(
      400,
      'invalid_request',
      900144,
      `The request body must contain the following parameter: '${name}'.`,
    ),
  servicePrincipalDisabled: (clientId: string, displayName: string) =>
    new EntraOAuthError(
      400,
      'unauthorized_client',
      7000112,
      `Application '${clientId}'(${displayName}) is disabled.`,
    ),
  accountDisabled: () =>
    new EntraOAuthError(
      400,
      'invalid_grant',
      50057,
      'The user account is disabled.',
    ),
  unknownUser: (name: string) =>
    new EntraOAuthError(
      400,
      'invalid_request',
      50034,
      `The user account ${name} does not exist in the directory. To sign into this application, the account must be added to the directory.`,
    ),
  loginRequired: () =>
    new EntraOAuthError(
      400,
      'login_required',
      50058,
      'A silent sign-in request was sent but no user is signed in.',
    ),
  oboNotAllowedForApp: (clientId: string) =>
    new EntraOAuthError(
      400,
      'invalid_grant',
      7000114,
      `Application '${clientId}' is not allowed to make application on-behalf-of calls.`,
    ),
  // Entra's answer when an ID token is sent as the on-behalf-of assertion
  // (seen from MSAL and ADAL clients alike: invalid_request, 400).
  idTokenAsAssertion: () =>
    new EntraOAuthError(
      400,
      'invalid_request',
      240002,
      "Input id_token cannot be used as 'urn:ietf:params:oauth:grant-type:jwt-bearer' grant.",
    ),
  assertionAudience: () =>
    new EntraOAuthError(
      400,
      'invalid_grant',
      50013,
      'Assertion failed signature validation or its audience claim does not match the calling application.',
    ),
  notMultiTenant: (clientId: string, appName: string) =>
    new EntraOAuthError(
      400,
      'invalid_request',
      50194,
      `Application '${clientId}'(${appName}) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.`,
    ),
  noTenantInRequest: () =>
    new EntraOAuthError(
      400,
      'invalid_request',
      50059,
      'No tenant-identifying information found in either the request or implied by any provided credentials.',
    ),
  userNotInTenant: (
    upn: string,
    homeTenantId: string,
    tenantName: string,
    clientId: string,
    appName: string,
  ) =>
    new EntraOAuthError(
      400,
      'invalid_request',
      50020,
      `User account '${upn}' from identity provider 'https://sts.windows.net/${homeTenantId}/' does not exist in tenant '${tenantName}' and cannot access the application '${clientId}'(${appName}) in that tenant. The account needs to be added as an external user in the tenant first. Sign out and sign in again with a different Microsoft Entra user account.`,
    ),
  tenantMismatch: (tenant: string) =>
    new EntraOAuthError(
      400,
      'invalid_tenant',
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    ),
};
