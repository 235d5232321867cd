import {
  LoggerService,
  SchedulerServiceTaskRunner,
} from '@backstage/backend-plugin-api';
import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  Entity,
  GroupEntity,
  UserEntity,
} from '@backstage/catalog-model';
import {
  MicrosoftGraphProviderConfig,
  readMicrosoftGraphOrg,
} from '@backstage/plugin-catalog-backend-module-msgraph';
import {
  EntityProvider,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import { EntraEntityNaming, GuestPolicy, USER_SELECT } from './entityNames';
import { RejectedEntity, validateEntities } from './entityValidation';
import { ResilientGraphClient } from './graphClient';
import {
  IngestionCounts,
  IngestionRunStatus,
  ProviderState,
  ProviderStateStore,
} from './ingestionState';

/** Default share of users, groups or memberships a single run may remove. */
export const DEFAULT_MAX_DELETION_SHARE = 0.2;

/** Backoff after a failed or refused run: 1 min, 2, 4, … up to the schedule's frequency. */
export function failureBackoffMs(
  consecutiveFailures: number,
  options: { initialMs: number; maxMs: number },
): number {
  return Math.min(
    options.maxMs,
    options.initialMs * 2 ** Math.max(0, consecutiveFailures - 1),
  );
}

export interface EntraOrgProviderOptions {
  config: MicrosoftGraphProviderConfig;
  client: ResilientGraphClient;
  store: ProviderStateStore;
  logger: LoggerService;
  /** Runs {@link EntraOrgEntityProvider.read} on the configured schedule. */
  taskRunner: SchedulerServiceTaskRunner;
  /** The scheduler task id, for retries and manual runs. */
  taskId: string;
  /** Share of last run's users, groups or memberships a run may remove (default 0.2). */
  maxDeletionShare?: number;
  /** Whether B2B guests become catalog users (default exclude). */
  guests?: GuestPolicy;
  /** Backoff after failures; `maxMs` is normally the schedule's frequency. */
  failureBackoff?: { initialMs: number; maxMs: number };
  /**
   * Asks for one more run after `delayMs` (the scheduler's trigger in the
   * backend; a recorder in tests).
   */
  scheduleRetry?: (delayMs: number) => void;
}

type Counts = IngestionCounts;

/** The catalog's location key for a provider's entities. */
export function entraOrgLocationKey(providerId: string): string {
  return `msgraph-org-provider:${providerId}`;
}

interface OrgRead {
  users: UserEntity[];
  groups: GroupEntity[];
  rejected: RejectedEntity[];
}

/**
 * Membership edges: each person's groups and each group's child groups. The
 * root group's children are left out: every group without a parent hangs off
 * the root, so a Graph that answers every `/members` with nothing would
 * otherwise seem to add as many edges as it removes.
 */
function countMemberships(read: OrgRead): number {
  const rootRefs = new Set(
    read.groups
      .filter(g => g.metadata.annotations?.['graph.microsoft.com/tenant-id'])
      .map(g => `group:default/${g.metadata.name}`),
  );
  return (
    read.users.reduce((n, u) => n + (u.spec.memberOf?.length ?? 0), 0) +
    read.groups
      .filter(g => !rootRefs.has(`group:default/${g.metadata.name}`))
      .reduce((n, g) => n + g.spec.children.length, 0)
  );
}

const MAX_REJECTED_LOGGED = 20;

const KIND_TEXT: Record<keyof Counts, string> = {
  users: 'users',
  groups: 'groups',
  memberships: 'memberships (group members and nested groups)',
};

/**
 * Keeps the catalog's Users and Groups equal to the Entra organisation: each
 * run reads the whole org with the upstream msgraph reader, names and
 * validates every entity as the catalog would, and applies one full
 * mutation. A run that fails changes nothing; a run that would remove more
 * than `maxDeletionShare` of the users, groups or memberships the last
 * applied run ingested is refused, because an empty or truncated answer from
 * Graph looks exactly like a mass deletion. An admin can allow the next run
 * past that guard once. Failed and refused runs are retried with backoff.
 */
export class EntraOrgEntityProvider implements EntityProvider {
  private connection?: EntityProviderConnection;

  constructor(private readonly options: EntraOrgProviderOptions) {}

  get providerId(): string {
    return this.options.config.id;
  }

  getProviderName(): string {
    return `entra-org:${this.options.config.id}`;
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.connection = connection;
    await this.options.taskRunner.run({
      id: this.options.taskId,
      fn: async () => {
        await this.read();
      },
    });
  }

  /**
   * One ingestion run. Graph and catalog failures do not throw: they resolve
   * with outcome `failed` (only the state store's own errors propagate).
   * Runs of one provider never overlap: the scheduler holds the task's lock.
   */
  async read(): Promise<IngestionRunStatus> {
    if (!this.connection) throw new Error('Not connected to the catalog');
    const { client, store, logger } = this.options;
    const startedAt = new Date();
    const state = await store.get(this.providerId);
    let readMs: number | undefined;
    const finish = async (
      run: Omit<
        IngestionRunStatus,
        | 'providerId'
        | 'startedAt'
        | 'finishedAt'
        | 'durationMs'
        | 'readMs'
        | 'graph'
        | 'consecutiveFailures'
      >,
      change: Partial<ProviderState> = {},
    ): Promise<IngestionRunStatus> => {
      const finishedAt = new Date();
      const failed = run.outcome !== 'applied';
      const consecutiveFailures = failed
        ? (state.lastRun?.consecutiveFailures ?? 0) + 1
        : 0;
      // Backoff, but never sooner than a pause Graph asked for.
      const retryInMs = failed
        ? Math.max(
            failureBackoffMs(consecutiveFailures, this.backoff()),
            client.requestedPauseMs() ?? 0,
          )
        : undefined;
      const status: IngestionRunStatus = {
        providerId: this.providerId,
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        durationMs: finishedAt.getTime() - startedAt.getTime(),
        readMs,
        graph: client.currentStats(),
        consecutiveFailures,
        ...run,
        ...(retryInMs !== undefined && {
          nextAttemptAt: new Date(
            finishedAt.getTime() + retryInMs,
          ).toISOString(),
        }),
      };
      await store.update(this.providerId, { ...change, lastRun: status });
      if (retryInMs !== undefined) this.options.scheduleRetry?.(retryInMs);
      return status;
    };

    const signal = client.beginRun();
    let read: OrgRead;
    try {
      read = await this.readOrg(signal);
    } catch (error) {
      readMs = Date.now() - startedAt.getTime();
      const message = `Reading the organisation from Microsoft Graph failed: ${
        (error as Error).message
      }`;
      logger.error(
        `Entra org ingestion failed; the catalog is unchanged. ${message}`,
      );
      return finish({ outcome: 'failed', error: message });
    }
    readMs = Date.now() - startedAt.getTime();
    const counts: Counts = {
      users: read.users.length,
      groups: read.groups.length,
      memberships: countMemberships(read),
    };
    const rejected = {
      users: read.rejected.filter(r => r.kind === 'User').length,
      groups: read.rejected.filter(r => r.kind === 'Group').length,
    };
    // Named one by one so an admin can find them in Entra; capped so that a
    // systematic fault does not flood the log every run.
    for (const r of read.rejected.slice(0, MAX_REJECTED_LOGGED)) {
      logger.warn(
        `Entra org ingestion left out ${r.kind} ${r.objectId} (name '${r.name}'): the catalog would reject it: ${r.reason}. References to it were dropped.`,
      );
    }
    if (read.rejected.length > MAX_REJECTED_LOGGED) {
      logger.warn(
        `Entra org ingestion left out ${
          read.rejected.length - MAX_REJECTED_LOGGED
        } more users and groups the catalog would reject.`,
      );
    }

    const removal = this.excessiveRemoval(state.baseline, counts);
    if (removal && !state.override) {
      const error =
        `Graph returned ${counts[removal.kind]} ${KIND_TEXT[removal.kind]}, ${
          removal.removed
        } fewer than the ${state.baseline![removal.kind]} ingested last time ` +
        `(more than ${
          this.maxShare() * 100
        }% would be removed). The catalog is unchanged. ` +
        'If the removal is intended, an admin can allow it once (Entra org status card, or ' +
        `POST /api/catalog/entra-org/providers/${this.providerId}/allow-removal).`;
      logger.error(`Entra org ingestion refused: ${error}`);
      return finish({ outcome: 'refused', read: counts, rejected, error });
    }

    try {
      await this.apply(read);
    } catch (error) {
      const message = `Applying the organisation to the catalog failed: ${
        (error as Error).message
      }`;
      logger.error(`Entra org ingestion failed. ${message}`);
      return finish({
        outcome: 'failed',
        read: counts,
        rejected,
        error: message,
      });
    }
    const status = await finish(
      {
        outcome: 'applied',
        read: counts,
        sent: counts,
        rejected,
        ...(removal && { removalAllowedBy: state.override!.requestedBy }),
      },
      // A pending override is for the next run only, used or not; one set
      // while this run was going on is for the run after it.
      { baseline: counts, ...(state.override && { override: undefined }) },
    );
    const { graph } = status;
    logger.info(
      // bench/org-ingestion.cjs reads this line up to "Graph requests".
      `Entra org ingestion applied ${counts.users} users and ${counts.groups} groups ` +
        `in ${status.durationMs} ms (Graph read ${readMs} ms): ${graph.requests} Graph requests, ${graph.retries} retries, ` +
        `${graph.throttled} throttled; ${counts.memberships} memberships${
          read.rejected.length
            ? `; ${read.rejected.length} left out as invalid (see warnings)`
            : ''
        }${
          removal
            ? `; removal of ${removal.removed} ${removal.kind} allowed by ${
                state.override!.requestedBy
              }`
            : ''
        }`,
    );
    return status;
  }

  /** Lets the next run past the deletion guard once. */
  async allowNextRemoval(requestedBy: string): Promise<void> {
    await this.options.store.update(this.providerId, {
      override: { requestedBy, requestedAt: new Date().toISOString() },
    });
  }

  private async readOrg(signal: AbortSignal): Promise<OrgRead> {
    const { config, client, logger } = this.options;
    const naming = new EntraEntityNaming({
      guests: this.options.guests ?? 'exclude',
    });
    try {
      const org = await readMicrosoftGraphOrg(client, config.tenantId, {
        userFilter: config.userFilter,
        userExpand: config.userExpand,
        userSelect: config.userSelect ?? USER_SELECT,
        userTransformer: naming.userTransformer,
        loadUserPhotos: config.loadUserPhotos ?? false,
        groupFilter: config.groupFilter,
        groupSearch: config.groupSearch,
        groupExpand: config.groupExpand,
        groupSelect: config.groupSelect,
        groupTransformer: naming.groupTransformer,
        organizationTransformer: naming.organizationTransformer,
        queryMode: config.queryMode,
        logger,
        signal,
      });
      // Rethrows a member read that failed while the reader went on.
      client.endRun();
      const named = naming.assignNames(org.users, org.groups);
      // Validated as the catalog will see them, location annotations included.
      return validateEntities(
        named.users.map(e => this.withLocation(e)),
        named.groups.map(e => this.withLocation(e)),
      );
    } catch (error) {
      // An abort is only the echo of the failure that caused it.
      client.endRun();
      throw error;
    }
  }

  private withLocation<T extends Entity>(entity: T): T {
    const locationKey = entraOrgLocationKey(this.providerId);
    entity.metadata.annotations = {
      ...entity.metadata.annotations,
      [ANNOTATION_LOCATION]: locationKey,
      [ANNOTATION_ORIGIN_LOCATION]: locationKey,
    };
    return entity;
  }

  private async apply(read: OrgRead) {
    const locationKey = entraOrgLocationKey(this.providerId);
    await this.connection!.applyMutation({
      type: 'full',
      entities: [...read.users, ...read.groups].map(entity => ({
        locationKey,
        entity,
      })),
    });
  }

  private excessiveRemoval(
    baseline: Partial<Counts> | undefined,
    counts: Counts,
  ): { kind: keyof Counts; removed: number } | undefined {
    if (!baseline) return undefined;
    for (const kind of ['users', 'groups', 'memberships'] as const) {
      const before = baseline[kind];
      // A baseline from before memberships were counted has none: no guard.
      if (before === undefined) continue;
      const removed = before - counts[kind];
      if (before > 0 && removed / before > this.maxShare()) {
        return { kind, removed };
      }
    }
    return undefined;
  }

  private maxShare() {
    return this.options.maxDeletionShare ?? DEFAULT_MAX_DELETION_SHARE;
  }

  private backoff() {
    return (
      this.options.failureBackoff ?? { initialMs: 60_000, maxMs: 1_800_000 }
    );
  }
}
