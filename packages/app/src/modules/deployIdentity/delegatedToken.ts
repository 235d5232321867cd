import type {
  ConfigApi,
  DialogApi,
  OAuthApi,
} from '@backstage/frontend-plugin-api';
import type { ScaffolderFormDecoratorContext } from '@backstage/plugin-scaffolder-react/alpha';
import { createElement } from 'react';
import { SignInAgainDialog } from './SignInAgainDialog';

/**
 * The task secret the deploy actions read the person's delegated token from
 * (plugins/scaffolder-backend-module-entra-deploy).
 */
export const DELEGATED_TOKEN_SECRET = 'entraDelegatedToken';

/** What templates name in `spec.formDecorators` to opt in. */
export const DELEGATED_TOKEN_DECORATOR_ID = 'entra-delegated-token';

/**
 * The portal API's delegated scope. The deploy actions check the token's
 * audience against the same client id sign-in uses, so it is read from the
 * sign-in provider's config (made frontend-visible in packages/app/config.d.ts)
 * rather than configured a second time.
 */
export function portalApiScope(config: ConfigApi): string {
  const env = config.getOptionalString('auth.environment') ?? 'development';
  const key = `auth.providers.microsoft.${env}.clientId`;
  const clientId = config.getOptionalString(key);
  if (!clientId) {
    throw new Error(
      `Deploying as yourself needs the portal's Entra client id, and ${key} is not set. Ask the portal's operators to set it (docs/deploy-identity.md).`,
    );
  }
  return `api://${clientId}/access_as_user`;
}

/** The part of the scaffolder's decorator context this decorator uses. */
export type DelegatedTokenContext = Pick<
  ScaffolderFormDecoratorContext,
  'formState' | 'setSecrets'
>;

type FormState = DelegatedTokenContext['formState'];

export interface DelegatedTokenDeps {
  microsoftAuth: OAuthApi;
  configApi: ConfigApi;
  dialogApi: DialogApi;
  /**
   * Called when the person cancels signing in. The scaffolder's wizard page
   * never leaves its "creating" state once a submit has failed, so the form
   * would stay dead; starting it afresh with the person's answers keeps them.
   */
  restartForm?: (formState: FormState) => void;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reloads the template's form with the answers given, through the wizard's
 * own `?formData=` parameter.
 */
export function restartFormWith(formState: FormState) {
  const url = new URL(window.location.href);
  url.searchParams.set('formData', JSON.stringify(formState));
  window.location.assign(url.toString());
}

/**
 * At submit, gets the person's token for the portal's API and puts it in
 * the task's secrets. It asks silently first (a refresh, no popup); when
 * Entra wants the person to sign in again or consent, a dialog says so and
 * its button opens the sign-in popup (from the click, so browsers allow it).
 * The task is only created once there is a token: a missing sign-in is a
 * question to the person, never a failed task.
 */
export async function addDelegatedToken(
  ctx: DelegatedTokenContext,
  deps: DelegatedTokenDeps,
): Promise<void> {
  const scope = portalApiScope(deps.configApi);
  let token: string | undefined;
  let reason: string | undefined;
  try {
    token =
      (await deps.microsoftAuth.getAccessToken(scope, { optional: true })) ||
      undefined;
  } catch (error) {
    reason = reasonOf(error);
  }

  if (!token) {
    const dialog = deps.dialogApi.open<string | undefined>(({ dialog: d }) =>
      createElement(SignInAgainDialog, {
        initialReason: reason,
        signIn: () =>
          deps.microsoftAuth.getAccessToken(scope, { instantPopup: true }),
        onToken: (t: string) => d.close(t),
        onCancel: () => d.close(undefined),
      }),
    );
    token = await dialog.result();
    if (!token) {
      (deps.restartForm ?? restartFormWith)(ctx.formState);
      throw new Error(
        'Deploy not started: it runs with your Microsoft sign-in, which was cancelled. Your answers are kept; press Create again to sign in.',
      );
    }
  }

  const delegated = token;
  ctx.setSecrets(secrets => ({
    ...secrets,
    [DELEGATED_TOKEN_SECRET]: delegated,
  }));
}
