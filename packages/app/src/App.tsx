import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import { navModule } from './modules/nav';
import { homeModule } from './modules/home';
import { signInModule } from './modules/signIn';
import { entraOrgStatusModule } from './modules/entraOrgStatus';
import { accessPlugin, catalogAccessModule } from './modules/access';
import { deployIdentityModule } from './modules/deployIdentity';
import { agentConsentModule } from './modules/agentConsent';
import { auditPlugin } from './modules/audit';

export default createApp({
  features: [
    catalogPlugin,
    navModule,
    homeModule,
    signInModule,
    entraOrgStatusModule,
    accessPlugin,
    catalogAccessModule,
    deployIdentityModule,
    agentConsentModule,
    auditPlugin,
  ],
});
