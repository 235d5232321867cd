import {
  AppRootElementBlueprint,
  createFrontendModule,
} from '@backstage/frontend-plugin-api';
import { SidebarContent } from './Sidebar';
import { TableWordWrap } from './TableWordWrap';

const tableWordWrap = AppRootElementBlueprint.make({
  name: 'table-word-wrap',
  params: { element: <TableWordWrap /> },
});

export const navModule = createFrontendModule({
  pluginId: 'app',
  extensions: [SidebarContent, tableWordWrap],
});
