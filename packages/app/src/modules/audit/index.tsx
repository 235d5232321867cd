import {
  createFrontendPlugin,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import HistoryIcon from '@material-ui/icons/History';

/**
 * The Audit page (admins, permission `audit.read`). Its nav item is shown
 * only to those allowed: see modules/nav/Sidebar.tsx.
 */
const auditPage = PageBlueprint.make({
  params: {
    path: '/audit',
    title: 'Audit',
    icon: <HistoryIcon />,
    loader: () => import('./AuditPage').then(m => <m.AuditPage />),
  },
});

export const auditPlugin = createFrontendPlugin({
  pluginId: 'audit',
  extensions: [auditPage],
});
