import { ClientSecretCredential } from '@azure/identity';
import { ENTRA_CLOUDS, isMicrosoftLoginUrl } from '@internal/entra-cloud';
import {
  LoggerService,
  SchedulerServiceTaskRunner,
} from '@backstage/backend-plugin-api';
import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  Entity,
} from '@backstage/catalog-model';
import {
  MicrosoftGraphClient,
  MicrosoftGraphProviderConfig,
  readMicrosoftGraphOrg,
} from '@backstage/plugin-catalog-backend-module-msgraph';
import {
  EntityProvider,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import {
  entraUserTransformer,
  resolveNameCollisions,
  USER_SELECT,
} from './userEntities';

/** Default share of users or groups a single run may remove. */
export const DEFAULT_MAX_DELETION_SHARE = 0.2;

/**
 * Builds the Graph client. For an authority MSAL does not know (the
 * emulator), instance discovery would call login.microsoftonline.com first,
 * which fails offline; it is switched off for those authorities only.
 */
export function createGraphClient(
  config: MicrosoftGraphProviderConfig,
): MicrosoftGraphClient {
  const authorityHost = (
    config.authority ?? ENTRA_CLOUDS.public.loginHost
  ).replace(/\/+$/, '');
  const credential = new ClientSecretCredential(
    config.tenantId,
    config.clientId!,
    config.clientSecret!,
    {
      authorityHost,
      disableInstanceDiscovery: !isMicrosoftLoginUrl(authorityHost),
    },
  );
  return new MicrosoftGraphClient(config.target, credential);
}

/**
 * Keeps the catalog's Users and Groups equal to the Entra organisation: each
 * run reads the whole org with the upstream msgraph reader and applies one
 * full mutation. A run that fails changes nothing; a run that would remove
 * more than `maxDeletionShare` of the users or groups ingested last time is
 * refused, because an empty or truncated answer from Graph looks exactly like
 * a mass deletion.
 */
export class EntraOrgEntityProvider implements EntityProvider {
  private connection?: EntityProviderConnection;
  private last?: { users: number; groups: number };

  constructor(
    private readonly options: {
      config: MicrosoftGraphProviderConfig;
      client: MicrosoftGraphClient;
      logger: LoggerService;
      taskRunner: SchedulerServiceTaskRunner;
      maxDeletionShare?: number;
    },
  ) {}

  getProviderName(): string {
    return `entra-org:${this.options.config.id}`;
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.connection = connection;
    await this.options.taskRunner.run({
      id: `${this.getProviderName()}:refresh`,
      fn: async () => {
        await this.read();
      },
    });
  }

  /** One ingestion run; resolves with what it did (for logs and tests). */
  async read(): Promise<{
    outcome: 'applied' | 'refused';
    users: number;
    groups: number;
  }> {
    if (!this.connection) throw new Error('Not initialized');
    const { config, client, logger } = this.options;
    const started = Date.now();
    const org = await readMicrosoftGraphOrg(client, config.tenantId, {
      userFilter: config.userFilter,
      userExpand: config.userExpand,
      userSelect: config.userSelect ?? USER_SELECT,
      userTransformer: entraUserTransformer,
      loadUserPhotos: config.loadUserPhotos ?? false,
      groupFilter: config.groupFilter,
      groupSearch: config.groupSearch,
      groupExpand: config.groupExpand,
      groupSelect: config.groupSelect,
      queryMode: config.queryMode,
      logger,
    });
    const users = resolveNameCollisions(org.users);
    const groups = org.groups;
    const counts = { users: users.length, groups: groups.length };
    const maxShare =
      this.options.maxDeletionShare ?? DEFAULT_MAX_DELETION_SHARE;
    if (this.last) {
      for (const kind of ['users', 'groups'] as const) {
        const removed = this.last[kind] - counts[kind];
        if (this.last[kind] > 0 && removed / this.last[kind] > maxShare) {
          logger.error(
            `Entra org ingestion refused: Graph returned ${counts[kind]} ${kind}, ${removed} fewer than the ` +
              `${this.last[kind]} ingested last time (more than ${
                maxShare * 100
              }%). The catalog is unchanged. ` +
              'If the removal is intended, restart the backend to ingest the new organisation.',
          );
          return { outcome: 'refused', ...counts };
        }
      }
    }
    const locationKey = `msgraph-org-provider:${config.id}`;
    const withLocation = (entity: Entity): Entity => ({
      ...entity,
      metadata: {
        ...entity.metadata,
        annotations: {
          ...entity.metadata.annotations,
          [ANNOTATION_LOCATION]: locationKey,
          [ANNOTATION_ORIGIN_LOCATION]: locationKey,
        },
      },
    });
    await this.connection.applyMutation({
      type: 'full',
      entities: [...users, ...groups].map(entity => ({
        locationKey,
        entity: withLocation(entity),
      })),
    });
    this.last = counts;
    logger.info(
      `Entra org ingestion applied ${counts.users} users and ${
        counts.groups
      } groups in ${Date.now() - started} ms`,
    );
    return { outcome: 'applied', ...counts };
  }
}
