import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  AuthenticationError,
  ConflictError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import {
  AuthResolverContext,
  createSignInResolverFactory,
  OAuthAuthenticatorResult,
  SignInInfo,
} from '@backstage/plugin-auth-node';
// The same zod API as @backstage/plugin-auth-node's resolver factories.
import { z } from 'zod/v3';
import { EntraAuthResult } from './authenticator';
import { refusal } from './signInAudit';

/** The annotation org ingestion writes: the person's Entra object id. */
export const ENTRA_USER_ID_ANNOTATION = 'graph.microsoft.com/user-id';

/**
 * The tenant annotation of upstream's msgraph transformers. Org ingestion
 * writes it on the tenant's root group only; a fork that ingests several
 * tenants may write it on users, and then it must match the token's `tid`.
 */
export const ENTRA_TENANT_ID_ANNOTATION = 'graph.microsoft.com/tenant-id';

type Info = SignInInfo<OAuthAuthenticatorResult<EntraAuthResult>>;

function describe(info: Info) {
  const { name, preferred_username: upn, oid } = info.result.fullProfile.claims;
  return `${name ?? upn ?? 'This account'}${
    upn ? ` (${upn})` : ''
  }, object id ${oid}`;
}

/**
 * Whether the token is a B2B guest's. Entra's optional `acct` claim is 1 for
 * guests; without it, a guest is told apart by `idp`, the home tenant (or
 * consumer provider) they authenticated at, which Entra sends only when it is
 * not the resource tenant itself.
 */
function isGuest(claims: Info['result']['fullProfile']['claims']) {
  const { acct, idp, tid } = claims;
  if (acct !== undefined && String(acct) === '1') return true;
  if (typeof idp !== 'string' || idp === '') return false;
  const ownIssuers = [claims.iss, `https://sts.windows.net/${tid}/`].map(i =>
    i.replace(/\/+$/, '').toLowerCase(),
  );
  return !ownIssuers.includes(idp.replace(/\/+$/, '').toLowerCase());
}

/**
 * The one catalog User carrying `email`, after proving it is the person who
 * signed in: its object id (and tenant, when annotated) must be the token's.
 * An email is only the lookup key; it never decides who someone is.
 */
async function findUserByEmail(info: Info, ctx: AuthResolverContext) {
  const { email, oid, tid } = info.result.fullProfile.claims;
  // Another account's User answers exactly as no User would: the caller
  // learns nothing about who else carries the address. NotFoundError also
  // lets a resolver listed after this one try.
  const notFound = () =>
    refusal(
      'not-in-catalog',
      new NotFoundError(
        `${describe(
          info,
        )}: the portal's catalog has no User with this person's email and ` +
          `${ENTRA_USER_ID_ANNOTATION}=${oid}. Ask a portal admin to check that org ingestion includes you.`,
      ),
    );
  let entity;
  try {
    ({ entity } = await ctx.findCatalogUser({
      filter: { 'spec.profile.email': String(email) },
    }));
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'NotFoundError') throw notFound();
    if (name !== 'ConflictError') throw error;
    // Naming the address or the accounts would tell the caller who else
    // uses it; the operator finds them with a catalog search.
    throw refusal(
      'email-ambiguous',
      new ConflictError(
        `Object id ${oid}: more than one catalog User carries this person's email, ` +
          'so the email resolver cannot tell who they are and refuses sign-in. ' +
          'Give the address to one User only, or sign in with userIdMatchingUserEntityAnnotation.',
      ),
    );
  }
  const annotations = entity.metadata.annotations ?? {};
  const tenant = annotations[ENTRA_TENANT_ID_ANNOTATION];
  if (
    annotations[ENTRA_USER_ID_ANNOTATION] !== oid ||
    (tenant !== undefined && tenant !== tid)
  ) {
    throw notFound();
  }
  return entity;
}

/**
 * Sign-in resolvers of the Entra provider. Identity is the verified ID
 * token's `oid` in an admitted `tid` (checked by the authenticator); email and
 * UPN are mutable and, in Entra, not necessarily verified, so they decide
 * nothing unless an operator opts in to the email resolver below.
 */
export const entraSignInResolvers = {
  /**
   * The default: the catalog User whose `graph.microsoft.com/user-id`
   * annotation equals the token's `oid`.
   */
  userIdMatchingUserEntityAnnotation: createSignInResolverFactory({
    create() {
      return async (info: Info, ctx) => {
        const { oid } = info.result.fullProfile.claims;
        try {
          return await ctx.signInWithCatalogUser({
            annotations: { [ENTRA_USER_ID_ANNOTATION]: oid },
          });
        } catch (error) {
          if ((error as Error).name !== 'NotFoundError') throw error;
          throw refusal(
            'not-in-catalog',
            new NotFoundError(
              `${describe(
                info,
              )}, signed in with Microsoft Entra ID, but the portal's catalog has no User ` +
                `with annotation ${ENTRA_USER_ID_ANNOTATION}=${oid}. Ask a portal admin to check that org ingestion includes you.`,
            ),
          );
        }
      };
    },
  }),

  /**
   * Opt-in: matches the catalog User's profile email, only when Entra
   * asserts the email domain is verified by its owner (`xms_edov`), the
   * domain is in `allowedDomains`, the person is a member (not a B2B guest)
   * and the one matching User's object id and tenant are the token's.
   */
  verifiedEmailMatchingUserEntityProfileEmail: createSignInResolverFactory({
    optionsSchema: z.object({ allowedDomains: z.array(z.string()).min(1) }),
    create({ allowedDomains }) {
      const domains = new Set(allowedDomains.map(d => d.toLowerCase()));
      return async (info: Info, ctx) => {
        const { email, xms_edov: verified } = info.result.fullProfile.claims;
        if (verified !== true && verified !== '1' && verified !== 'true') {
          throw refusal(
            'email-unverified',
            new AuthenticationError(
              `${describe(
                info,
              )}: the email claim is not verified (no xms_edov), so it cannot identify the person.`,
            ),
          );
        }
        const domain = String(email ?? '')
          .split('@')[1]
          ?.toLowerCase();
        if (!email || !domain || !domains.has(domain)) {
          throw refusal(
            'email-domain-not-allowed',
            new AuthenticationError(
              `${describe(info)}: email domain '${
                domain ?? ''
              }' is not in allowedDomains of this resolver.`,
            ),
          );
        }
        // A guest's email is whatever the inviter typed, possibly an
        // employee's address; guests sign in by object id only.
        if (isGuest(info.result.fullProfile.claims)) {
          throw refusal(
            'guest-not-allowed',
            new NotAllowedError(
              `${describe(
                info,
              )} is a guest (B2B) account; the email resolver signs in members of the tenant only. ` +
                'Guests sign in with userIdMatchingUserEntityAnnotation when org ingestion includes them.',
            ),
          );
        }
        const entity = await findUserByEmail(info, ctx);
        return ctx.signInWithCatalogUser({
          entityRef: stringifyEntityRef(entity),
        });
      };
    },
  }),
};
