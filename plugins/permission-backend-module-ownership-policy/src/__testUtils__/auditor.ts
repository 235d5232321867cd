/*
 * An auditor that records every event's outcome with the principal of its
 * request, for tests that check what the trail would store. The portal's
 * auditor (plugins/audit-backend) stores one event per outcome, with the
 * actor derived from the request's credentials, as this records them.
 */
import {
  AuditorService,
  AuditorServiceCreateEventOptions,
  BackstageCredentials,
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';

type JsonObject = NonNullable<AuditorServiceCreateEventOptions['meta']>;

export interface RecordedAuditEvent {
  plugin: string;
  eventId: string;
  severityLevel?: string;
  outcome: 'succeeded' | 'failed';
  meta: JsonObject;
  error?: Error;
  /** The request's principal; undefined for an event without a request. */
  principal?: BackstageCredentials['principal'];
  request?: { method: string; path: string };
}

export function recordingAuditorFactory(events: RecordedAuditEvent[]) {
  return createServiceFactory({
    service: coreServices.auditor,
    deps: {
      plugin: coreServices.pluginMetadata,
      httpAuth: coreServices.httpAuth,
    },
    factory({ plugin, httpAuth }): AuditorService {
      return {
        async createEvent(options: AuditorServiceCreateEventOptions) {
          const { request } = options;
          const principal = request
            ? (await httpAuth.credentials(request)).principal
            : undefined;
          const record =
            (outcome: RecordedAuditEvent['outcome']) =>
            async (done?: { meta?: JsonObject; error?: Error }) => {
              events.push({
                plugin: plugin.getId(),
                eventId: options.eventId,
                severityLevel: options.severityLevel,
                outcome,
                meta: { ...options.meta, ...done?.meta },
                error: done?.error,
                principal,
                request: request && {
                  method: request.method,
                  path: request.originalUrl,
                },
              });
            };
          return { success: record('succeeded'), fail: record('failed') };
        },
      };
    },
  });
}
