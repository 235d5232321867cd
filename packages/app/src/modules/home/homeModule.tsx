import { createFrontendModule } from '@backstage/frontend-plugin-api';
import {
  HomePageLayoutBlueprint,
  HomePageWidgetBlueprint,
} from '@backstage/plugin-home-react/alpha';

/*
 * The portal's own home page: what the signed-in person owns, their groups,
 * the templates they may run and where to read about the portal, under the
 * search bar (the search plugin's HomePageSearchBar widget). app-config.yaml
 * lays them out (page:home defaultConfig) and turns off create-app's demo
 * widgets, whose joke API fails offline with a full-screen error.
 */

const ownedWidget = HomePageWidgetBlueprint.make({
  name: 'my-owned-entities',
  params: {
    name: 'MyOwnedEntities',
    title: 'What I own',
    description: 'Entities you own, directly or through your groups',
    components: () =>
      import('./widgets').then(m => ({ Content: m.MyOwnedEntities })),
  },
});

const groupsWidget = HomePageWidgetBlueprint.make({
  name: 'my-groups',
  params: {
    name: 'MyGroups',
    title: 'My groups',
    description: 'The Entra groups you are a member of',
    components: () => import('./widgets').then(m => ({ Content: m.MyGroups })),
  },
});

const templatesWidget = HomePageWidgetBlueprint.make({
  name: 'my-templates',
  params: {
    name: 'MyTemplates',
    title: 'Templates I can run',
    description: 'Software templates the permission policy lets you run',
    components: () =>
      import('./widgets').then(m => ({ Content: m.MyTemplates })),
  },
});

const docsWidget = HomePageWidgetBlueprint.make({
  name: 'portal-docs',
  params: {
    name: 'PortalDocs',
    title: 'About this portal',
    description: "The portal's documentation and where to start",
    components: () =>
      import('./widgets').then(m => ({ Content: m.PortalDocs })),
  },
});

const layout = HomePageLayoutBlueprint.make({
  params: {
    loader: () => import('./PortalHomeLayout').then(m => m.PortalHomeLayout),
  },
});

export const homeModule = createFrontendModule({
  pluginId: 'home',
  extensions: [layout, ownedWidget, groupsWidget, templatesWidget, docsWidget],
});
