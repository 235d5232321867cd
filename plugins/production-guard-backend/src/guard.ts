import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { inspectProductionSettings } from './checks';
import { ALLOW_LOOPBACK_ENTRA_ENV, isLoopbackEntraAllowed } from './loopback';

/**
 * In production (NODE_ENV=production), throws with every development-only
 * setting named (an emulator authority, guest sign-in, sign-in without a
 * catalog user, a memory key store, permissions off); elsewhere does nothing.
 *
 * `PORTAL_TEST_ALLOW_LOOPBACK_ENTRA=1` (test only: `yarn test:replicas`)
 * admits an https loopback origin, the Entra emulator on this machine, as
 * sign-in authority, Graph and deploy target, and logs a warning naming each
 * one admitted; any other non-Microsoft endpoint is still refused.
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
  const allowLoopbackEntra = isLoopbackEntraAllowed();
  const { problems, admittedLoopback } = inspectProductionSettings(config, {
    allowLoopbackEntra,
  });
  if (allowLoopbackEntra) {
    // Loud on purpose: this must never be set on a real deployment.
    const admittedText = admittedLoopback.length
      ? `Admitted loopback Entra endpoints: ${admittedLoopback.join(', ')}`
      : 'No loopback Entra endpoint was admitted.';
    const message = `${ALLOW_LOOPBACK_ENTRA_ENV}=1 is set: TEST ONLY, never in a deployment. ${admittedText}`;
    if (logger) logger.warn(message);
    else process.stderr.write(`WARNING: ${message}\n`);
  }
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
