import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { Config, readDurationFromConfig } from '@backstage/config';
import { HumanDuration } from '@backstage/types';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { auditPermissions } from '@internal/plugin-audit-common';
import { AuditStore } from './database/AuditStore';
import { DEFAULT_EXPORT_MAX_EVENTS, createRouter } from './service/router';
import { CatalogActorResolver, auditSinkServiceRef } from './sink';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The retention settings (audit.retention), checked at startup. */
export function readRetention(config: Config): {
  maxAgeDays: number;
  frequency: HumanDuration;
} {
  const maxAgeDays =
    config.getOptionalNumber('audit.retention.maxAgeDays') ?? 400;
  if (!Number.isFinite(maxAgeDays) || maxAgeDays <= 0) {
    throw new Error(
      `audit.retention.maxAgeDays must be a number of days above 0, got ${maxAgeDays}`,
    );
  }
  const frequency = config.has('audit.retention.frequency')
    ? readDurationFromConfig(config, { key: 'audit.retention.frequency' })
    : { hours: 6 };
  return { maxAgeDays, frequency };
}

function readExportMaxEvents(config: Config): number {
  const max =
    config.getOptionalNumber('audit.export.maxEvents') ??
    DEFAULT_EXPORT_MAX_EVENTS;
  if (!Number.isInteger(max) || max < 1) {
    throw new Error(
      `audit.export.maxEvents must be a whole number above 0, got ${max}`,
    );
  }
  return max;
}

/**
 * The audit trail: stores what every plugin's auditor reports (through the
 * backend-wide sink), serves it to holders of audit.read under /api/audit,
 * and removes events past audit.retention.maxAgeDays.
 *
 * @public
 */
export const auditPlugin = createBackendPlugin({
  pluginId: 'audit',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        database: coreServices.database,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        scheduler: coreServices.scheduler,
        auth: coreServices.auth,
        auditor: coreServices.auditor,
        catalog: catalogServiceRef,
        sink: auditSinkServiceRef,
      },
      async init({
        config,
        logger,
        database,
        httpRouter,
        httpAuth,
        permissions,
        permissionsRegistry,
        scheduler,
        auth,
        auditor,
        catalog,
        sink,
      }) {
        // Config first: a wrong value refuses the start before any table.
        const retention = readRetention(config);
        const exportMaxEvents = readExportMaxEvents(config);

        permissionsRegistry.addPermissions(auditPermissions);

        const store = await AuditStore.create(database);
        // From here on the sink delivers what it buffered since the backend
        // started (other plugins' events from their init) and all that follows.
        sink.attach(
          store,
          new CatalogActorResolver({ catalog, auth, logger, config }),
        );

        await scheduler.scheduleTask({
          id: 'audit-retention',
          frequency: retention.frequency,
          timeout: { minutes: 30 },
          initialDelay: { minutes: 1 },
          // One replica at a time: the others would only find nothing to do.
          scope: 'global',
          fn: async () => {
            const cutoff = new Date(Date.now() - retention.maxAgeDays * DAY_MS);
            const removed = await store.deleteOlderThan(cutoff);
            logger.info(
              `Audit retention removed ${removed} events that occurred before ${cutoff.toISOString()} (audit.retention.maxAgeDays ${
                retention.maxAgeDays
              })`,
            );
          },
        });

        // No auth policy: every route needs a user or service token.
        httpRouter.use(
          await createRouter({
            store,
            sink,
            httpAuth,
            permissions,
            auditor,
            exportMaxEvents,
          }),
        );
      },
    });
  },
});
