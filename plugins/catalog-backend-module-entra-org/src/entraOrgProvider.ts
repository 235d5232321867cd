import {
  AuditorService,
  AuditorServiceEventSeverityLevel,
  LoggerService,
  SchedulerServiceTaskRunner,
} from '@backstage/backend-plugin-api';
import { NotAllowedError, ServiceUnavailableError } from '@backstage/errors';
import { JsonObject } from '@backstage/types';
import { randomUUID } from 'node:crypto';
import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  Entity,
  GroupEntity,
  stringifyEntityRef,
  UserEntity,
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
import { EntraEntityNaming, GuestPolicy, USER_SELECT } from './entityNames';
import { RejectedEntity, validateEntities } from './entityValidation';
import {
  applyDelta,
  DeltaCursor,
  DeltaStateStore,
  DeltaTokenExpiredError,
  DirectorySnapshot,
  latestDeltaLink,
  readDelta,
  readMissingServicePrincipals,
  recordingClient,
  snapshotClient,
} from './deltaSync';
import { ResilientGraphClient } from './graphClient';
import {
  DEFAULT_SERVICE_PRINCIPAL_TYPES,
  isServicePrincipalEntity,
  SERVICE_PRINCIPAL_ID_ANNOTATION,
  SERVICE_PRINCIPAL_SELECT,
  servicePrincipalCollector,
  servicePrincipalEntities,
  ServicePrincipalPolicy,
} from './servicePrincipals';
import {
  DeltaPollStatus,
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
  /**
   * Where each run (full round or delta poll) is recorded as an audit
   * event: `entra-org-run`, or `entra-org-guard-refused` when the deletion
   * guard refuses it. None when absent.
   */
  auditor?: AuditorService;
  /** Share of last run's users, groups or memberships a run may remove (default 0.2). */
  maxDeletionShare?: number;
  /** Whether B2B guests become catalog users (default exclude). */
  guests?: GuestPolicy;
  /**
   * Which service principals that are members of ingested groups become
   * User entities (default: enabled, types Application and ManagedIdentity).
   */
  servicePrincipals?: ServicePrincipalPolicy;
  /** Backoff after failures; `maxMs` is normally the schedule's frequency. */
  failureBackoff?: { initialMs: number; maxMs: number };
  /**
   * Asks for one more run after `delayMs` (the scheduler's trigger in the
   * backend; a recorder in tests).
   */
  scheduleRetry?: (delayMs: number) => void;
  /**
   * Delta ingestion: between full rounds, each tick of the task runner reads
   * only what changed (`/users/delta`, `/groups/delta`). Off when absent.
   */
  delta?: {
    store: DeltaStateStore;
    /** How often a full round (the reconciliation) runs anyway. */
    fullRoundEveryMs: number;
  };
}

/** Group properties the naming and the transformers read. */
const GROUP_DELTA_SELECT = [
  'id',
  'displayName',
  'description',
  'mail',
  'mailNickname',
  'securityEnabled',
  'groupTypes',
];

/**
 * Settings delta queries cannot honour: Graph's delta takes no `$filter` on
 * arbitrary properties, no `$search` and no `$expand`, and the snapshot
 * cannot know which groups a member filter would pick.
 */
export function deltaUnsupportedBy(
  config: MicrosoftGraphProviderConfig,
): string[] {
  const keys: Array<[keyof MicrosoftGraphProviderConfig, string]> = [
    ['userFilter', 'user.filter'],
    ['userExpand', 'user.expand'],
    ['userPath', 'user.path'],
    ['groupFilter', 'group.filter'],
    ['groupSearch', 'group.search'],
    ['groupExpand', 'group.expand'],
    ['groupPath', 'group.path'],
    ['groupIncludeSubGroups', 'group.includeSubGroups'],
    ['userGroupMemberFilter', 'userGroupMember.filter'],
    ['userGroupMemberSearch', 'userGroupMember.search'],
    ['userGroupMemberPath', 'userGroupMember.path'],
  ];
  // The reader's defaults (and what the upstream config reader fills in).
  const defaults: Partial<Record<keyof MicrosoftGraphProviderConfig, unknown>> =
    { userPath: 'users', groupPath: 'groups', groupIncludeSubGroups: false };
  return keys
    .filter(([k]) => config[k] !== undefined && config[k] !== defaults[k])
    .map(([, n]) => n);
}

type Counts = IngestionCounts;

/** What the deletion guard refused: removing `removed` of `of` of a kind. */
interface GuardRefusal {
  kind: keyof Counts;
  removed: number;
  of: number;
}

/** The catalog's location key for a provider's entities. */
export function entraOrgLocationKey(providerId: string): string {
  return `msgraph-org-provider:${providerId}`;
}

interface OrgRead {
  /** People. */
  users: UserEntity[];
  groups: GroupEntity[];
  /** Pipelines and other apps in ingested groups, as User entities. */
  servicePrincipals: UserEntity[];
  rejected: RejectedEntity[];
}

const USER_ID = 'graph.microsoft.com/user-id';
const GROUP_ID = 'graph.microsoft.com/group-id';

/** An entity set keyed by ref, with each entity's JSON to compare by. */
interface Derived {
  revision: string;
  entities: Map<string, { entity: Entity; json: string }>;
}

function derive(revision: string, read: OrgRead): Derived {
  const entities = new Map<string, { entity: Entity; json: string }>();
  for (const entity of [
    ...read.users,
    ...read.servicePrincipals,
    ...read.groups,
  ]) {
    entities.set(stringifyEntityRef(entity), {
      entity,
      json: JSON.stringify(entity),
    });
  }
  return { revision, entities };
}

/**
 * Graph object ids of the users and groups, and membership edges (member id
 * to group id, the root's children left out as in {@link countMemberships}).
 * Counted by object id so that a rename, which changes refs, removes nothing.
 */
function objectsOf(derived: Derived) {
  const idByRef = new Map<string, string>();
  for (const [ref, { entity }] of derived.entities) {
    const a = entity.metadata.annotations ?? {};
    const id = a[USER_ID] ?? a[GROUP_ID];
    if (id) idByRef.set(ref, id);
  }
  const users = new Set<string>();
  const groups = new Set<string>();
  const memberships = new Set<string>();
  const servicePrincipals = new Set<string>();
  for (const [ref, { entity }] of derived.entities) {
    const id = idByRef.get(ref);
    if (entity.kind === 'User' && isServicePrincipalEntity(entity)) {
      // Counted on their own; their memberships are not people's.
      const spId =
        entity.metadata.annotations?.[SERVICE_PRINCIPAL_ID_ANNOTATION];
      if (spId) servicePrincipals.add(spId);
    } else if (entity.kind === 'User') {
      if (id) users.add(id);
      for (const g of (entity as UserEntity).spec.memberOf ?? []) {
        const gid = idByRef.get(g);
        if (id && gid) memberships.add(`${id}>${gid}`);
      }
    } else {
      // The root (the tenant) has no group id and is not counted.
      if (!id) continue;
      groups.add(id);
      for (const c of (entity as GroupEntity).spec.children) {
        const cid = idByRef.get(c);
        if (cid) memberships.add(`${cid}>${id}`);
      }
    }
  }
  return { users, groups, memberships, servicePrincipals };
}

function removedCounts(before: Derived, after: Derived): Counts {
  const b = objectsOf(before);
  const a = objectsOf(after);
  const gone = (x: Set<string>, y: Set<string>) =>
    [...x].filter(v => !y.has(v)).length;
  // Groups count the root as the full read does; it is never removed here.
  return {
    users: gone(b.users, a.users),
    groups: gone(b.groups, a.groups),
    memberships: gone(b.memberships, a.memberships),
    servicePrincipals: gone(b.servicePrincipals, a.servicePrincipals),
  };
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
  servicePrincipals: 'service principals (apps in ingested groups)',
};

/**
 * Removals a run may always make, whatever their share. Pipelines are few
 * and come and go one at a time: with three of them, retiring one is a
 * third, which is no sign of a truncated read. People, groups and
 * memberships have no allowance.
 */
const ALWAYS_ALLOWED_REMOVALS: Partial<Record<keyof Counts, number>> = {
  servicePrincipals: 5,
};

/** Every kind the deletion guard holds to the share on its own. */
const GUARDED_KINDS = [
  'users',
  'groups',
  'memberships',
  'servicePrincipals',
] as const;

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
  /** The entities last derived from the stored snapshot, by its revision. */
  private derived?: Derived;
  /**
   * The stored snapshot as this replica last saved it, so that a poll does
   * not read it back from the database while no other replica changed it.
   */
  private memory?: { revision: string; snapshot: DirectorySnapshot };

  constructor(private readonly options: EntraOrgProviderOptions) {}

  get providerId(): string {
    return this.options.config.id;
  }

  /** Whether changes arrive by delta polls between full rounds. */
  get deltaEnabled(): boolean {
    return (
      this.options.delta !== undefined &&
      deltaUnsupportedBy(this.options.config).length === 0
    );
  }

  getProviderName(): string {
    return `entra-org:${this.options.config.id}`;
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.connection = connection;
    await this.options.taskRunner.run({
      id: this.options.taskId,
      fn: async () => {
        await this.tick();
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
    let refusedBy: GuardRefusal | undefined;
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
      await store.update(this.providerId, {
        ...change,
        lastRun: status,
        // The request is this run's; a retry is the schedule's.
        ...(state.fullRoundRequestedBy && { fullRoundRequestedBy: undefined }),
      });
      if (retryInMs !== undefined) this.options.scheduleRetry?.(retryInMs);
      await this.audit({
        mode: 'full',
        outcome: status.outcome,
        requestedBy: state.fullRoundRequestedBy,
        refusedBy,
        error: status.error,
        meta: {
          durationMs: status.durationMs,
          ...(status.readMs !== undefined && { readMs: status.readMs }),
          ...(status.read && { read: { ...status.read } }),
          ...(status.sent && { sent: { ...status.sent } }),
          ...(status.rejected && { rejected: { ...status.rejected } }),
          ...(status.removalAllowedBy && {
            removalAllowedBy: status.removalAllowedBy,
          }),
          graphRequests: status.graph.requests,
        },
      });
      return status;
    };

    const signal = client.beginRun();
    let read: OrgRead;
    let links: Omit<DeltaCursor, 'syncedAt'> | undefined;
    let recorded: DirectorySnapshot | undefined;
    try {
      links = await this.latestLinks(signal);
      const recorder = links ? recordingClient(client) : undefined;
      recorded = recorder?.snapshot;
      read = await this.readOrg(signal, recorder?.client);
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
      servicePrincipals: read.servicePrincipals.length,
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
      refusedBy = {
        kind: removal.kind,
        removed: removal.removed,
        of: state.baseline![removal.kind]!,
      };
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
      {
        baseline: counts,
        ...(state.override && { override: undefined }),
        lastReconciledAt: new Date().toISOString(),
        deltaRemoved: undefined,
        fullRoundRequested: undefined,
      },
    );
    if (this.options.delta) {
      if (links && recorded) {
        const revision = randomUUID();
        await this.options.delta.store.save(this.providerId, {
          cursor: { ...links, syncedAt: startedAt.toISOString() },
          snapshot: recorded,
          revision,
        });
        this.derived = derive(revision, read);
        this.memory = { revision, snapshot: recorded };
      } else {
        await this.options.delta.store.clear(this.providerId);
        this.derived = undefined;
        this.memory = undefined;
      }
    }
    const { graph } = status;
    logger.info(
      // bench/org-ingestion.cjs reads this line up to "Graph requests".
      `Entra org ingestion applied ${counts.users} users and ${counts.groups} groups ` +
        `in ${status.durationMs} ms (Graph read ${readMs} ms): ${graph.requests} Graph requests, ${graph.retries} retries, ` +
        `${graph.throttled} throttled; ${counts.memberships} memberships; ${
          counts.servicePrincipals
        } service principals${
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

  /** The delta queries' first URLs, with the properties the reader needs. */
  private deltaUrls() {
    const { config } = this.options;
    const base = config.target.replace(/\/+$/, '');
    const userSelect = [...(config.userSelect ?? USER_SELECT)];
    for (const k of ['id', 'accountEnabled']) {
      if (!userSelect.some(s => s.toLowerCase() === k.toLowerCase()))
        userSelect.push(k);
    }
    const groupSelect = [
      ...new Set([...(config.groupSelect ?? GROUP_DELTA_SELECT), 'id']),
      'members',
    ];
    return {
      users: `${base}/users/delta?$select=${userSelect.join(',')}`,
      groups: `${base}/groups/delta?$select=${groupSelect.join(',')}`,
      servicePrincipals: `${base}/servicePrincipals/delta?$select=${SERVICE_PRINCIPAL_SELECT.join(
        ',',
      )}`,
    };
  }

  /**
   * deltaLinks for now, taken before a full read. Undefined (delta off until
   * the next full round, logged) when delta is off or Graph refuses them.
   */
  private async latestLinks(
    signal: AbortSignal,
  ): Promise<Omit<DeltaCursor, 'syncedAt'> | undefined> {
    if (!this.options.delta) return undefined;
    const unsupported = deltaUnsupportedBy(this.options.config);
    if (unsupported.length) {
      this.options.logger.warn(
        `Entra org delta ingestion is off for provider ${
          this.providerId
        }: Graph's delta queries cannot apply ${unsupported.join(
          ', ',
        )}. Changes arrive with each full round; remove those settings to get them within the delta interval.`,
      );
      return undefined;
    }
    const urls = this.deltaUrls();
    const { client } = this.options;
    try {
      return {
        usersLink: await latestDeltaLink(client, urls.users, signal),
        groupsLink: await latestDeltaLink(client, urls.groups, signal),
        ...(await this.servicePrincipalsLink(urls.servicePrincipals, signal)),
      };
    } catch (error) {
      if (signal.aborted) throw error;
      this.options.logger.warn(
        `Entra org delta ingestion could not start for provider ${
          this.providerId
        } (changes wait for the next full round; the app registration needs the same Graph permissions as the full read): ${
          (error as Error).message
        }`,
      );
      return undefined;
    }
  }

  /**
   * The service principals' deltaLink, or none (logged) when they are off
   * or Graph refuses it: a disabled pipeline is then noticed at the next
   * full round, while membership changes still come through groups' delta.
   */
  private async servicePrincipalsLink(
    url: string,
    signal: AbortSignal,
  ): Promise<{ servicePrincipalsLink?: string }> {
    if (!this.servicePrincipalPolicy().enabled) return {};
    try {
      return {
        servicePrincipalsLink: await latestDeltaLink(
          this.options.client,
          url,
          signal,
        ),
      };
    } catch (error) {
      if (signal.aborted) throw error;
      this.options.logger.warn(
        `Entra org delta ingestion cannot follow service principals for provider ${
          this.providerId
        } (a disabled pipeline is noticed at the next full round; grant Application.Read.All): ${
          (error as Error).message
        }`,
      );
      return {};
    }
  }

  /**
   * One tick of the provider's task: a full round when none has been applied
   * yet, when the reconciliation is due or an admin asked for one; a delta
   * poll otherwise. A full round backing off after a failure waits for its
   * retry; delta polls go on meanwhile.
   */
  async tick(): Promise<IngestionRunStatus | DeltaPollStatus | undefined> {
    const { delta, store } = this.options;
    if (!delta) return this.read();
    const state = await store.get(this.providerId);
    const cursor = await delta.store.cursorOf(this.providerId);
    const now = Date.now();
    const reconciledAt = state.lastReconciledAt
      ? Date.parse(state.lastReconciledAt)
      : 0;
    // Without a cursor (Graph refused delta at the last full round) changes
    // wait for the next full round, as that round's warning said.
    const fullDue =
      !state.lastReconciledAt ||
      state.fullRoundRequested === true ||
      now - reconciledAt >= delta.fullRoundEveryMs;
    const backingOff =
      state.lastRun?.nextAttemptAt !== undefined &&
      Date.parse(state.lastRun.nextAttemptAt) > now &&
      !state.fullRoundRequested;
    if (fullDue && !backingOff) return this.read();
    if (cursor && !fullDue) return this.poll();
    return state.lastRun;
  }

  /**
   * Makes the next tick a full round (run now, allow removal); its audit
   * event names `requestedBy` as the actor.
   */
  async requestFullRound(requestedBy?: string): Promise<void> {
    await this.options.store.update(this.providerId, {
      fullRoundRequested: true,
      ...(requestedBy && { fullRoundRequestedBy: requestedBy }),
    });
  }

  /**
   * One audit event per run: `entra-org-guard-refused` (high) when the
   * deletion guard refused it, else `entra-org-run`, failed (medium) or
   * succeeded (low: a delta poll that changed nothing is one too, every
   * poll interval). A run someone asked for names them as the actor; the
   * scheduler's runs are the catalog plugin's. Never fails the run.
   */
  private async audit(run: {
    mode: 'full' | 'delta';
    outcome: string;
    requestedBy?: string;
    refusedBy?: GuardRefusal;
    error?: string;
    meta: JsonObject;
  }): Promise<void> {
    const { auditor, logger } = this.options;
    if (!auditor) return;
    const { refusedBy, requestedBy } = run;
    const failed = run.outcome === 'failed';
    let severityLevel: AuditorServiceEventSeverityLevel = 'low';
    if (failed || requestedBy) severityLevel = 'medium';
    if (refusedBy) severityLevel = 'high';
    try {
      const event = await auditor.createEvent({
        eventId: refusedBy ? 'entra-org-guard-refused' : 'entra-org-run',
        severityLevel,
        meta: {
          providerId: this.providerId,
          mode: run.mode,
          outcome: run.outcome,
          trigger: requestedBy ? 'manual' : 'schedule',
          ...(requestedBy && {
            requestedBy,
            actor: requestedBy.startsWith('service:')
              ? { kind: 'service', subject: requestedBy.slice(8) }
              : { kind: 'person', entityRef: requestedBy },
          }),
          ...(refusedBy && {
            guard:
              refusedBy.kind === 'memberships'
                ? 'membership-guard'
                : 'deletion-guard',
            guardKind: refusedBy.kind,
            wouldRemove: refusedBy.removed,
            of: refusedBy.of,
            maxDeletionShare: this.maxShare(),
          }),
          ...run.meta,
        },
      });
      if (refusedBy) {
        await event.fail({ error: new NotAllowedError(run.error) });
      } else if (failed) {
        await event.fail({ error: new ServiceUnavailableError(run.error) });
      } else {
        await event.success();
      }
    } catch (error) {
      logger.warn(
        `Could not record the audit event of an Entra org ${run.mode} run: ${error}`,
      );
    }
  }

  /** The delta cursor's last answer, for the status card. */
  async deltaCursor(): Promise<{ syncedAt: string } | undefined> {
    const cursor = await this.options.delta?.store.cursorOf(this.providerId);
    return cursor && { syncedAt: cursor.syncedAt };
  }

  /**
   * One delta poll: reads what changed since the stored deltaLinks, applies
   * it to the stored snapshot, derives the entities from the snapshot with
   * the full read's own reader, naming and validation (so nesting, names
   * and the disabled-account rule are recomputed over the whole set), and
   * sends the catalog only the difference. A poll that fails changes
   * nothing and keeps the cursor, so the next one reads the same changes
   * again. An expired token starts a full round.
   */
  async poll(): Promise<DeltaPollStatus | IngestionRunStatus> {
    if (!this.connection) throw new Error('Not connected to the catalog');
    const { client, store, logger } = this.options;
    const deltaStore = this.options.delta!.store;
    const startedAt = new Date();
    const state = await store.get(this.providerId);
    let refusedBy: GuardRefusal | undefined;
    const finish = async (
      poll: Omit<
        DeltaPollStatus,
        'startedAt' | 'finishedAt' | 'durationMs' | 'graph'
      >,
    ): Promise<DeltaPollStatus> => {
      const finishedAt = new Date();
      const status: DeltaPollStatus = {
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        durationMs: finishedAt.getTime() - startedAt.getTime(),
        graph: client.currentStats(),
        ...poll,
      };
      await store.update(this.providerId, {
        lastDelta: status,
        ...(status.outcome === 'applied' && { lastAppliedDelta: status }),
      });
      // An expired token is followed at once by a full round, which is
      // the run recorded.
      if (status.outcome !== 'expired') {
        await this.audit({
          mode: 'delta',
          outcome: status.outcome,
          refusedBy,
          error: status.error,
          meta: {
            durationMs: status.durationMs,
            ...(status.changed && { changed: { ...status.changed } }),
            ...(status.applied && { applied: { ...status.applied } }),
            graphRequests: status.graph.requests,
          },
        });
      }
      return status;
    };

    const stored = await deltaStore.meta(this.providerId);
    if (!stored) return this.read();
    const signal = client.beginRun();
    let users: Array<Record<string, any>>;
    let groups: Array<Record<string, any>>;
    let sps: Array<Record<string, any>> = [];
    let cursor: DeltaCursor;
    try {
      const u = await readDelta(client, stored.cursor.usersLink, signal);
      const g = await readDelta(client, stored.cursor.groupsLink, signal);
      const spLink = stored.cursor.servicePrincipalsLink;
      const s = spLink ? await readDelta(client, spLink, signal) : undefined;
      users = u.items;
      groups = g.items;
      sps = s?.items ?? [];
      cursor = {
        usersLink: u.deltaLink,
        groupsLink: g.deltaLink,
        ...(s && { servicePrincipalsLink: s.deltaLink }),
        syncedAt: startedAt.toISOString(),
      };
    } catch (error) {
      if (error instanceof DeltaTokenExpiredError) {
        logger.warn(
          `Entra org delta token expired (${error.message}); reading the whole organisation again.`,
        );
        await finish({ outcome: 'expired', error: error.message });
        await deltaStore.clear(this.providerId);
        this.derived = undefined;
        this.memory = undefined;
        return this.read();
      }
      const message = `Reading changes from Microsoft Graph failed: ${
        (error as Error).message
      }. The catalog is unchanged; the next poll reads the same changes again.`;
      logger.error(`Entra org delta poll failed. ${message}`);
      return finish({ outcome: 'failed', error: message });
    }

    if (users.length === 0 && groups.length === 0 && sps.length === 0) {
      await deltaStore.saveCursor(this.providerId, cursor);
      return finish({
        outcome: 'unchanged',
        changed: { users: 0, groups: 0 },
        applied: { added: 0, removed: 0 },
      });
    }

    let before: Derived;
    let after: Derived;
    let changed: { users: number; groups: number; servicePrincipals?: number };
    let snapshot: DirectorySnapshot;
    const revision = randomUUID();
    try {
      snapshot =
        this.memory?.revision === stored.revision
          ? this.memory.snapshot
          : (await deltaStore.get(this.providerId))!.snapshot;
      // Changed in place below: kept again only once saved.
      this.memory = undefined;
      before =
        this.derived?.revision === stored.revision
          ? this.derived
          : derive(stored.revision, await this.deriveFrom(snapshot, signal));
      const { unknownServicePrincipals, ...counted } = applyDelta(
        snapshot,
        users,
        groups,
        sps,
      );
      changed = counted;
      if (
        this.servicePrincipalPolicy().enabled &&
        unknownServicePrincipals.length
      ) {
        await readMissingServicePrincipals(
          client,
          this.options.config.target.replace(/\/+$/, ''),
          snapshot,
          unknownServicePrincipals,
          signal,
        );
      }
      after = derive(revision, await this.deriveFrom(snapshot, signal));
    } catch (error) {
      const message = `Deriving the organisation from the changes failed: ${
        (error as Error).message
      }. The catalog is unchanged.`;
      logger.error(`Entra org delta poll failed. ${message}`);
      return finish({ outcome: 'failed', error: message });
    }

    const locationKey = entraOrgLocationKey(this.providerId);
    const added = [...after.entities]
      .filter(([ref, e]) => before.entities.get(ref)?.json !== e.json)
      .map(([, e]) => ({ entity: e.entity, locationKey }));
    const removed = [...before.entities.keys()]
      .filter(ref => !after.entities.has(ref))
      .map(entityRef => ({ entityRef, locationKey }));

    // The guard holds the sum of what polls removed since the last full
    // round against that round's baseline.
    const removedNow = removedCounts(before, after);
    const sum: Counts = {
      users: (state.deltaRemoved?.users ?? 0) + removedNow.users,
      groups: (state.deltaRemoved?.groups ?? 0) + removedNow.groups,
      memberships:
        (state.deltaRemoved?.memberships ?? 0) + removedNow.memberships,
      servicePrincipals:
        (state.deltaRemoved?.servicePrincipals ?? 0) +
        (removedNow.servicePrincipals ?? 0),
    };
    // Against the larger of that baseline and what the catalog held before
    // this poll: removing half of what was added since is no mass deletion.
    const held = objectsOf(before);
    const window = state.baseline && {
      users: Math.max(state.baseline.users, held.users.size),
      groups: Math.max(state.baseline.groups, held.groups.size + 1),
      ...(state.baseline.memberships !== undefined && {
        memberships: Math.max(
          state.baseline.memberships,
          held.memberships.size,
        ),
      }),
      ...(state.baseline.servicePrincipals !== undefined && {
        servicePrincipals: Math.max(
          state.baseline.servicePrincipals,
          held.servicePrincipals.size,
        ),
      }),
    };
    const over = this.overShare(window, sum);
    if (over && !state.override) {
      const error =
        `Changes from Graph since the last full round would remove ${
          sum[over]
        } of the ${window![over]} ${
          KIND_TEXT[over]
        } it ingested or added since ` +
        `(more than ${
          this.maxShare() * 100
        }%). The catalog is unchanged and polls stop at these changes. ` +
        'If the removal is intended, an admin can allow it once (Entra org status card, or ' +
        `POST /api/catalog/entra-org/providers/${this.providerId}/allow-removal), which reads the whole organisation again.`;
      logger.error(`Entra org delta poll refused: ${error}`);
      refusedBy = { kind: over, removed: sum[over] ?? 0, of: window![over]! };
      return finish({ outcome: 'refused', changed, error });
    }

    if (added.length || removed.length) {
      try {
        await this.connection.applyMutation({ type: 'delta', added, removed });
      } catch (error) {
        const message = `Applying changes to the catalog failed: ${
          (error as Error).message
        }`;
        logger.error(`Entra org delta poll failed. ${message}`);
        return finish({ outcome: 'failed', changed, error: message });
      }
    }
    await deltaStore.save(this.providerId, { cursor, snapshot, revision });
    this.derived = after;
    this.memory = { revision, snapshot };
    await store.update(this.providerId, {
      deltaRemoved: sum,
      ...(over && { override: undefined }),
    });
    const status = await finish({
      outcome: 'applied',
      changed,
      applied: { added: added.length, removed: removed.length },
    });
    logger.info(
      `Entra org delta applied ${added.length} added or changed and ${removed.length} removed entities from ${changed.users} users and ${changed.groups} groups Graph reported changed, in ${status.durationMs} ms: ${status.graph.requests} Graph requests`,
    );
    return status;
  }

  /** The entities a full read would produce from this snapshot. */
  private async deriveFrom(
    snapshot: DirectorySnapshot,
    signal: AbortSignal,
  ): Promise<OrgRead> {
    return this.readOrg(signal, snapshotClient(snapshot, this.options.client));
  }

  /** Lets the next run past the deletion guard once. */
  async allowNextRemoval(requestedBy: string): Promise<void> {
    await this.options.store.update(this.providerId, {
      override: { requestedBy, requestedAt: new Date().toISOString() },
    });
  }

  private async readOrg(
    signal: AbortSignal,
    graph: MicrosoftGraphClient = this.options.client,
  ): Promise<OrgRead> {
    const { config, client, logger } = this.options;
    const naming = new EntraEntityNaming({
      guests: this.options.guests ?? 'exclude',
    });
    const collector = servicePrincipalCollector(graph);
    try {
      const org = await readMicrosoftGraphOrg(
        collector.client,
        config.tenantId,
        {
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
        },
      );
      // Rethrows a member read that failed while the reader went on.
      client.endRun();
      const named = naming.assignNames(org.users, org.groups);
      const apps = servicePrincipalEntities({
        collected: collector.collected,
        groups: named.groups,
        people: named.users,
        tenantId: config.tenantId,
        policy: this.servicePrincipalPolicy(),
      });
      if (apps.withoutAppId > 0) {
        logger.warn(
          `Entra org ingestion left out ${apps.withoutAppId} service principals in ingested groups: Graph sent them without appId. Grant the app registration Application.Read.All (application permission) so that pipelines become catalog entities.`,
        );
      }
      // Validated as the catalog will see them, location annotations included.
      const valid = await validateEntities(
        [...named.users, ...apps.entities].map(e => this.withLocation(e)),
        named.groups.map(e => this.withLocation(e)),
      );
      return {
        users: valid.users.filter(u => !isServicePrincipalEntity(u)),
        servicePrincipals: valid.users.filter(isServicePrincipalEntity),
        groups: valid.groups,
        rejected: valid.rejected,
      };
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
      entities: [...read.users, ...read.servicePrincipals, ...read.groups].map(
        entity => ({
          locationKey,
          entity,
        }),
      ),
    });
  }

  private excessiveRemoval(
    baseline: Partial<Counts> | undefined,
    counts: Counts,
  ): { kind: keyof Counts; removed: number } | undefined {
    if (!baseline) return undefined;
    for (const kind of GUARDED_KINDS) {
      const before = baseline[kind];
      // A baseline from before memberships were counted has none: no guard.
      if (before === undefined) continue;
      const removed = before - (counts[kind] ?? 0);
      if (removed <= (ALWAYS_ALLOWED_REMOVALS[kind] ?? 0)) continue;
      if (before > 0 && removed / before > this.maxShare()) {
        return { kind, removed };
      }
    }
    return undefined;
  }

  /** The kind whose removals exceed the share of the baseline, if any. */
  private overShare(
    baseline: Partial<Counts> | undefined,
    removed: Counts,
  ): keyof Counts | undefined {
    if (!baseline) return undefined;
    return GUARDED_KINDS.find(kind => {
      const before = baseline[kind];
      return (
        before !== undefined &&
        before > 0 &&
        (removed[kind] ?? 0) > (ALWAYS_ALLOWED_REMOVALS[kind] ?? 0) &&
        (removed[kind] ?? 0) / before > this.maxShare()
      );
    });
  }

  private servicePrincipalPolicy(): ServicePrincipalPolicy {
    return (
      this.options.servicePrincipals ?? {
        enabled: true,
        types: DEFAULT_SERVICE_PRINCIPAL_TYPES,
      }
    );
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
