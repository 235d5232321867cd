import {
  createFrontendModule,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';

/**
 * Replaces the consent page of `@backstage/plugin-auth` (extension
 * `page:auth`, same path `/oauth2`) with one that names the person approving
 * as well as the agent asking.
 */
export const agentConsentModule = createFrontendModule({
  pluginId: 'auth',
  extensions: [
    PageBlueprint.make({
      params: {
        path: '/oauth2',
        loader: () =>
          import('./ConsentPage').then(m => <m.AgentConsentRouter />),
      },
    }),
  ],
});
