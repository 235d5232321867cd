import { Content } from '@backstage/core-components';
import type { HomePageLayoutProps } from '@backstage/plugin-home-react/alpha';
import Grid from '@material-ui/core/Grid';

/**
 * The home page as a fixed, responsive grid: app-config's
 * `page:home.defaultConfig` says which widgets show and in what order
 * (by row, then column); a widget 12 wide takes the full width, others half
 * of it on wide screens. Upstream's customisable grid dropped cards onto the
 * next row whenever the window fell into its 10-column breakpoint.
 */
export function PortalHomeLayout(props: HomePageLayoutProps) {
  const byName = new Map(props.widgets.map(w => [w.name, w]));
  const placed = [...(props.defaultConfig ?? [])]
    .sort((a, b) => a.row - b.row || a.column - b.column)
    .flatMap(item => {
      const widget = byName.get(item.component);
      return widget ? [{ item, widget }] : [];
    });
  return (
    <Content>
      <Grid container spacing={3}>
        {placed.map(({ item, widget }) => (
          <Grid
            key={item.component}
            item
            xs={12}
            md={item.width >= 12 ? 12 : 6}
          >
            {widget.component}
          </Grid>
        ))}
      </Grid>
    </Content>
  );
}
