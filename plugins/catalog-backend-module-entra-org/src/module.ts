import {
  coreServices,
  createBackendModule,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import { ANNOTATION_LOCATION } from '@backstage/catalog-model';
import { Config, readDurationFromConfig } from '@backstage/config';
import {
  catalogProcessingExtensionPoint,
  catalogServiceRef,
} from '@backstage/plugin-catalog-node';
import { durationToMilliseconds, HumanDuration } from '@backstage/types';
import { GuestPolicy } from './entityNames';
import {
  DEFAULT_MAX_DELETION_SHARE,
  deltaUnsupportedBy,
  entraOrgLocationKey,
  EntraOrgEntityProvider,
} from './entraOrgProvider';
import { DeltaStateStore } from './deltaSync';
import { createGraphClient } from './graphClient';
import { readEntraGraphProviderConfigs } from './providerConfigs';
import { DatabaseProviderStateStore } from './ingestionState';
import { entraOrgPermissions } from './permissions';
import { createEntraOrgRouter } from './router';
import {
  DEFAULT_SERVICE_PRINCIPAL_TYPES,
  PRINCIPAL_TYPE_LABEL,
  ServicePrincipalPolicy,
} from './servicePrincipals';

const CONFIG_ROOT = 'catalog.providers.microsoftGraphOrg';

/** Delta polls every 30 seconds unless configured otherwise. */
export const DEFAULT_DELTA_FREQUENCY_MS = 30_000;

/** The settings this module adds to the upstream provider keys. */
export function readEntraOrgExtras(
  providerConfig: Config,
  id: string,
): {
  maxDeletionShare: number;
  guests: GuestPolicy;
  delta: { enabled: boolean; frequencyMs: number };
  servicePrincipals: ServicePrincipalPolicy;
} {
  const shareKey = 'deletionGuard.maxDeletionShare';
  const maxDeletionShare =
    providerConfig.getOptionalNumber(shareKey) ?? DEFAULT_MAX_DELETION_SHARE;
  if (!(maxDeletionShare >= 0 && maxDeletionShare <= 1)) {
    throw new Error(
      `${CONFIG_ROOT}.${id}.${shareKey} must be a share between 0 and 1 (e.g. 0.2 for 20%), got ${maxDeletionShare}`,
    );
  }
  const guests = providerConfig.getOptionalString('guests') ?? 'exclude';
  if (guests !== 'include' && guests !== 'exclude') {
    throw new Error(
      `${CONFIG_ROOT}.${id}.guests must be 'include' or 'exclude', got '${guests}'`,
    );
  }
  const enabled = providerConfig.getOptionalBoolean('delta.enabled') ?? true;
  let deltaMs = DEFAULT_DELTA_FREQUENCY_MS;
  if (providerConfig.has('delta.frequency')) {
    const key = `${CONFIG_ROOT}.${id}.delta.frequency`;
    try {
      deltaMs = durationToMilliseconds(
        readDurationFromConfig(providerConfig, { key: 'delta.frequency' }),
      );
    } catch (error) {
      throw new Error(
        `${key} must be a duration such as { seconds: 30 } or 'PT30S': ${
          (error as Error).message
        }`,
      );
    }
    if (!(deltaMs >= 1000)) {
      throw new Error(
        `${key} must be at least one second (e.g. { seconds: 30 }), got ${deltaMs} ms`,
      );
    }
  }
  const spKey = `${CONFIG_ROOT}.${id}.servicePrincipals`;
  const spTypes =
    providerConfig.getOptionalStringArray('servicePrincipals.types') ??
    DEFAULT_SERVICE_PRINCIPAL_TYPES;
  if (spTypes.length === 0) {
    throw new Error(
      `${spKey}.types must name at least one servicePrincipalType (e.g. [Application, ManagedIdentity]); to ingest none, set ${spKey}.enabled: false`,
    );
  }
  return {
    maxDeletionShare,
    guests,
    delta: { enabled, frequencyMs: deltaMs },
    servicePrincipals: {
      enabled:
        providerConfig.getOptionalBoolean('servicePrincipals.enabled') ?? true,
      types: spTypes,
    },
  };
}

/**
 * The longest backoff after failures: the schedule's own frequency (a cron or
 * manual schedule has none; 30 minutes then).
 */
function frequencyMs(schedule: SchedulerServiceTaskScheduleDefinition) {
  const f = schedule.frequency;
  if ('cron' in f || 'trigger' in f) return 30 * 60_000;
  // A luxon Duration when set in code, a HumanDuration when read from config.
  if ('toMillis' in f && typeof f.toMillis === 'function') return f.toMillis();
  return durationToMilliseconds(f as HumanDuration);
}

/**
 * Entra org ingestion, configured under the upstream
 * `catalog.providers.microsoftGraphOrg.<id>` keys, with admin routes for the
 * last run's status and for allowing an intended mass removal.
 *
 * @public
 */
export const catalogModuleEntraOrg = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'entra-org',
  register(reg) {
    reg.registerInit({
      deps: {
        catalog: catalogProcessingExtensionPoint,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        scheduler: coreServices.scheduler,
        database: coreServices.database,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        auditor: coreServices.auditor,
        lifecycle: coreServices.lifecycle,
        auth: coreServices.auth,
        catalogApi: catalogServiceRef,
      },
      async init(deps) {
        const { catalog, config, logger, scheduler } = deps;
        const providerConfigs = readEntraGraphProviderConfigs(config, logger);
        if (providerConfigs.length === 0) return;
        const knex = await deps.database.getClient();
        const store = await DatabaseProviderStateStore.create(knex);
        const deltaStore = await DeltaStateStore.create(knex);
        const timers = new Set<NodeJS.Timeout>();
        deps.lifecycle.addShutdownHook(() => timers.forEach(clearTimeout));

        const providers = providerConfigs.map(providerConfig => {
          const { id, schedule } = providerConfig;
          if (!schedule) {
            throw new Error(
              `${CONFIG_ROOT}.${id}.schedule is missing: set e.g. { frequency: { minutes: 30 }, timeout: { minutes: 10 } }`,
            );
          }
          const { delta, ...extras } = readEntraOrgExtras(
            config.getConfig(`${CONFIG_ROOT}.${id}`),
            id,
          );
          const fullRoundEveryMs = frequencyMs(schedule);
          const unsupported = deltaUnsupportedBy(providerConfig);
          if (delta.enabled && unsupported.length) {
            logger.warn(
              `Entra org delta ingestion is off for provider ${id}: Graph's delta queries cannot apply ${unsupported.join(
                ', ',
              )}. Changes arrive with each full round; remove those settings to get them within the delta interval.`,
            );
            delta.enabled = false;
          }
          const taskId = `entra-org:${id}:refresh`;
          const providerLogger = logger.child({ provider: id });
          const provider = new EntraOrgEntityProvider({
            config: providerConfig,
            client: createGraphClient(providerConfig),
            store,
            logger: providerLogger,
            // With delta on, the task ticks at the delta interval and runs a
            // full round when the schedule's frequency has passed: one task,
            // so polls and full rounds never overlap on any replica.
            taskRunner: scheduler.createScheduledTaskRunner(
              delta.enabled
                ? {
                    ...schedule,
                    frequency: { milliseconds: delta.frequencyMs },
                  }
                : schedule,
            ),
            taskId,
            auditor: deps.auditor,
            ...extras,
            ...(delta.enabled && {
              delta: { store: deltaStore, fullRoundEveryMs },
            }),
            failureBackoff: { initialMs: 60_000, maxMs: fullRoundEveryMs },
            scheduleRetry: delayMs => {
              const timer = setTimeout(() => {
                timers.delete(timer);
                scheduler.triggerTask(taskId).catch(error =>
                  // Already running (another replica or the schedule): fine.
                  providerLogger.debug(`Retry not started: ${error}`),
                );
              }, delayMs);
              timer.unref();
              timers.add(timer);
            },
          });
          catalog.addEntityProvider(provider);
          return { provider, taskId };
        });

        deps.permissionsRegistry.addPermissions(entraOrgPermissions);
        deps.httpRouter.use(
          createEntraOrgRouter({
            providers: providers.map(p => p.provider),
            store,
            httpAuth: deps.httpAuth,
            permissions: deps.permissions,
            auditor: deps.auditor,
            triggerRun: async (provider, requestedBy) => {
              // The task's next tick must be a full round, not a poll.
              await provider.requestFullRound(requestedBy);
              await scheduler.triggerTask(
                providers.find(p => p.provider === provider)!.taskId,
              );
            },
            countIngested: async provider => {
              const principalType = `metadata.labels.${PRINCIPAL_TYPE_LABEL}`;
              const { facets } = await deps.catalogApi.getEntityFacets(
                {
                  facets: ['kind', principalType],
                  filter: {
                    [`metadata.annotations.${ANNOTATION_LOCATION}`]:
                      entraOrgLocationKey(provider.providerId),
                  },
                },
                { credentials: await deps.auth.getOwnServiceCredentials() },
              );
              const count = (kind: string) =>
                facets.kind.find(f => f.value.toLowerCase() === kind)?.count ??
                0;
              // Pipelines are Users too; counted apart, as the run counts them.
              const servicePrincipals =
                facets[principalType]?.find(
                  f => f.value === 'service-principal',
                )?.count ?? 0;
              return {
                users: count('user') - servicePrincipals,
                groups: count('group'),
                servicePrincipals,
              };
            },
          }),
        );
      },
    });
  },
});
