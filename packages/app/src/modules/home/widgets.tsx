import { ReactNode } from 'react';
import { identityApiRef, useApi } from '@backstage/frontend-plugin-api';
import {
  Entity,
  parseEntityRef,
  RELATION_MEMBER_OF,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { Link, Progress } from '@backstage/core-components';
import { catalogApiRef, EntityRefLink } from '@backstage/plugin-catalog-react';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import {
  AuthorizeResult,
  createPermission,
} from '@backstage/plugin-permission-common';
import List from '@material-ui/core/List';
import ListItem from '@material-ui/core/ListItem';
import ListItemText from '@material-ui/core/ListItemText';
import Typography from '@material-ui/core/Typography';
import { useLoaded } from './useLoaded';

/** How many entries a card lists before it links to the full list. */
const CARD_LIMIT = 8;

/**
 * The template-run guard's permission (scaffolder-backend-module-template-run-
 * guard): declared here by name, as the frontend only sends the name.
 */
const templateRunPermission = createPermission({
  name: 'scaffolder.template.run',
  attributes: { action: 'create' },
  resourceType: 'catalog-entity',
});

function CardBody(props: {
  label: string;
  loading: boolean;
  error?: Error;
  empty: ReactNode;
  items?: ReactNode[];
  footer?: ReactNode;
}) {
  if (props.loading) return <Progress />;
  if (props.error) {
    return (
      <Typography color="error" role="alert">
        Could not load this: {props.error.message}
      </Typography>
    );
  }
  if (!props.items?.length) {
    return <Typography color="textSecondary">{props.empty}</Typography>;
  }
  return (
    <>
      <List dense aria-label={props.label}>
        {props.items.map((item, i) => (
          <ListItem key={i} disableGutters>
            {item}
          </ListItem>
        ))}
      </List>
      {props.footer}
    </>
  );
}

function describe(entity: Entity) {
  const type = (entity.spec as { type?: string } | undefined)?.type;
  return [entity.kind, type].filter(Boolean).join(' · ');
}

/** The entities the signed-in person owns, directly or through a group. */
export function MyOwnedEntities() {
  const identityApi = useApi(identityApiRef);
  const catalogApi = useApi(catalogApiRef);
  const { value, error, loading } = useLoaded(async () => {
    const { ownershipEntityRefs } = await identityApi.getBackstageIdentity();
    return catalogApi.queryEntities({
      filter: { 'relations.ownedBy': ownershipEntityRefs },
      orderFields: { field: 'metadata.name', order: 'asc' },
      limit: CARD_LIMIT,
      fields: [
        'kind',
        'metadata.name',
        'metadata.namespace',
        'metadata.title',
        'spec.type',
      ],
    });
  }, [identityApi, catalogApi]);
  return (
    <CardBody
      label="What I own"
      loading={loading}
      error={error}
      empty="Nothing in the catalog is owned by you or your groups yet."
      items={value?.items.map(entity => (
        <ListItemText
          primary={<EntityRefLink entityRef={entity} />}
          secondary={describe(entity)}
        />
      ))}
      footer={
        value && value.totalItems > value.items.length ? (
          <Link to="/catalog?filters[user]=owned">
            All {value.totalItems} in the catalog
          </Link>
        ) : undefined
      }
    />
  );
}

/** The Entra groups the signed-in person is a direct member of. */
export function MyGroups() {
  const identityApi = useApi(identityApiRef);
  const catalogApi = useApi(catalogApiRef);
  const { value, error, loading } = useLoaded(async () => {
    const { userEntityRef } = await identityApi.getBackstageIdentity();
    const user = await catalogApi.getEntityByRef(userEntityRef);
    const groupRefs = (user?.relations ?? [])
      .filter(r => r.type === RELATION_MEMBER_OF)
      .map(r => r.targetRef)
      .sort();
    const { items } = await catalogApi.getEntitiesByRefs({
      entityRefs: groupRefs,
      fields: [
        'kind',
        'metadata.name',
        'metadata.namespace',
        'metadata.title',
        'spec.profile.displayName',
      ],
    });
    return items.filter((g): g is Entity => !!g);
  }, [identityApi, catalogApi]);
  return (
    <CardBody
      label="My groups"
      loading={loading}
      error={error}
      empty="You are in no group the portal knows of."
      items={value?.map(group => (
        <ListItemText
          primary={<EntityRefLink entityRef={group} />}
          secondary={
            (group.spec as { profile?: { displayName?: string } } | undefined)
              ?.profile?.displayName
          }
        />
      ))}
      footer={
        <Link to="/my-access">My access: nested groups and what I may do</Link>
      }
    />
  );
}

/** Templates the permission policy lets the signed-in person run. */
export function MyTemplates() {
  const catalogApi = useApi(catalogApiRef);
  const permissionApi = useApi(permissionApiRef);
  const { value, error, loading } = useLoaded(async () => {
    const { items } = await catalogApi.getEntities({
      filter: { kind: 'Template' },
      fields: [
        'kind',
        'metadata.name',
        'metadata.namespace',
        'metadata.title',
        'metadata.description',
      ],
      order: { field: 'metadata.title', order: 'asc' },
    });
    // The permission client batches these into one request.
    const decisions = await Promise.all(
      items.map(template =>
        permissionApi.authorize({
          permission: templateRunPermission,
          resourceRef: stringifyEntityRef(template),
        }),
      ),
    );
    return {
      runnable: items.filter(
        (_, i) => decisions[i].result === AuthorizeResult.ALLOW,
      ),
      total: items.length,
    };
  }, [catalogApi, permissionApi]);
  return (
    <CardBody
      label="Templates I can run"
      loading={loading}
      error={error}
      empty={
        value?.total
          ? `None of the ${value.total} templates is open to you; each says who may run it.`
          : 'The portal has no templates yet.'
      }
      items={value?.runnable.slice(0, CARD_LIMIT).map(template => {
        const { name, namespace } = parseEntityRef(
          stringifyEntityRef(template),
        );
        return (
          <ListItemText
            primary={
              <Link to={`/create/templates/${namespace}/${name}`}>
                {template.metadata.title ?? name}
              </Link>
            }
            secondary={template.metadata.description}
          />
        );
      })}
      footer={<Link to="/create">All templates</Link>}
    />
  );
}

/** Where to read about this portal and what it lets people do. */
export function PortalDocs() {
  const links: Array<[string, string, string]> = [
    [
      '/docs/default/component/backstage-entra-starter',
      'How this portal works',
      'Sign-in, org ingestion, permissions and deploys (TechDocs)',
    ],
    [
      '/my-access',
      'My access',
      'Who you are to Entra, your groups, what you may do',
    ],
    [
      '/catalog',
      'Software catalog',
      'Everything the portal knows of, by owner',
    ],
    ['/create', 'Create', 'Start something new from a template'],
    [
      '/catalog-import',
      'Register a component',
      'Add an existing repository by URL',
    ],
  ];
  return (
    <List dense aria-label="About this portal">
      {links.map(([to, title, text]) => (
        <ListItem key={to} disableGutters>
          <ListItemText
            primary={<Link to={to}>{title}</Link>}
            secondary={text}
          />
        </ListItem>
      ))}
    </List>
  );
}
