import { LoggerService } from '@backstage/backend-plugin-api';
import { AuthenticationError } from '@backstage/errors';
import { Refusal } from './verifyAppToken';

/** Longest claim value quoted in a reason; a token's claims are the caller's to choose. */
const MAX_REASON_LENGTH = 400;

/**
 * Logs why a pipeline's token was refused (which check, and the token's
 * appid/oid/tid so an operator can find the app) and throws the 401 the
 * caller sees. The token itself is never logged or echoed.
 */
export function refuseToken(logger: LoggerService, refusal: Refusal): never {
  const reason =
    refusal.reason.length > MAX_REASON_LENGTH
      ? `${refusal.reason.slice(0, MAX_REASON_LENGTH)}…`
      : refusal.reason;
  logger.warn(
    `Refused an Entra app token at check '${refusal.check}': ${reason} ` +
      `(appid ${refusal.appId ?? '-'}, oid ${refusal.objectId ?? '-'}, tid ${
        refusal.tenantId ?? '-'
      })`,
    {
      type: 'entra-app-refused',
      check: refusal.check,
      appid: refusal.appId ?? '',
      oid: refusal.objectId ?? '',
      tid: refusal.tenantId ?? '',
    },
  );
  throw new AuthenticationError(
    `Entra app token refused (${refusal.check}): ${reason}`,
  );
}
