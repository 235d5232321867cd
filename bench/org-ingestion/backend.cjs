/*
 * The backend bench/org-ingestion.cjs starts once per variant: the catalog
 * and one org ingestion module, nothing else, so that time and memory are the
 * catalog's and the module's. Config comes from the --config files the bench
 * writes (database, static token, catalog settings, provider keys).
 *
 *   BENCH_ORG_MODULE=upstream|entra-org node bench/org-ingestion/backend.cjs --config <file>
 *
 * For `upstream`, BENCH_DISCOVERY_ORIGIN (the emulator's https origin) routes
 * MSAL's instance discovery there: @azure/identity, as the upstream module
 * builds it, first asks login.microsoftonline.com whether it knows the
 * authority, which fails offline. Nothing else about the module changes.
 */
require('@backstage/cli-node/config/nodeTransform.cjs');

const moduleName = process.env.BENCH_ORG_MODULE;
const discoveryOrigin = process.env.BENCH_DISCOVERY_ORIGIN;

if (discoveryOrigin) {
  const https = require('node:https');
  const target = new URL(discoveryOrigin);
  const request = https.request;
  https.request = function benchRequest(options, ...rest) {
    if (
      options &&
      typeof options === 'object' &&
      !(options instanceof URL) &&
      options.hostname === 'login.microsoftonline.com'
    ) {
      if (!String(options.path).startsWith('/common/discovery/instance')) {
        throw new Error(
          `bench: refusing to call ${options.hostname}${options.path}`,
        );
      }
      const headers = { ...options.headers };
      for (const k of Object.keys(headers))
        if (k.toLowerCase() === 'host') delete headers[k];
      options = {
        ...options,
        headers,
        hostname: target.hostname,
        port: target.port,
        servername: target.hostname,
      };
    }
    return request.call(this, options, ...rest);
  };
}

const { createBackend } = require('@backstage/backend-defaults');

const backend = createBackend();
backend.add(require('@backstage/plugin-catalog-backend').default);
if (moduleName === 'upstream') {
  backend.add(
    require('@backstage/plugin-catalog-backend-module-msgraph').default,
  );
} else if (moduleName === 'entra-org') {
  backend.add(
    require('@internal/plugin-catalog-backend-module-entra-org').default,
  );
} else {
  throw new Error(
    `BENCH_ORG_MODULE must be upstream or entra-org, got ${moduleName}`,
  );
}
backend.start();
