import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { findDevelopmentOnlySettings } from './checks';

/**
 * In production (NODE_ENV=production) the backend refuses to start with
 * settings that are only safe in development: an emulator authority, guest
 * sign-in, sign-in without a catalog user, a memory key store, or
 * permissions off. Failing at startup, with every offending key named, beats
 * a portal that quietly runs unsafe.
 *
 * @public
 */
export const productionGuardPlugin = createBackendPlugin({
  pluginId: 'production-guard',
  register(env) {
    env.registerInit({
      deps: { config: coreServices.rootConfig, logger: coreServices.logger },
      async init({ config, logger }) {
        if (process.env.NODE_ENV !== 'production') return;
        const problems = findDevelopmentOnlySettings(config);
        if (problems.length > 0) {
          throw new Error(
            `Refusing to start in production with development-only settings:\n- ${problems.join(
              '\n- ',
            )}`,
          );
        }
        logger.info(
          'Production configuration checked: no development-only settings',
        );
      },
    });
  },
});
