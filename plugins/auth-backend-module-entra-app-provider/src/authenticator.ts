import { LoggerService } from '@backstage/backend-plugin-api';
import {
  createProxyAuthenticator,
  getBearerTokenFromAuthorizationHeader,
} from '@backstage/plugin-auth-node';
import { EntraAppConfig } from './config';
import { refuseToken } from './refusals';
import { AppTokenVerifier, VerifiedApp } from './verifyAppToken';

/** What the refresh response's `providerInfo` says about the verified app. */
export interface EntraAppProviderInfo {
  appId: string;
  objectId: string;
  tenantId: string;
  /** The Entra token's expiry (seconds since the epoch): callers cache no longer. */
  expiresAt: number;
}

/**
 * The proxy authenticator of `entra-app`: the request's bearer token must be
 * an Entra app-only token for the portal's API from the configured tenant.
 * Every refusal is a 401 with the failed check named (and logged).
 */
export function createEntraAppAuthenticator(options: {
  config: EntraAppConfig;
  logger: LoggerService;
}) {
  const verifier = new AppTokenVerifier(options.config);
  return createProxyAuthenticator<unknown, VerifiedApp, EntraAppProviderInfo>({
    // A service principal has no person's name; its catalog entity has one.
    defaultProfileTransform: async () => ({ profile: {} }),
    initialize: () => undefined,
    async authenticate({ req }) {
      const token = getBearerTokenFromAuthorizationHeader(
        req.headers.authorization,
      );
      if (!token) {
        return refuseToken(options.logger, {
          check: 'format',
          reason:
            'no bearer token: send Authorization: Bearer <Entra app token for the portal API>',
        });
      }
      const verified = await verifier.verify(token);
      if (!verified.ok) return refuseToken(options.logger, verified.refusal);
      const { appId, objectId, tenantId, expiresAt } = verified.app;
      return {
        result: verified.app,
        providerInfo: { appId, objectId, tenantId, expiresAt },
      };
    },
  });
}
