import { createHash } from 'node:crypto';
import { Knex } from 'knex';
import { generators } from 'openid-client';

const TABLE = 'entra_sign_in_flows';

/**
 * How long a started sign-in may take to come back: Backstage's nonce
 * cookie, which binds the state to the browser, lives as long.
 */
export const FLOW_LIFETIME_MS = 10 * 60 * 1000;

/** The secrets of one sign-in flow, checked when Entra sends the person back. */
export interface SignInFlow {
  nonce: string;
  codeVerifier: string;
}

/**
 * Keeps each sign-in's nonce and PKCE verifier in the auth plugin's
 * database, keyed by a hash of the flow's `state`, from `/start` until the
 * callback takes it (once) or it expires.
 *
 * Why a table: the flow may start on one replica and come back to another,
 * or across a restart, so the values must be shared; deriving them from a
 * key (as they were, from the client secret) needs a long-lived secret all
 * replicas hold, which a certificate or federated credential does not give.
 * The database is already shared by every replica. Taking a flow deletes
 * it, so a callback cannot be replayed.
 */
export class SignInFlowStore {
  static async create(
    knex: Knex,
    options: { now?: () => number } = {},
  ): Promise<SignInFlowStore> {
    if (!(await knex.schema.hasTable(TABLE))) {
      try {
        await knex.schema.createTable(TABLE, table => {
          table.string('state_hash', 64).primary();
          table.string('nonce', 128).notNullable();
          table.string('code_verifier', 128).notNullable();
          table.bigInteger('expires_at').notNullable().index();
        });
      } catch (error) {
        // Another replica created it first.
        if (!(await knex.schema.hasTable(TABLE))) throw error;
      }
    }
    return new SignInFlowStore(knex, options.now ?? Date.now);
  }

  private constructor(
    private readonly knex: Knex,
    private readonly now: () => number,
  ) {}

  /** Starts a flow for `state`: fresh random nonce and verifier, stored. */
  async begin(state: string): Promise<SignInFlow> {
    const flow = {
      nonce: generators.nonce(),
      codeVerifier: generators.codeVerifier(),
    };
    const now = this.now();
    // Expired flows go whenever a new one starts: one indexed delete.
    await this.knex(TABLE).where('expires_at', '<', now).delete();
    await this.knex(TABLE).insert({
      state_hash: hashState(state),
      nonce: flow.nonce,
      code_verifier: flow.codeVerifier,
      expires_at: now + FLOW_LIFETIME_MS,
    });
    return flow;
  }

  /**
   * The flow of `state`, removed so it cannot be used twice; undefined when
   * it never started, was already used, or expired.
   */
  async take(state: string): Promise<SignInFlow | undefined> {
    const key = hashState(state);
    const row = await this.knex(TABLE).where({ state_hash: key }).first();
    if (!row) return undefined;
    // Only the request that deletes the row may use it (two callbacks racing).
    const deleted = await this.knex(TABLE).where({ state_hash: key }).delete();
    if (deleted !== 1 || Number(row.expires_at) < this.now()) return undefined;
    return { nonce: row.nonce, codeVerifier: row.code_verifier };
  }
}

function hashState(state: string): string {
  return createHash('sha256').update(state).digest('hex');
}
