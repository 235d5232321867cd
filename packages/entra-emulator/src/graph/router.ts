import express, { Request, Response, Router } from 'express';
import { EmulatorContext } from '../context';
import { BearerError, verifyBearer } from '../oidc/bearer';
import { JwtClaims } from '../oidc/jwt';
import { GRAPH_APP_ID } from '../oidc/resources';
import { SeedUser } from '../types';
import { sendCollection, sendCount, readSelect } from './collection';
import { DeltaQueries } from './delta';
import { GraphError, graphErrors, sendGraphError } from './errors';
import { generatePhoto, PHOTO_SIZES } from './photos';
import { applicationRoutes, READ_APPLICATIONS } from './applications';
import {
  GraphObject,
  groupResource,
  project,
  servicePrincipalResource,
  userResource,
} from './representations';

const READ_USERS = [
  'User.Read.All',
  'User.ReadBasic.All',
  'User.ReadWrite.All',
  'Directory.Read.All',
];
const READ_GROUPS = [
  'Group.Read.All',
  'GroupMember.Read.All',
  'Directory.Read.All',
];
const READ_SERVICE_PRINCIPALS = ['Application.Read.All', 'Directory.Read.All'];

/** Graph representations of the directory, rebuilt when the directory changes. */
class GraphView {
  readonly users: GraphObject[];
  readonly groups: GraphObject[];
  readonly servicePrincipals: GraphObject[];
  readonly byId = new Map<string, GraphObject>();
  readonly version: number;

  constructor(ctx: EmulatorContext) {
    this.version = ctx.directory.version;
    this.users = ctx.directory.users.map(userResource);
    this.groups = ctx.directory.groups.map(groupResource);
    this.servicePrincipals = [
      ...ctx.directory.servicePrincipalsById.values(),
    ].map(app => servicePrincipalResource(app, ctx.directory.tenantId));
    for (const o of [...this.users, ...this.groups, ...this.servicePrincipals])
      this.byId.set(o.id, o);
  }
}

/**
 * Microsoft Graph v1.0 routes the upstream msgraph reader and sign-in use.
 * Paths are dispatched by hand: Graph's `$value` and cast segments do not fit
 * Express's route syntax well.
 */
export function createGraphRouter(ctx: EmulatorContext): Router {
  const router = Router();
  let view: GraphView | undefined;
  const delta = new DeltaQueries(ctx);
  router.use(express.json());
  router.all('*', (req: Request, res: Response) => {
    try {
      if (view?.version !== ctx.directory.version) view = new GraphView(ctx);
      const claims = authenticate(ctx, req);
      const segments = req.path
        .split('/')
        .filter(Boolean)
        .map(decodeURIComponent);
      const body = dispatch(ctx, view, delta, req, res, claims, segments);
      if (body !== undefined) res.json(body);
    } catch (e) {
      if (e instanceof GraphError) sendGraphError(req, res, e);
      else throw e;
    }
  });
  return router;
}

function authenticate(ctx: EmulatorContext, req: Request): JwtClaims {
  try {
    return verifyBearer(ctx, req, [
      GRAPH_APP_ID,
      'https://graph.microsoft.com',
    ]);
  } catch (e) {
    if (!(e instanceof BearerError)) throw e;
    throw e.kind === 'missing'
      ? graphErrors.emptyToken()
      : graphErrors.invalidToken(e.message);
  }
}

/** Requires one of `permissions` as an application role or delegated scope. */
function requirePermission(claims: JwtClaims, permissions: string[]) {
  const granted = [
    ...((claims.roles as string[] | undefined) ?? []),
    ...String(claims.scp ?? '').split(' '),
  ];
  if (!permissions.some(p => granted.includes(p)))
    throw graphErrors.forbidden();
}

/** Requires one of `permissions` as an application role (`roles` of an app-only token). */
function requireAppRole(claims: JwtClaims, permissions: string[]) {
  const roles = (claims.roles as string[] | undefined) ?? [];
  if (!permissions.some(p => roles.includes(p))) throw graphErrors.forbidden();
}

/**
 * How a collection route answers: its items, or only their number when the
 * path ends in Graph's `/$count` segment. Anything that is not a collection
 * has no `/$count`.
 */
interface Answer {
  countOnly: boolean;
  list(
    items: GraphObject[],
    opts: Parameters<typeof sendCollection>[3],
  ): Record<string, unknown> | undefined;
  single<T>(value: T): T;
}

function answerFor(
  ctx: EmulatorContext,
  req: Request,
  res: Response,
  countOnly: boolean,
): Answer {
  return {
    countOnly,
    list: (items, opts) =>
      countOnly
        ? sendCount(ctx, req, res, items)
        : sendCollection(ctx, req, items, opts),
    single: value => {
      if (countOnly) throw graphErrors.noRoute('$count');
      return value;
    },
  };
}

function dispatch(
  ctx: EmulatorContext,
  view: GraphView,
  delta: DeltaQueries,
  req: Request,
  res: Response,
  claims: JwtClaims,
  path: string[],
): unknown {
  const get = req.method === 'GET';
  const countOnly = path.length > 1 && path[path.length - 1] === '$count';
  const s = countOnly ? path.slice(0, -1) : path;
  const answer = answerFor(ctx, req, res, countOnly);
  if (s[0] === 'me') {
    if (!claims.scp) throw graphErrors.meNeedsDelegated();
    requirePermission(claims, ['User.Read', ...READ_USERS]);
    const me = ctx.directory.findUser(String(claims.oid));
    if (!me) throw graphErrors.notFound(String(claims.oid));
    return userRoutes(ctx, view, req, res, answer, me, s.slice(1), ['me']);
  }
  if (s[0] === 'users' && get && s.length === 1) {
    requirePermission(claims, READ_USERS);
    return answer.list(view.users, {
      keepType: false,
      expand: expandUser(ctx, view),
    });
  }
  if (s[0] === 'users' && get && s.length === 2 && s[1] === 'delta') {
    requirePermission(claims, READ_USERS);
    return answer.single(delta.answer(req, 'users'));
  }
  if (s[0] === 'groups' && get && s.length === 2 && s[1] === 'delta') {
    requirePermission(claims, READ_GROUPS);
    return answer.single(delta.answer(req, 'groups'));
  }
  if (s[0] === 'servicePrincipals' && get) {
    requirePermission(claims, READ_SERVICE_PRINCIPALS);
    if (s.length === 1) {
      return answer.list(view.servicePrincipals, { keepType: false });
    }
    if (s.length === 2 && s[1] === 'delta') {
      return answer.single(delta.answer(req, 'servicePrincipals'));
    }
    const sp = ctx.directory.servicePrincipalsById.get(s[1]);
    if (!sp) throw graphErrors.notFound(s[1]);
    if (s.length === 2) {
      return answer.single(
        project(view.byId.get(s[1])!, readSelect(req), false),
      );
    }
    if (s[2] === 'memberOf' && s.length === 3) {
      const groups = ctx.directory.memberOf(s[1]).map(id => view.byId.get(id)!);
      return answer.list(groups, { keepType: true });
    }
  }
  if (s[0] === 'users' && s.length >= 2) {
    const user = ctx.directory.findUser(s[1]);
    const self = user && user.id === claims.oid;
    if (!self) requirePermission(claims, READ_USERS);
    if (!user) throw graphErrors.notFound(s[1]);
    return userRoutes(
      ctx,
      view,
      req,
      res,
      answer,
      user,
      s.slice(2),
      s.slice(0, 2),
    );
  }
  if (s[0] === 'groups' && get && s.length === 1) {
    requirePermission(claims, READ_GROUPS);
    return answer.list(view.groups, {
      keepType: false,
      expand: expandGroup(ctx, view),
    });
  }
  if (s[0] === 'groups' && get && s.length >= 2) {
    requirePermission(claims, READ_GROUPS);
    const group = ctx.directory.groupsById.get(s[1]);
    if (!group) throw graphErrors.notFound(s[1]);
    if (s.length === 2)
      return answer.single(
        project(view.byId.get(group.id)!, readSelect(req), false),
      );
    if (s[2] === 'members') {
      const members = group.members
        .map(id => view.byId.get(id)!)
        .filter(Boolean);
      const cast = s[3];
      if (!cast) return answer.list(members, { keepType: true });
      const type = {
        'microsoft.graph.user': '#microsoft.graph.user',
        'microsoft.graph.group': '#microsoft.graph.group',
        'microsoft.graph.servicePrincipal': '#microsoft.graph.servicePrincipal',
      }[cast];
      if (!type) throw graphErrors.noRoute(cast);
      return answer.list(
        members.filter(m => m['@odata.type'] === type),
        { keepType: false },
      );
    }
  }
  if (/^applications(\(|$)/i.test(s[0] ?? '') && get && !countOnly) {
    // App-only: Graph lets delegated callers read apps too, but nothing here needs it.
    requireAppRole(claims, READ_APPLICATIONS);
    return applicationRoutes(ctx, req, s);
  }
  if (s[0] === 'organization' && get) {
    const org = organization(ctx);
    if (s.length === 1) return answer.single({ value: [org] });
    if (s[1] === ctx.directory.tenantId) return answer.single(org);
    throw graphErrors.notFound(s[1]);
  }
  throw graphErrors.noRoute(s[s.length - 1] ?? '');
}

function userRoutes(
  ctx: EmulatorContext,
  view: GraphView,
  req: Request,
  res: Response,
  answer: Answer,
  user: SeedUser,
  rest: string[],
  base: string[],
): unknown {
  if (rest.length === 0)
    return answer.single(
      project(view.byId.get(user.id)!, readSelect(req), false),
    );
  if (rest[0] === 'memberOf') {
    const groups = ctx.directory
      .memberOf(user.id)
      .map(id => view.byId.get(id)!);
    return answer.list(groups, { keepType: true });
  }
  if (rest[0] === 'transitiveMemberOf') {
    const groups = ctx.directory
      .transitiveMemberOf(user.id)
      .map(id => view.byId.get(id)!);
    return answer.list(groups, { keepType: true });
  }
  if (answer.countOnly) throw graphErrors.noRoute('$count');
  if (rest[0] === 'getMemberObjects' && req.method === 'POST') {
    // Where the groups-overage marker in tokens points.
    return { value: ctx.directory.transitiveMemberOf(user.id) };
  }
  if (rest[0] === 'photos' && rest.length === 1) {
    if (!user.photo) throw graphErrors.imageNotFound();
    return {
      value: PHOTO_SIZES.map(size => ({
        id: `${size}x${size}`,
        height: size,
        width: size,
      })),
    };
  }
  let photoSize: number | undefined;
  if (rest[0] === 'photo' && rest[1] === '$value') photoSize = 240;
  if (rest[0] === 'photos' && rest[2] === '$value')
    photoSize = parseSize(rest[1]);
  if (photoSize !== undefined) {
    if (!user.photo) throw graphErrors.imageNotFound();
    res.type('image/png').send(generatePhoto(user.id, photoSize));
    return undefined;
  }
  throw graphErrors.noRoute([...base, ...rest].join('/'));
}

function parseSize(id: string): number {
  const m = /^(\d+)x(\d+)$/.exec(id);
  if (!m || !PHOTO_SIZES.includes(Number(m[1])))
    throw graphErrors.imageNotFound();
  return Number(m[1]);
}

function organization(ctx: EmulatorContext) {
  const t = ctx.directory.seed.tenant;
  return {
    id: t.id,
    displayName: t.displayName,
    tenantType: 'AAD',
    verifiedDomains: t.domains.map((name, i) => ({
      name,
      isDefault: i === 0,
      isInitial: i === 0,
      type: 'Managed',
      capabilities: 'Email, OfficeCommunicationsOnline',
    })),
  };
}

/** `$expand` on users: memberOf. */
function expandUser(ctx: EmulatorContext, view: GraphView) {
  return (obj: GraphObject, expand: string) => {
    const { name, select } = parseExpand(expand);
    if (name !== 'memberof') throw unknownProperty(expand, 'user');
    return {
      memberOf: ctx.directory
        .memberOf(obj.id)
        .slice(0, 20)
        .map(id => project(view.byId.get(id)!, select, true)),
    };
  };
}

/** `$expand` on groups: members (Graph returns at most 20 expanded items). */
function expandGroup(ctx: EmulatorContext, view: GraphView) {
  return (obj: GraphObject, expand: string) => {
    const { name, select } = parseExpand(expand);
    if (name !== 'members') throw unknownProperty(expand, 'group');
    const group = ctx.directory.groupsById.get(obj.id)!;
    return {
      members: group.members
        .slice(0, 20)
        .map(id => project(view.byId.get(id)!, select, true)),
    };
  };
}

function parseExpand(expand: string): { name: string; select?: string[] } {
  const m = /^([A-Za-z]+)(?:\(\$select=([^)]*)\))?$/.exec(expand.trim());
  if (!m) return { name: expand.toLowerCase() };
  return {
    name: m[1].toLowerCase(),
    select: m[2]?.split(',').map(x => x.trim()),
  };
}

function unknownProperty(expand: string, type: string) {
  return graphErrors.badRequest(
    `Could not find a property named '${expand}' on type 'microsoft.graph.${type}'.`,
  );
}
