import { createFrontendModule } from '@backstage/frontend-plugin-api';
import { SignInPageBlueprint } from '@backstage/plugin-app-react';

/** Replaces the app's sign-in page with Microsoft Entra ID sign-in. */
export const signInModule = createFrontendModule({
  pluginId: 'app',
  extensions: [
    SignInPageBlueprint.make({
      params: {
        loader: async () =>
          import('./EntraSignInPage').then(m => m.EntraSignInPage),
      },
    }),
  ],
});
