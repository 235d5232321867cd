import { Knex } from 'knex';
import { GraphRunStats } from './graphClient';

/** How an ingestion run ended. */
export type RunOutcome = 'applied' | 'refused' | 'failed';

/** What a run read or sent, per kind. */
export interface IngestionCounts {
  users: number;
  groups: number;
  /** Each person's groups plus each group's child groups (the root's not counted). */
  memberships: number;
  /**
   * Service principals (pipelines) that are members of ingested groups,
   * guarded on their own. Absent in runs from before they were ingested.
   */
  servicePrincipals?: number;
}

/** The last run of one provider, as admins see it. */
export interface IngestionRunStatus {
  providerId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Time spent reading Graph (the rest is the guard and the catalog write). */
  readMs?: number;
  outcome: RunOutcome;
  /** Valid entities Graph returned this run (absent when the read failed). */
  read?: IngestionCounts;
  /** What the run's mutation held (only when it was applied). */
  sent?: IngestionCounts;
  /**
   * Objects left out because the catalog would reject them (each one is
   * logged with its object id and the reason).
   */
  rejected?: { users: number; groups: number };
  /**
   * What the catalog holds from this provider, counted in the catalog when
   * the status is asked for (never stored). The catalog processes a mutation
   * in the background, so right after a run this can still be catching up
   * with `sent`.
   */
  ingested?: { users: number; groups: number; servicePrincipals?: number };
  graph: GraphRunStats;
  /** Why the run failed or was refused; says what to do. */
  error?: string;
  /** Set when this run was allowed past the deletion guard. */
  removalAllowedBy?: string;
  consecutiveFailures: number;
  /** When the backoff retry after a failed or refused run is due. */
  nextAttemptAt?: string;
}

/** How a delta poll ended. */
export type DeltaOutcome =
  | 'applied'
  | 'unchanged'
  | 'refused'
  | 'failed'
  /** Graph had no state for the token any more: a full round followed. */
  | 'expired';

/** The last delta poll of one provider. */
export interface DeltaPollStatus {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  outcome: DeltaOutcome;
  /** Graph objects the poll's delta pages reported, per kind. */
  changed?: { users: number; groups: number; servicePrincipals?: number };
  /**
   * What the poll's delta mutation held: entities added or replaced, and
   * entities removed (a renamed entity is one of each).
   */
  applied?: { added: number; removed: number };
  graph: GraphRunStats;
  /** Why the poll failed or was refused; says what to do. */
  error?: string;
}

/** A one-shot permission to apply a run the deletion guard would refuse. */
export interface RemovalOverride {
  requestedBy: string;
  requestedAt: string;
}

export interface ProviderState {
  /**
   * Counts applied by the last successful run: the deletion guard's
   * baseline. Baselines stored before memberships were counted lack them.
   */
  baseline?: {
    users: number;
    groups: number;
    memberships?: number;
    servicePrincipals?: number;
  };
  lastRun?: IngestionRunStatus;
  override?: RemovalOverride;
  /** When the last full round (the reconciliation) was applied. */
  lastReconciledAt?: string;
  /** The last delta poll, whatever its outcome. */
  lastDelta?: DeltaPollStatus;
  /** The last delta poll that changed the catalog. */
  lastAppliedDelta?: DeltaPollStatus;
  /**
   * What delta polls removed since the last full round: the deletion guard
   * holds their sum against that round's baseline, so many small removals
   * cannot add up to what one run could not do.
   */
  deltaRemoved?: IngestionCounts;
  /** An admin asked for a full round (run now, allow removal). */
  fullRoundRequested?: boolean;
  /**
   * Who asked for it (a user entity ref, or `service:<subject>`), for the
   * audit event of the run it caused; cleared by the next full round.
   */
  fullRoundRequestedBy?: string;
}

/**
 * Where the provider keeps its baseline, its last run and a pending
 * override. It lives in the catalog's database rather than in memory so that
 * the deletion guard still holds after a restart (an empty directory right
 * after a deploy is exactly the case it exists for), and so that every
 * replica reports the run the scheduler gave to whichever replica.
 */
export interface ProviderStateStore {
  get(providerId: string): Promise<ProviderState>;
  update(providerId: string, change: Partial<ProviderState>): Promise<void>;
  list(): Promise<Array<ProviderState & { providerId: string }>>;
}

const TABLE = 'entra_org_provider_state';

export class DatabaseProviderStateStore implements ProviderStateStore {
  static async create(knex: Knex): Promise<DatabaseProviderStateStore> {
    if (!(await knex.schema.hasTable(TABLE))) {
      try {
        await knex.schema.createTable(TABLE, table => {
          table.string('provider_id').primary();
          table.text('state').notNullable();
        });
      } catch (error) {
        // Another replica created it first.
        if (!(await knex.schema.hasTable(TABLE))) throw error;
      }
    }
    return new DatabaseProviderStateStore(knex);
  }

  private constructor(private readonly knex: Knex) {}

  async get(providerId: string): Promise<ProviderState> {
    const row = await this.knex(TABLE)
      .where({ provider_id: providerId })
      .first();
    return row ? JSON.parse(row.state) : {};
  }

  async update(
    providerId: string,
    change: Partial<ProviderState>,
  ): Promise<void> {
    await this.knex.transaction(async tx => {
      const row = await tx(TABLE).where({ provider_id: providerId }).first();
      const state = { ...(row ? JSON.parse(row.state) : {}), ...change };
      // `undefined` clears a field (e.g. a consumed override).
      const json = JSON.stringify(state);
      if (row) {
        await tx(TABLE)
          .where({ provider_id: providerId })
          .update({ state: json });
      } else {
        await tx(TABLE).insert({ provider_id: providerId, state: json });
      }
    });
  }

  async list(): Promise<Array<ProviderState & { providerId: string }>> {
    const rows = await this.knex(TABLE).orderBy('provider_id');
    return rows.map(row => ({
      providerId: row.provider_id,
      ...JSON.parse(row.state),
    }));
  }
}
