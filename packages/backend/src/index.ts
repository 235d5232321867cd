/*
 * The portal's backend: one flat list of the features it runs.
 * Each line is a plugin or a module; configuration lives in app-config*.yaml.
 */
import { createBackend } from '@backstage/backend-defaults';
import { rootHttpRouterServiceFactory } from '@backstage/backend-defaults/rootHttpRouter';
import { logRequestsWithoutOAuthSecrets } from '@internal/plugin-auth-backend-module-entra-provider';
import { acceptEntraAppTokens } from '@internal/plugin-auth-backend-module-entra-app-provider';
import { refuseDevelopmentOnlySettings } from '@internal/plugin-production-guard-backend';
import { auditorServiceFactory } from '@internal/plugin-audit-backend';
// Imported, not import()ed: run from source, a workspace package's dynamic
// import has only a `default` (CommonJS), so named modules were undefined.
import {
  searchModuleCatalogFollower,
  searchModuleTypedLunrEngine,
} from '@internal/plugin-search-backend-module-portal';

const backend = createBackend();

// The root HTTP server, set up before it listens (plugins start after it
// does): in production, refuse development-only settings (emulator authority,
// guest sign-in, permissions off, ...) so a refused start never serves; and
// log requests without OAuth secrets (a sign-in callback carries its code
// and state in the URL); and let pipelines call any API with their Entra app
// token, exchanged for their service principal's Backstage token so the
// ownership policy decides (auth.providers.entra-app,
// docs/automation-identity.md).
backend.add(
  rootHttpRouterServiceFactory({
    configure(context) {
      refuseDevelopmentOnlySettings(context.config, context.logger);
      logRequestsWithoutOAuthSecrets(context);
      acceptEntraAppTokens(context);
      context.applyDefaults();
    },
  }),
);

// Serves the built frontend (packages/app) from the backend's origin.
backend.add(import('@backstage/plugin-app-backend'));
backend.add(import('@backstage/plugin-proxy-backend'));

// Events: lets replicas hear each other's catalog and signal events.
backend.add(import('@backstage/plugin-events-backend'));

// Scaffolder
backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(import('@backstage/plugin-scaffolder-backend-module-github'));
backend.add(
  import('@backstage/plugin-scaffolder-backend-module-notifications'),
);
// publish:local: templates publish to a folder served by URL and register
// it, so they run end to end offline. Only where
// scaffolder.localPublish.directory is set (app-config.yaml, not production).
backend.add(import('@internal/plugin-scaffolder-backend-module-local-publish'));
// Per-template run limits (scaffolder.template.run, asked before a task is
// created): restricted templates stay visible, running them is refused with
// the reason (docs/permissions.md).
backend.add(
  import('@internal/plugin-scaffolder-backend-module-template-run-guard'),
);
// Deploy steps that act as the person who clicked: entra:deploy and
// azure-devops:pipeline:run exchange their delegated Entra token
// on-behalf-of and audit each deploy (docs/deploy-identity.md).
backend.add(import('@internal/plugin-scaffolder-backend-module-entra-deploy'));

// TechDocs
backend.add(import('@backstage/plugin-techdocs-backend'));
// docs/ (dir:) is built from a copy: the build does not rewrite mkdocs.yml.
backend.add(import('@internal/plugin-techdocs-backend-module-portal'));

// Auth: Microsoft Entra ID sign-in (provider id `microsoft`), identity keyed
// on the ID token's oid + tid. No guest sign-in.
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@internal/plugin-auth-backend-module-entra-provider'));
// Pipelines: an Entra app token (client credentials for the portal's API)
// becomes its service principal's catalog entity (provider id `entra-app`).
backend.add(import('@internal/plugin-auth-backend-module-entra-app-provider'));

// Catalog
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));
// Users and groups from Microsoft Graph (catalog.providers.microsoftGraphOrg).
backend.add(import('@internal/plugin-catalog-backend-module-entra-org'));
// Owners unregister the locations whose entities they own: the catalog does
// not tell the permission policy which location a delete is for.
backend.add(import('@internal/plugin-catalog-backend-module-owner-unregister'));
// Entities someone may not read stay out of what the catalog's read filter
// does not reach: dry runs, other entities' relations, relation filters and
// facets, locations by entity.
backend.add(import('@internal/plugin-catalog-backend-module-read-guard'));

// Permissions: read for everyone signed in; changes for owners (nested Entra
// groups included) and admins; scaffolder gated by tags, templates and
// environments (permission.ownershipPolicy, docs/permissions.md).
backend.add(import('@backstage/plugin-permission-backend'));
backend.add(
  import('@internal/plugin-permission-backend-module-ownership-policy'),
);

// Audit trail: every plugin's auditor events (redacted, with the verified
// actor) go to the logs and through a bounded buffer to the audit database;
// admins (audit.read) query and export them at /api/audit, old ones are
// removed after audit.retention.maxAgeDays (docs/audit.md).
backend.add(auditorServiceFactory);
backend.add(import('@internal/plugin-audit-backend'));
// The catalog audits a delete by uid alone; this names the deleted entity.
backend.add(
  import('@internal/plugin-catalog-backend-module-audit-entity-refs'),
);

// Search: the PostgreSQL engine registers itself only on a pg database; on
// SQLite (development) the in-memory Lunr engine is used.
backend.add(import('@backstage/plugin-search-backend'));
backend.add(import('@backstage/plugin-search-backend-module-pg'));
backend.add(import('@backstage/plugin-search-backend-module-catalog'));
backend.add(import('@backstage/plugin-search-backend-module-techdocs'));
// Search from the first minute: the catalog is indexed again as soon as its
// size changes (the first scheduled index runs before the catalog is
// filled), and on Lunr a result type with no documents (TechDocs without
// pages) answers an empty page instead of a 500.
backend.add(searchModuleCatalogFollower);
backend.add(searchModuleTypedLunrEngine);

// Kubernetes: starts without clusters until a fork configures some.
backend.add(import('@backstage/plugin-kubernetes-backend'));

backend.add(import('@backstage/plugin-user-settings-backend'));
backend.add(import('@backstage/plugin-notifications-backend'));
backend.add(import('@backstage/plugin-signals-backend'));
backend.add(import('@backstage/plugin-mcp-actions-backend'));
// AI agents act for a person: grants per (person, client) recorded when the
// person approves, listed and revoked on My access; every MCP call is
// checked against a live grant and audited (docs/automation-identity.md).
backend.add(import('@internal/plugin-auth-backend-module-agent-access'));
backend.add(import('@internal/plugin-mcp-actions-backend-module-agent-guard'));

// A backend that fails to start exits non-zero rather than lingering with
// readiness 503, so an orchestrator or `yarn dev` shows the failure.
backend.start().catch(error => {
  process.stderr.write(`Backend failed to start: ${error?.stack ?? error}\n`);
  process.exit(1);
});
