import { useState } from 'react';
import {
  configApiRef,
  createFrontendModule,
  dialogApiRef,
  discoveryApiRef,
  fetchApiRef,
  useApi,
} from '@backstage/frontend-plugin-api';
import {
  ANNOTATION_LOCATION,
  Entity,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { catalogEntityDeletePermission } from '@backstage/plugin-catalog-common/alpha';
import { useEntity } from '@backstage/plugin-catalog-react';
import {
  EntityContextMenuItemBlueprint,
  useEntityPermission,
} from '@backstage/plugin-catalog-react/alpha';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import Typography from '@material-ui/core/Typography';
import DeleteIcon from '@material-ui/icons/Delete';
import { useNavigate } from 'react-router-dom';
import { ownerOnlyReason, readPolicySummary } from './reasons';

/**
 * Confirms and unregisters through POST /api/catalog/owner-unregister, which
 * lets owners (not only admins) remove a location whose entities they own.
 */
function UnregisterDialog(props: {
  entity: Entity;
  onClose: () => void;
  onDone: () => void;
}) {
  const { entity } = props;
  const discovery = useApi(discoveryApiRef);
  const { fetch } = useApi(fetchApiRef);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const ref = stringifyEntityRef(entity);
  const location = entity.metadata.annotations?.[ANNOTATION_LOCATION];

  const unregister = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const base = await discovery.getBaseUrl('catalog');
      const res = await fetch(`${base}/owner-unregister`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ entityRef: ref }),
      });
      if (!res.ok) {
        const body = await res.json().catch(() => undefined);
        throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
      }
      props.onDone();
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };

  return (
    <Dialog open onClose={props.onClose} aria-labelledby="unregister-title">
      <DialogTitle id="unregister-title">Unregister {ref}?</DialogTitle>
      <DialogContent>
        <DialogContentText>
          This removes the location {location} from the catalog, with every
          entity that came from it. Its source stays where it is; register it
          again to bring it back.
        </DialogContentText>
        {error && (
          <Typography color="error" role="alert">
            {error}
          </Typography>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Cancel</Button>
        <Button
          color="secondary"
          variant="contained"
          disabled={busy}
          onClick={unregister}
        >
          Unregister
        </Button>
      </DialogActions>
    </Dialog>
  );
}

/**
 * The catalog's "Unregister entity" menu item (same extension id, so it
 * replaces the built-in one): enabled for the entity's owners and admins,
 * otherwise disabled with the reason, instead of only greyed out.
 */
const unregisterEntityMenuItem = EntityContextMenuItemBlueprint.make({
  name: 'unregister-entity',
  params: {
    icon: <DeleteIcon fontSize="small" />,
    useProps: () => {
      const { entity } = useEntity();
      const dialogApi = useApi(dialogApiRef);
      const config = useApi(configApiRef);
      const navigate = useNavigate();
      const permission = useEntityPermission(catalogEntityDeletePermission);
      const denied = !permission.loading && !permission.allowed;
      return {
        title: denied ? (
          <div data-denied-reason>
            {/* Menu items are one line high; this one carries its reason. */}
            <style>
              {
                '.bui-MenuItem:has([data-denied-reason]) { height: auto; padding-block: 6px; }'
              }
            </style>
            <div>Unregister entity</div>
            {/*
              A fixed width, not a max-width: the menu's popover sizes to its
              content, and React Aria re-measures it on every resize. Text
              that wraps to the popover's width changed its height whenever
              the popover moved or grew a scrollbar, which resized it again:
              a "ResizeObserver loop" that `yarn dev` shows as a full-screen
              error. Wrapped at a width of its own, the text has one height.
            */}
            <Typography
              variant="caption"
              color="textSecondary"
              style={{
                whiteSpace: 'normal',
                overflowWrap: 'anywhere',
                width: 320,
                display: 'block',
              }}
            >
              {ownerOnlyReason(entity, 'unregister', readPolicySummary(config))}
            </Typography>
          </div>
        ) : (
          'Unregister entity'
        ),
        disabled: !permission.allowed,
        onClick: async () => {
          dialogApi.open(({ dialog }) => (
            <UnregisterDialog
              entity={entity}
              onClose={() => dialog.close()}
              onDone={() => {
                dialog.close();
                navigate('/');
              }}
            />
          ));
        },
      };
    },
  },
});

/** Catalog actions that say why they are disabled. */
export const catalogAccessModule = createFrontendModule({
  pluginId: 'catalog',
  extensions: [unregisterEntityMenuItem],
});
