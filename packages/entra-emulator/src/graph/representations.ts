import { SeedApp, SeedGroup, SeedUser } from '../types';

/** Properties Graph returns for a user when no `$select` is given. */
export const DEFAULT_USER_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];

/** A Graph object: plain JSON with its `@odata.type`. */
export type GraphObject = Record<string, unknown> & { id: string };

/** The full Graph representation of a seeded user. */
export function userResource(u: SeedUser): GraphObject {
  return {
    '@odata.type': '#microsoft.graph.user',
    id: u.id,
    businessPhones: u.businessPhones ?? [],
    displayName: u.displayName,
    givenName: u.givenName ?? null,
    jobTitle: u.jobTitle ?? null,
    mail: u.mail ?? null,
    mobilePhone: u.mobilePhone ?? null,
    officeLocation: u.officeLocation ?? null,
    preferredLanguage: u.preferredLanguage ?? null,
    surname: u.surname ?? null,
    userPrincipalName: u.userPrincipalName,
    accountEnabled: u.accountEnabled !== false,
    userType: u.userType ?? 'Member',
    department: u.department ?? null,
    mailNickname: u.userPrincipalName.split('@')[0],
  };
}

/** The Graph representation of a seeded group. */
export function groupResource(g: SeedGroup): GraphObject {
  return {
    '@odata.type': '#microsoft.graph.group',
    id: g.id,
    displayName: g.displayName,
    description: g.description ?? null,
    mail: g.mail ?? null,
    mailEnabled: g.mailEnabled ?? false,
    mailNickname: g.mailNickname ?? g.displayName.replace(/[^A-Za-z0-9]/g, ''),
    securityEnabled: g.securityEnabled ?? true,
    groupTypes: [],
    visibility: null,
  };
}

/**
 * The Graph representation of a seeded app's service principal, with the
 * properties Graph's `servicePrincipal` resource returns by default that a
 * reader of group members uses. `tenantId`: where the app is registered.
 */
export function servicePrincipalResource(
  app: SeedApp,
  tenantId: string,
): GraphObject {
  const sp = app.servicePrincipal!;
  return {
    '@odata.type': '#microsoft.graph.servicePrincipal',
    id: sp.id,
    accountEnabled: sp.accountEnabled !== false,
    appDisplayName: app.displayName,
    appId: app.clientId,
    appOwnerOrganizationId: tenantId,
    displayName: app.displayName,
    servicePrincipalNames: [
      app.clientId,
      `api://${app.clientId}`,
      ...(app.identifierUris ?? []),
    ],
    servicePrincipalType: sp.servicePrincipalType ?? 'Application',
    signInAudience: app.signInAudience ?? 'AzureADMyOrg',
    tags: [],
  };
}

/**
 * Applies `$select`. Without it, users get Graph's default property set;
 * `@odata.type` is kept only when `keepType` (members of a group), like Graph.
 */
export function project(
  obj: GraphObject,
  select: string[] | undefined,
  keepType: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (keepType) out['@odata.type'] = obj['@odata.type'];
  const isUser = obj['@odata.type'] === '#microsoft.graph.user';
  const wanted =
    select ?? (isUser ? DEFAULT_USER_PROPERTIES : Object.keys(obj));
  for (const key of wanted) {
    if (key === '@odata.type') continue;
    const actual = Object.keys(obj).find(
      k => k.toLowerCase() === key.toLowerCase(),
    );
    if (actual) out[actual] = obj[actual];
  }
  return out;
}
