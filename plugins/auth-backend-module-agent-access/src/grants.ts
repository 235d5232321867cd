import { createHash, randomUUID } from 'node:crypto';
import { Knex } from 'knex';

/** An agent's standing permission to act for a person. */
export interface AgentGrant {
  id: string;
  userEntityRef: string;
  clientId: string;
  clientName: string;
  scope?: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
  revokedBy?: string;
}

/** sha256 of a token, the only form in which tokens are stored. */
export const tokenHash = (token: string) =>
  createHash('sha256').update(token).digest('hex');

const iso = (value: unknown) =>
  value === null || value === undefined
    ? undefined
    : new Date(value as string | number | Date).toISOString();

function toGrant(row: any): AgentGrant {
  return {
    id: row.id,
    userEntityRef: row.user_entity_ref,
    clientId: row.oidc_client_id,
    clientName: row.client_name,
    scope: row.scope ?? undefined,
    createdAt: iso(row.created_at)!,
    expiresAt: iso(row.expires_at)!,
    lastUsedAt: iso(row.last_used_at),
    revokedAt: iso(row.revoked_at),
    revokedBy: row.revoked_by ?? undefined,
  };
}

/**
 * Grants per (person, client) and the access tokens issued under them.
 * Upstream's tokens name only the person (`sub`), so this record is the
 * only way to tell an agent's token from a browser's, and to take it back.
 */
export class AgentGrantStore {
  constructor(private readonly db: Knex, private readonly lifetimeMs: number) {}

  /** The person's live grant for the client, created or renewed on approval. */
  async approve(options: {
    userEntityRef: string;
    clientId: string;
    clientName: string;
    scope?: string;
  }): Promise<AgentGrant> {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.lifetimeMs);
    return this.db.transaction(async tx => {
      const live = await this.liveQuery(tx, now)
        .where({
          user_entity_ref: options.userEntityRef,
          oidc_client_id: options.clientId,
        })
        .first();
      if (live) {
        await tx('agent_grants')
          .where({ id: live.id })
          .update({
            client_name: options.clientName,
            scope: options.scope ?? null,
            expires_at: expiresAt,
          });
        return toGrant({
          ...live,
          client_name: options.clientName,
          expires_at: expiresAt,
        });
      }
      const row = {
        id: randomUUID(),
        user_entity_ref: options.userEntityRef,
        oidc_client_id: options.clientId,
        client_name: options.clientName,
        scope: options.scope ?? null,
        created_at: now,
        expires_at: expiresAt,
      };
      await tx('agent_grants').insert(row);
      return toGrant(row);
    });
  }

  /** The live grant of a person for a client, if any. */
  async findLive(
    userEntityRef: string,
    clientId: string,
  ): Promise<AgentGrant | undefined> {
    const row = await this.liveQuery(this.db, new Date())
      .where({ user_entity_ref: userEntityRef, oidc_client_id: clientId })
      .first();
    return row ? toGrant(row) : undefined;
  }

  /** Records that `token` was issued under the grant, until it expires. */
  async bindToken(grantId: string, token: string, expiresAt: Date) {
    const now = new Date();
    await this.db.transaction(async tx => {
      // Swept here rather than on a schedule: issuing is when rows accrue.
      await tx('agent_access_tokens').where('expires_at', '<', now).delete();
      await tx('agent_access_tokens')
        .insert({
          token_hash: tokenHash(token),
          grant_id: grantId,
          expires_at: expiresAt,
        })
        .onConflict('token_hash')
        .ignore();
      await tx('agent_grants')
        .where({ id: grantId })
        .update({ last_used_at: now });
    });
  }

  /**
   * The live grant an unexpired access token was issued under; undefined
   * for a revoked or expired grant and for tokens no agent was given (a
   * browser's).
   */
  async findByToken(token: string): Promise<AgentGrant | undefined> {
    const now = new Date();
    const row = await this.liveQuery(this.db, now, 'g')
      .join('agent_access_tokens as t', 't.grant_id', 'g.id')
      .where('t.token_hash', tokenHash(token))
      .where('t.expires_at', '>', now)
      .select('g.*')
      .first();
    if (!row) return undefined;
    await this.db('agent_grants')
      .where({ id: row.id })
      .update({ last_used_at: now });
    return toGrant(row);
  }

  async get(id: string): Promise<AgentGrant | undefined> {
    const row = await this.db('agent_grants').where({ id }).first();
    return row ? toGrant(row) : undefined;
  }

  /** The person's live grants, newest first. */
  async listLive(userEntityRef: string): Promise<AgentGrant[]> {
    const rows = await this.liveQuery(this.db, new Date())
      .where({ user_entity_ref: userEntityRef })
      .orderBy('created_at', 'desc');
    return rows.map(toGrant);
  }

  /**
   * Revokes a grant: its access tokens stop working at the MCP server at
   * once, and the refresh tokens upstream issued to that client for that
   * person are deleted, so none can mint a new one.
   */
  async revoke(id: string, revokedBy: string): Promise<void> {
    await this.db.transaction(async tx => {
      const row = await tx('agent_grants').where({ id }).first();
      if (!row) return;
      await tx('agent_grants')
        .where({ id })
        .update({ revoked_at: new Date(), revoked_by: revokedBy });
      await tx('agent_access_tokens').where({ grant_id: id }).delete();
      // The person's Entra delegation for this agent goes with the grant.
      await tx('agent_delegations')
        .where({
          user_entity_ref: row.user_entity_ref,
          oidc_client_id: row.oidc_client_id,
        })
        .update({ state: 'revoked', ciphertext: null, iv: null, key_id: null });
      await tx('offline_sessions')
        .where({
          user_entity_ref: row.user_entity_ref,
          oidc_client_id: row.oidc_client_id,
        })
        .delete();
    });
  }

  private liveQuery(db: Knex, now: Date, alias?: string) {
    const col = (name: string) => (alias ? `${alias}.${name}` : name);
    return db(alias ? `agent_grants as ${alias}` : 'agent_grants')
      .whereNull(col('revoked_at'))
      .where(col('expires_at'), '>', now);
  }
}
