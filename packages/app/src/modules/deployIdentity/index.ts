import {
  configApiRef,
  createFrontendModule,
  dialogApiRef,
  microsoftAuthApiRef,
} from '@backstage/frontend-plugin-api';
import {
  createScaffolderFormDecorator,
  FormDecoratorBlueprint,
} from '@backstage/plugin-scaffolder-react/alpha';
import {
  addDelegatedToken,
  DELEGATED_TOKEN_DECORATOR_ID,
} from './delegatedToken';

export { DELEGATED_TOKEN_SECRET } from './delegatedToken';

/**
 * `entra-delegated-token`: at submit, the person's Entra token for the
 * portal's API goes into the task's secrets, for deploys that run as them
 * (`entra:deploy`, `azure-devops:pipeline:run`). Asking at submit rather
 * than while the form is filled means the token is fresh when the task
 * starts. Templates opt in with `spec.formDecorators: [{ id: entra-delegated-token }]`.
 */
export const entraDelegatedTokenDecorator = createScaffolderFormDecorator({
  id: DELEGATED_TOKEN_DECORATOR_ID,
  deps: {
    microsoftAuth: microsoftAuthApiRef,
    configApi: configApiRef,
    dialogApi: dialogApiRef,
  },
  decorator: (ctx, deps) => addDelegatedToken(ctx, deps),
});

const entraDelegatedTokenExtension = FormDecoratorBlueprint.make({
  name: DELEGATED_TOKEN_DECORATOR_ID,
  params: { decorator: entraDelegatedTokenDecorator },
});

/** Deploys with the initiator's identity: the scaffolder form's half. */
export const deployIdentityModule = createFrontendModule({
  pluginId: 'scaffolder',
  extensions: [entraDelegatedTokenExtension],
});
