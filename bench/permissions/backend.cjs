/*
 * The backend bench/permission-latency.cjs starts once per variant: auth,
 * catalog and permission plugins with one policy, nothing else, so that
 * latency and memory are the catalog's and the policy's. Config comes from
 * the --config files the bench writes (database, static token, catalog
 * location, the policy's keys).
 *
 *   BENCH_POLICY=allow-all|ownership [BENCH_READ_GUARD=1] \
 *     node bench/permissions/backend.cjs --config <file>
 *
 * BENCH_READ_GUARD=1 adds the catalog read-guard module, as packages/backend has it.
 * BENCH_AUDIT=1 adds the audit trail as packages/backend has it: the portal's
 * auditor (every event also stored) and the audit plugin (bench/audit-sink.cjs).
 *
 * Bench-only additions, none of which a real backend has:
 * - a sign-in provider `bench-header` that issues real Backstage user tokens
 *   for whoever the `x-bench-user` header names, with the ownership refs the
 *   `x-bench-ent` header lists (JSON array). It signs in anyone: the bench
 *   binds the backend to 127.0.0.1 and it never runs outside this script.
 * - counters: every HTTP request by route, the items of every
 *   `POST /api/permission/authorize` (one policy decision each), and calls
 *   of the policy class's `handle` with their results, served as JSON at
 *   `GET /bench/counters` (not counted itself).
 */
require('@backstage/cli-node/config/nodeTransform.cjs');

const express = require('express');
const { createBackend } = require('@backstage/backend-defaults');
const {
  rootHttpRouterServiceFactory,
} = require('@backstage/backend-defaults/rootHttpRouter');
const { createBackendModule } = require('@backstage/backend-plugin-api');
const {
  authProvidersExtensionPoint,
  createProxyAuthProviderFactory,
} = require('@backstage/plugin-auth-node');
const { AuthorizeResult } = require('@backstage/plugin-permission-common');
const {
  policyExtensionPoint,
} = require('@backstage/plugin-permission-node/alpha');

const policyName = process.env.BENCH_POLICY;

const counters = {
  http: {},
  authorizeRequests: 0,
  authorizeItems: 0,
  policyHandle: 0,
  decisions: {},
  // Which policy implementation answered: the package's own class, or the
  // bench's stand-in when the package is not installed.
  policySource: undefined,
};

function routeKey(method, path) {
  if (path === '/api/permission/authorize') return 'permission/authorize';
  if (path === '/api/auth/v1/userinfo') return 'auth/v1/userinfo';
  if (path.startsWith('/api/permission/')) return 'permission/other';
  if (path.startsWith('/api/auth/')) return 'auth/other';
  if (path === '/api/catalog/entities/by-query')
    return 'catalog/entities/by-query';
  if (path === '/api/catalog/entities') return 'catalog/entities';
  if (path.startsWith('/api/catalog/.well-known/backstage/permissions/'))
    return 'catalog/permissions-integration';
  if (path.startsWith('/api/catalog/')) return 'catalog/other';
  return `${method} other`;
}

/** Counts `handle` calls and their results on a policy class's prototype. */
function countHandle(PolicyClass, source) {
  const handle = PolicyClass.prototype.handle;
  PolicyClass.prototype.handle = async function countedHandle(...args) {
    counters.policyHandle++;
    const decision = await handle.apply(this, args);
    counters.decisions[decision.result] =
      (counters.decisions[decision.result] ?? 0) + 1;
    return decision;
  };
  counters.policySource = source;
}

function policyModule() {
  if (policyName === 'ownership') {
    const ownership = require('@internal/plugin-permission-backend-module-ownership-policy');
    countHandle(ownership.OwnershipPolicy, '@internal ownership-policy');
    return ownership.default;
  }
  if (policyName === 'allow-all') {
    let pkg;
    try {
      pkg = require('@backstage/plugin-permission-backend-module-allow-all-policy');
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
    if (pkg) {
      // The package exports only its module; the class lives in dist/policy.
      countHandle(
        require('@backstage/plugin-permission-backend-module-allow-all-policy/dist/policy.cjs.js')
          .AllowAllPermissionPolicy,
        '@backstage allow-all-policy',
      );
      return pkg.default;
    }
    // Not a dependency of this repo: the same module, line for line
    // (upstream plugins/permission-backend-module-policy-allow-all).
    class AllowAllPermissionPolicy {
      async handle() {
        return { result: AuthorizeResult.ALLOW };
      }
    }
    countHandle(AllowAllPermissionPolicy, 'stand-in (not installed)');
    return createBackendModule({
      pluginId: 'permission',
      moduleId: 'allow-all-policy',
      register(reg) {
        reg.registerInit({
          deps: { policy: policyExtensionPoint },
          async init({ policy }) {
            policy.setPolicy(new AllowAllPermissionPolicy());
          },
        });
      },
    });
  }
  throw new Error(
    `BENCH_POLICY must be allow-all or ownership, got ${policyName}`,
  );
}

/** Signs in whoever the headers name; tokens are real Backstage tokens. */
const headerSignIn = createBackendModule({
  pluginId: 'auth',
  moduleId: 'bench-header-sign-in',
  register(reg) {
    reg.registerInit({
      deps: { providers: authProvidersExtensionPoint },
      async init({ providers }) {
        providers.registerProvider({
          providerId: 'bench-header',
          factory: createProxyAuthProviderFactory({
            authenticator: {
              defaultProfileTransform: async () => ({ profile: {} }),
              initialize: () => undefined,
              async authenticate({ req }) {
                const user = String(req.header('x-bench-user'));
                const ent = JSON.parse(req.header('x-bench-ent') ?? '[]');
                return { result: { user, ent } };
              },
            },
            signInResolver: async ({ result }, ctx) =>
              ctx.issueToken({
                claims: {
                  sub: result.user,
                  ent: [...new Set([result.user, ...result.ent])],
                },
              }),
          }),
        });
      },
    });
  },
});

// The permission router parses its body with express.json(), which skips a
// body already parsed; parsing it here first lets the items be counted
// without touching the stream twice.
const json = express.json();
const countingRouter = rootHttpRouterServiceFactory({
  configure({ app, applyDefaults }) {
    app.get('/bench/counters', (_req, res) => res.json(counters));
    app.use((req, res, next) => {
      const key = routeKey(req.method, req.path);
      counters.http[key] = (counters.http[key] ?? 0) + 1;
      if (key !== 'permission/authorize' || req.method !== 'POST') {
        next();
        return;
      }
      counters.authorizeRequests++;
      json(req, res, err => {
        if (!err && Array.isArray(req.body?.items)) {
          counters.authorizeItems += req.body.items.length;
        }
        next(err);
      });
    });
    applyDefaults();
  },
});

const backend = createBackend();
backend.add(countingRouter);
backend.add(require('@backstage/plugin-auth-backend').default);
backend.add(headerSignIn);
backend.add(require('@backstage/plugin-catalog-backend').default);
backend.add(require('@backstage/plugin-permission-backend').default);
backend.add(policyModule());
if (process.env.BENCH_READ_GUARD === '1') {
  backend.add(
    require('@internal/plugin-catalog-backend-module-read-guard').default,
  );
}
if (process.env.BENCH_AUDIT === '1') {
  const audit = require('@internal/plugin-audit-backend');
  backend.add(audit.auditorServiceFactory);
  backend.add(audit.default);
  backend.add(
    require('@internal/plugin-catalog-backend-module-audit-entity-refs')
      .default,
  );
}
backend.start();
