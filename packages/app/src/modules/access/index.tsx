import {
  createFrontendPlugin,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import VerifiedUserIcon from '@material-ui/icons/VerifiedUser';

export { catalogAccessModule } from './UnregisterEntityMenuItem';

/**
 * "My access": who the signed-in person is to Entra and the portal, their
 * groups (nesting included), what they own, and what the permission policy
 * lets them do, with reasons.
 */
const myAccessPage = PageBlueprint.make({
  params: {
    path: '/my-access',
    title: 'My access',
    icon: <VerifiedUserIcon />,
    loader: () => import('./MyAccessPage').then(m => <m.MyAccessPage />),
  },
});

export const accessPlugin = createFrontendPlugin({
  pluginId: 'access',
  extensions: [myAccessPage],
});
