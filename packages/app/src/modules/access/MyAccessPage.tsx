import { useEffect, useState } from 'react';
import {
  Content,
  InfoCard,
  Progress,
  StructuredMetadataTable,
  WarningPanel,
} from '@backstage/core-components';
import {
  configApiRef,
  identityApiRef,
  microsoftAuthApiRef,
  useApi,
} from '@backstage/frontend-plugin-api';
import {
  Entity,
  RELATION_CHILD_OF,
  RELATION_MEMBER_OF,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import {
  catalogEntityDeletePermission,
  catalogLocationCreatePermission,
} from '@backstage/plugin-catalog-common/alpha';
import { catalogApiRef, EntityRefLink } from '@backstage/plugin-catalog-react';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import Grid from '@material-ui/core/Grid';
import List from '@material-ui/core/List';
import ListItem from '@material-ui/core/ListItem';
import ListItemText from '@material-ui/core/ListItemText';
import Typography from '@material-ui/core/Typography';
import { AgentGrantsCard } from './AgentGrantsCard';
import {
  groupsOnlyReason,
  memberOfAny,
  ownerOnlyReason,
  PolicySummary,
  readPolicySummary,
} from './reasons';

interface Capability {
  action: string;
  allowed: boolean;
  reason: string;
}

interface Access {
  userRef: string;
  user?: Entity;
  token: { oid?: string; tid?: string; name?: string };
  /** Each group the person is in, with the chain it comes through. */
  groups: Array<{ ref: string; via: string[] }>;
  owned: Entity[];
  capabilities: Capability[];
}

/** The claims of a JWT, for display only; the backend verified the token. */
function claimsOf(jwt?: string): Record<string, unknown> {
  if (!jwt) return {};
  try {
    const payload = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload));
  } catch {
    return {};
  }
}

const refOf = (r: { targetRef: string }) => r.targetRef;

/** Long refs and reasons wrap instead of running out of the card. */
const WRAP = {
  style: { whiteSpace: 'normal', overflowWrap: 'anywhere' },
} as const;

function registerReason(
  allowed: boolean,
  refs: string[],
  summary: PolicySummary,
): string {
  if (!allowed) {
    return groupsOnlyReason('register', summary.registerGroups ?? []);
  }
  if (!summary.registerGroups) return 'Everyone signed in may.';
  const mine = summary.registerGroups.filter(g => refs.includes(g));
  return mine.length > 0
    ? `You are in ${mine.join(', ')}.`
    : 'Portal admins may.';
}

/**
 * Direct groups first, then the groups they are nested in, each with the path
 * that makes the person a member.
 */
function groupTree(user: Entity | undefined, groups: Map<string, Entity>) {
  const result: Array<{ ref: string; via: string[] }> = [];
  const seen = new Set<string>();
  const queue = (user?.relations ?? [])
    .filter(r => r.type === RELATION_MEMBER_OF)
    .map(r => ({ ref: refOf(r), via: [] as string[] }));
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (seen.has(next.ref)) continue;
    seen.add(next.ref);
    result.push(next);
    for (const parent of (groups.get(next.ref)?.relations ?? []).filter(
      r => r.type === RELATION_CHILD_OF,
    )) {
      queue.push({ ref: refOf(parent), via: [...next.via, next.ref] });
    }
  }
  return result;
}

function useAccess(): { access?: Access; error?: Error } {
  const identityApi = useApi(identityApiRef);
  const microsoftAuth = useApi(microsoftAuthApiRef);
  const catalogApi = useApi(catalogApiRef);
  const permissionApi = useApi(permissionApiRef);
  const config = useApi(configApiRef);
  const [state, setState] = useState<{ access?: Access; error?: Error }>({});

  useEffect(() => {
    const load = async (): Promise<Access> => {
      const summary: PolicySummary = readPolicySummary(config);
      const identity = await identityApi.getBackstageIdentity();
      const refs = identity.ownershipEntityRefs;
      const idToken = await microsoftAuth.getIdToken({ optional: true });
      const claims = claimsOf(idToken);
      const related = await catalogApi.getEntitiesByRefs({
        entityRefs: refs,
      });
      const byRef = new Map(
        related.items
          .filter((e): e is Entity => !!e)
          .map(e => [stringifyEntityRef(e), e]),
      );
      const user = byRef.get(identity.userEntityRef);
      const owned = (
        await catalogApi.getEntities({
          filter: { 'relations.ownedBy': refs },
          fields: ['kind', 'metadata', 'spec.owner', 'relations'],
        })
      ).items;
      const notOwned = (
        await catalogApi.queryEntities({
          filter: { kind: 'component' },
          limit: 50,
          fields: ['kind', 'metadata', 'spec.owner', 'relations'],
        })
      ).items.find(
        e => !owned.some(o => stringifyEntityRef(o) === stringifyEntityRef(e)),
      );

      const decide = async (
        permission: Parameters<typeof permissionApi.authorize>[0]['permission'],
        resourceRef?: string,
      ) =>
        (
          await permissionApi.authorize({
            permission,
            resourceRef,
          } as Parameters<typeof permissionApi.authorize>[0])
        ).result === AuthorizeResult.ALLOW;

      const capabilities: Capability[] = [];
      const register = await decide(catalogLocationCreatePermission);
      capabilities.push({
        action: 'Register components from a repository',
        allowed: register,
        reason: registerReason(register, refs, summary),
      });
      const admin = memberOfAny(refs, summary.admins);
      capabilities.push({
        action: 'Register users, groups and templates; change anything',
        allowed: admin,
        reason: admin
          ? `You are a portal admin (${summary.admins
              .filter(g => refs.includes(g))
              .join(', ')}).`
          : groupsOnlyReason('do this', summary.admins),
      });
      if (owned[0]) {
        const ref = stringifyEntityRef(owned[0]);
        const allowed = await decide(catalogEntityDeletePermission, ref);
        capabilities.push({
          action: `Unregister ${ref}, which you own`,
          allowed,
          reason: allowed
            ? 'Owners may change, refresh and unregister what they own.'
            : ownerOnlyReason(owned[0], 'unregister', summary),
        });
      }
      if (notOwned) {
        const ref = stringifyEntityRef(notOwned);
        const allowed = await decide(catalogEntityDeletePermission, ref);
        capabilities.push({
          action: `Unregister ${ref}, which you do not own`,
          allowed,
          reason: allowed
            ? 'Portal admins may change anything.'
            : ownerOnlyReason(notOwned, 'unregister', summary),
        });
      }
      for (const env of summary.deployEnvironments) {
        const allowed = env.groups
          ? admin || memberOfAny(refs, env.groups)
          : true;
        capabilities.push({
          action: `Deploy to ${env.name}`,
          allowed,
          reason: env.groups
            ? groupsOnlyReason(`deploy to ${env.name}`, env.groups)
            : `Owners of the deployed component may deploy it to ${env.name}.`,
        });
      }

      return {
        userRef: identity.userEntityRef,
        user,
        token: {
          oid: claims.oid as string | undefined,
          tid: claims.tid as string | undefined,
          name: claims.name as string | undefined,
        },
        groups: groupTree(user, byRef),
        owned,
        capabilities,
      };
    };
    load().then(
      access => setState({ access }),
      error => setState({ error }),
    );
  }, [identityApi, microsoftAuth, catalogApi, permissionApi, config]);
  return state;
}

/** Who I am, my groups, what I own, and what I may and may not do. */
export function MyAccessPage() {
  const { access, error } = useAccess();
  if (error) {
    return (
      <Content>
        <WarningPanel title="Could not work out your access">
          {error.message}
        </WarningPanel>
      </Content>
    );
  }
  if (!access) return <Progress />;
  const profile = (access.user?.spec?.profile ?? {}) as {
    displayName?: string;
  };
  return (
    <Content>
      <Grid container spacing={3}>
        <Grid item xs={12} md={6}>
          <InfoCard title="Who I am">
            <StructuredMetadataTable
              options={{ titleFormat: (key: string) => key }}
              metadata={{
                Name: profile.displayName ?? access.token.name ?? '—',
                'Catalog user': access.userRef,
                'Entra object id (oid)':
                  access.token.oid ??
                  access.user?.metadata.annotations?.[
                    'graph.microsoft.com/user-id'
                  ] ??
                  '—',
                'Entra tenant (tid)': access.token.tid ?? '—',
              }}
            />
          </InfoCard>
        </Grid>
        <Grid item xs={12} md={6}>
          <InfoCard title="My groups">
            <List dense aria-label="My groups">
              {access.groups.map(g => (
                <ListItem key={g.ref}>
                  <ListItemText
                    primaryTypographyProps={WRAP}
                    secondaryTypographyProps={WRAP}
                    primary={<EntityRefLink entityRef={g.ref} />}
                    secondary={
                      g.via.length > 0
                        ? `through ${g.via.join(' → ')}`
                        : 'direct member'
                    }
                  />
                </ListItem>
              ))}
            </List>
          </InfoCard>
        </Grid>
        <Grid item xs={12} md={6}>
          <InfoCard title="What I own">
            {access.owned.length === 0 ? (
              <Typography>Nothing yet.</Typography>
            ) : (
              <List dense aria-label="What I own">
                {access.owned.map(e => (
                  <ListItem key={stringifyEntityRef(e)}>
                    <ListItemText
                      primaryTypographyProps={WRAP}
                      secondaryTypographyProps={WRAP}
                      primary={<EntityRefLink entityRef={e} />}
                      secondary={`owned by ${String(e.spec?.owner ?? '')}`}
                    />
                  </ListItem>
                ))}
              </List>
            )}
          </InfoCard>
        </Grid>
        <Grid item xs={12} md={6}>
          <InfoCard title="What I may do">
            <List dense aria-label="What I may do">
              {access.capabilities.map(c => (
                <ListItem key={c.action}>
                  <ListItemText
                    primaryTypographyProps={WRAP}
                    secondaryTypographyProps={WRAP}
                    primary={`${c.allowed ? 'Allowed' : 'Not allowed'}: ${
                      c.action
                    }`}
                    secondary={c.reason}
                  />
                </ListItem>
              ))}
            </List>
          </InfoCard>
        </Grid>
        <Grid item xs={12} md={6}>
          <AgentGrantsCard />
        </Grid>
      </Grid>
    </Content>
  );
}
