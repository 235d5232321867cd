import {
  createFrontendPlugin,
  createRouteRef,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import HistoryIcon from '@material-ui/icons/History';

/** The app's nav lists only pages with a route ref. */
const auditRouteRef = createRouteRef();

/**
 * The Audit page (admins, permission `audit.read`). Its nav item is shown
 * only to those allowed: see modules/nav/Sidebar.tsx.
 */
const auditPage = PageBlueprint.make({
  params: {
    path: '/audit',
    title: 'Audit',
    icon: <HistoryIcon />,
    routeRef: auditRouteRef,
    loader: () => import('./AuditPage').then(m => <m.AuditPage />),
  },
});

export const auditPlugin = createFrontendPlugin({
  pluginId: 'audit',
  routes: { root: auditRouteRef },
  extensions: [auditPage],
});
