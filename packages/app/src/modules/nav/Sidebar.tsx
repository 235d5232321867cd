import {
  Sidebar,
  SidebarDivider,
  SidebarGroup,
  SidebarItem,
  SidebarScrollWrapper,
  SidebarSpace,
} from '@backstage/core-components';
import { NavContentBlueprint } from '@backstage/plugin-app-react';
import { SidebarLogo } from './SidebarLogo';
import MenuIcon from '@material-ui/icons/Menu';
import SearchIcon from '@material-ui/icons/Search';
import { SidebarSearchModal } from '@backstage/plugin-search';
import SettingsIcon from '@material-ui/icons/Settings';
import { NotificationsSidebarItem } from '@backstage/plugin-notifications';
import { SidebarProfile } from './SidebarProfile';
import { usePermission } from '@backstage/plugin-permission-react';
import { auditReadPermission } from '@internal/plugin-audit-common';

/**
 * The Audit item, for those who may read the trail only: everyone else
 * would open a page that tells them they may not.
 */
function AuditorsOnly(props: { children: JSX.Element | null }) {
  const { allowed } = usePermission({ permission: auditReadPermission });
  return allowed ? props.children : null;
}

export const SidebarContent = NavContentBlueprint.make({
  params: {
    component: ({ navItems }) => {
      const nav = navItems.withComponent(item => (
        <SidebarItem icon={() => item.icon} to={item.href} text={item.title} />
      ));

      // Skipped items
      nav.take('page:search'); // Using search modal instead
      nav.take('page:notifications'); // Using NotificationsSidebarItem manually instead
      nav.take('page:user-settings'); // The profile item (name and photo) links there
      const audit = nav.take('page:audit');

      return (
        <Sidebar>
          <SidebarLogo />
          <SidebarGroup label="Search" icon={<SearchIcon />} to="/search">
            <SidebarSearchModal />
          </SidebarGroup>
          <SidebarDivider />
          <SidebarGroup label="Menu" icon={<MenuIcon />}>
            {nav.take('page:home')}
            {nav.take('page:catalog')}
            {nav.take('page:scaffolder')}
            <SidebarDivider />
            <SidebarScrollWrapper>
              <AuditorsOnly>{audit}</AuditorsOnly>
              {nav.rest({ sortBy: 'title' })}
            </SidebarScrollWrapper>
          </SidebarGroup>
          <SidebarSpace />
          <SidebarDivider />
          <NotificationsSidebarItem />
          <SidebarDivider />
          <SidebarGroup label="Settings" icon={<SettingsIcon />} to="/settings">
            <SidebarProfile />
          </SidebarGroup>
        </Sidebar>
      );
    },
  },
});
