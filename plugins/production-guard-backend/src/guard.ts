import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { findDevelopmentOnlySettings } from './checks';

/**
 * In production (NODE_ENV=production), throws with every development-only
 * setting named (an emulator authority, guest sign-in, sign-in without a
 * catalog user, a memory key store, permissions off); elsewhere does nothing.
 *
 * Call it where the root HTTP server is configured, before it listens (see
 * packages/backend/src/index.ts): a plugin's init runs after the server
 * already listens, and a failing plugin only marks itself failed, so a guard
 * there would leave a portal answering on its port, sign-in included.
 *
 * @public
 */
export function refuseDevelopmentOnlySettings(
  config: Config,
  logger?: LoggerService,
): void {
  if (process.env.NODE_ENV !== 'production') return;
  const problems = findDevelopmentOnlySettings(config);
  if (problems.length > 0) {
    throw new Error(
      `Refusing to start in production with development-only settings:\n- ${problems.join(
        '\n- ',
      )}`,
    );
  }
  logger?.info(
    'Production configuration checked: no development-only settings',
  );
}
