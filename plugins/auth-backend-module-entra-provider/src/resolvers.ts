import { AuthenticationError, NotFoundError } from '@backstage/errors';
import {
  createSignInResolverFactory,
  OAuthAuthenticatorResult,
  SignInInfo,
} from '@backstage/plugin-auth-node';
// The same zod API as @backstage/plugin-auth-node's resolver factories.
import { z } from 'zod/v3';
import { EntraAuthResult } from './authenticator';

/** The annotation org ingestion writes: the person's Entra object id. */
export const ENTRA_USER_ID_ANNOTATION = 'graph.microsoft.com/user-id';

type Info = SignInInfo<OAuthAuthenticatorResult<EntraAuthResult>>;

function describe(info: Info) {
  const { name, preferred_username: upn, oid } = info.result.fullProfile.claims;
  return `${name ?? upn ?? 'This account'}${
    upn ? ` (${upn})` : ''
  }, object id ${oid}`;
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
          throw new NotFoundError(
            `${describe(
              info,
            )}, signed in with Microsoft Entra ID, but the portal's catalog has no User ` +
              `with annotation ${ENTRA_USER_ID_ANNOTATION}=${oid}. Ask a portal admin to check that org ingestion includes you.`,
          );
        }
      };
    },
  }),

  /**
   * Opt-in: matches the catalog User's profile email, only when Entra
   * asserts the email domain is verified by its owner (`xms_edov`) and the
   * domain is in `allowedDomains`.
   */
  verifiedEmailMatchingUserEntityProfileEmail: createSignInResolverFactory({
    optionsSchema: z.object({ allowedDomains: z.array(z.string()).min(1) }),
    create({ allowedDomains }) {
      const domains = new Set(allowedDomains.map(d => d.toLowerCase()));
      return async (info: Info, ctx) => {
        const { email, xms_edov: verified } = info.result.fullProfile.claims;
        if (verified !== true && verified !== '1' && verified !== 'true') {
          throw new AuthenticationError(
            `${describe(
              info,
            )}: the email claim is not verified (no xms_edov), so it cannot identify the person.`,
          );
        }
        const domain = String(email ?? '')
          .split('@')[1]
          ?.toLowerCase();
        if (!email || !domain || !domains.has(domain)) {
          throw new AuthenticationError(
            `${describe(info)}: email domain '${
              domain ?? ''
            }' is not in allowedDomains of this resolver.`,
          );
        }
        return ctx.signInWithCatalogUser({
          filter: { 'spec.profile.email': String(email) },
        });
      };
    },
  }),
};
