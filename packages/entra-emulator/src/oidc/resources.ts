import { Directory } from '../seed/directory';
import { SeedApp } from '../types';
import { aadsts } from './errors';

/** Microsoft Graph's well-known application id, the `aud` of Graph tokens. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

/** Delegated scopes and application roles the emulated Graph knows. */
export const GRAPH_PERMISSIONS = [
  'User.Read',
  'User.ReadBasic.All',
  'User.Read.All',
  'GroupMember.Read.All',
  'Group.Read.All',
  'Directory.Read.All',
  'Application.Read.All',
];

/** OpenID Connect scopes; they never name a resource. */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

/** An API tokens can be issued for: Graph or a seeded application. */
export interface Resource {
  /** The `aud` of access tokens for this resource. */
  appId: string;
  /** Key of the seeded application, or `graph`. */
  key: string;
  scopes: string[];
  roles: string[];
  app?: SeedApp;
  /** Whether tokens for this resource carry a `groups` claim. */
  groupsClaim: boolean;
}

/** The outcome of reading a `scope` parameter. */
export interface ResolvedScopes {
  resource: Resource;
  /** Scopes of `resource` (`.default` expanded), as they go into `scp`. */
  scopes: string[];
  oidc: string[];
  isDefault: boolean;
}

/**
 * Maps scope strings to resources the way Entra does: `api://<id>/x`,
 * `<identifier uri>/x`, `https://graph.microsoft.com/x`, bare Graph scopes
 * (`User.Read`) and `/.default`. The emulator's own origins also mean Graph,
 * because the upstream msgraph client asks for `<graph origin>/.default`.
 */
export class ResourceRegistry {
  private readonly graph: Resource = {
    appId: GRAPH_APP_ID,
    key: 'graph',
    scopes: GRAPH_PERMISSIONS,
    roles: GRAPH_PERMISSIONS,
    groupsClaim: false,
  };

  constructor(
    private readonly directory: Directory,
    private readonly graphOrigins: string[],
  ) {}

  /** Finds a resource by app id or identifier URI. */
  find(identifier: string): Resource | undefined {
    const id = identifier.replace(/\/+$/, '');
    const lower = id.toLowerCase();
    if (
      lower === GRAPH_APP_ID ||
      lower === 'https://graph.microsoft.com' ||
      lower === 'graph' ||
      this.isEmulatorOrigin(lower)
    ) {
      return this.graph;
    }
    for (const app of this.directory.apps) {
      const uris = [
        app.clientId,
        `api://${app.clientId}`,
        ...(app.identifierUris ?? []),
      ].map(u => u.toLowerCase());
      if (uris.includes(lower)) return this.forApp(app);
    }
    return undefined;
  }

  forApp(app: SeedApp): Resource {
    return {
      appId: app.clientId,
      key: app.key,
      scopes: (app.scopes ?? []).map(s => s.value),
      roles: app.appRoles ?? [],
      app,
      groupsClaim: !!app.groupMembershipClaims,
    };
  }

  /** Reads a delegated `scope` parameter and checks it against the client's grants. */
  resolveDelegated(client: SeedApp, scopeParam: string): ResolvedScopes {
    const { resource, requested, oidc, isDefault } = this.parse(scopeParam);
    const granted = this.grantsOf(client, resource).delegated;
    let scopes: string[];
    if (isDefault) {
      scopes = granted;
    } else {
      for (const s of requested) {
        const known = resource.scopes.find(
          k => k.toLowerCase() === s.toLowerCase(),
        );
        if (!known) throw aadsts.invalidScope(s);
        if (!granted.some(g => g.toLowerCase() === s.toLowerCase())) {
          throw aadsts.consentRequired(client.clientId, s);
        }
      }
      scopes = requested.map(
        s => resource.scopes.find(k => k.toLowerCase() === s.toLowerCase())!,
      );
      if (scopes.length === 0 && resource.key === 'graph') {
        // Entra answers an OIDC-only request with a Graph token for User.Read.
        scopes = ['User.Read'];
      }
    }
    return { resource, scopes, oidc, isDefault };
  }

  /** Reads a client-credentials `scope`, which must be `<resource>/.default`. */
  resolveApplication(
    client: SeedApp,
    scopeParam: string,
  ): { resource: Resource; roles: string[] } {
    const parts = scopeParam.trim().split(/\s+/).filter(Boolean);
    if (parts.length !== 1 || !parts[0].endsWith('/.default')) {
      throw aadsts.defaultScopeRequired(scopeParam);
    }
    const { resource } = this.parse(parts[0]);
    return { resource, roles: this.grantsOf(client, resource).application };
  }

  private parse(scopeParam: string) {
    const oidc: string[] = [];
    const requested: string[] = [];
    let resource: Resource | undefined;
    let isDefault = false;
    for (const raw of scopeParam.trim().split(/\s+/).filter(Boolean)) {
      if (OIDC_SCOPES.includes(raw)) {
        oidc.push(raw);
        continue;
      }
      const slash = raw.lastIndexOf('/');
      const resourceId = slash > 0 ? raw.slice(0, slash) : GRAPH_APP_ID;
      const scope = slash > 0 ? raw.slice(slash + 1) : raw;
      const found = this.find(resourceId);
      if (!found) throw aadsts.unknownResource(resourceId);
      if (resource && resource.appId !== found.appId) {
        // Entra issues a token for one resource at a time.
        throw aadsts.invalidScope(scopeParam);
      }
      resource = found;
      if (scope === '.default') isDefault = true;
      else requested.push(scope);
    }
    return { resource: resource ?? this.graph, requested, oidc, isDefault };
  }

  private grantsOf(client: SeedApp, resource: Resource) {
    const grants = (client.permissions ?? []).filter(p => {
      const target = p.resource === 'graph' ? GRAPH_APP_ID : p.resource;
      return target.toLowerCase() === resource.appId.toLowerCase();
    });
    return {
      delegated: grants.flatMap(g => g.delegated ?? []),
      application: grants.flatMap(g => g.application ?? []),
    };
  }

  private isEmulatorOrigin(lower: string): boolean {
    if (/^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(lower)) {
      return true;
    }
    return this.graphOrigins.includes(lower);
  }
}
