import {
  coreServices,
  createServiceFactory,
  createServiceRef,
} from '@backstage/backend-plugin-api';
import { BufferedAuditSink } from './BufferedAuditSink';
import { AuditSink } from './types';

/**
 * The one sink of the backend (root scope): every plugin's auditor enqueues
 * into it, the audit plugin attaches its store to it.
 *
 * @public
 */
export const auditSinkServiceRef = createServiceRef<AuditSink>({
  id: 'internal.audit.sink',
  scope: 'root',
  defaultFactory: async service =>
    createServiceFactory({
      service,
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.rootLogger,
        lifecycle: coreServices.rootLifecycle,
      },
      factory({ config, logger, lifecycle }) {
        const sink = BufferedAuditSink.fromConfig(config, {
          logger: logger.child({ service: 'audit-sink' }),
        });
        // Root shutdown hooks run together, the database manager's destroy
        // among them: deliver while the database is surely there (before
        // shutdown), then once more for the events of the last requests.
        lifecycle.addBeforeShutdownHook(async () => {
          await sink.flushWithin(10_000);
        });
        lifecycle.addShutdownHook(() => sink.shutdown());
        return sink;
      },
    }),
});
