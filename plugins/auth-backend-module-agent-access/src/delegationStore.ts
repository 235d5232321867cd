import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  randomUUID,
  timingSafeEqual,
} from 'node:crypto';
import { Knex } from 'knex';

/** One configured key of `agentAccess.encryptionKeys`; the first encrypts. */
export interface AgentAccessKey {
  id: string;
  secret: string;
}

/** A delegation's lifecycle: pending until Entra's code is redeemed. */
export type DelegationState = 'pending' | 'active' | 'expired' | 'revoked';

export interface Delegation {
  id: string;
  userEntityRef: string;
  clientId: string;
  sessionId: string;
  grantId?: string;
  state: DelegationState;
  oid?: string;
  tid?: string;
  expiresAt: Date;
}

const derive = (secret: string, purpose: string) =>
  Buffer.from(hkdfSync('sha256', secret, '', `agent-access ${purpose}`, 32));

/**
 * AES-256-GCM for the per-delegation MSAL caches (which hold an Entra
 * refresh token) and HMAC for the values handed out (state, deploy
 * handles). The additional data binds a ciphertext to its row, person and
 * client, so swapping ciphertexts between rows fails to decrypt.
 */
export class DelegationCipher {
  readonly #keys: Array<{ id: string; enc: Buffer; mac: Buffer }>;

  constructor(keys: AgentAccessKey[]) {
    if (!keys.length) throw new Error('No agent access encryption keys');
    this.#keys = keys.map(k => ({
      id: k.id,
      enc: derive(k.secret, 'delegation cache'),
      mac: derive(k.secret, 'handle'),
    }));
  }

  encrypt(plaintext: string, aad: string) {
    const key = this.#keys[0];
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.enc, iv);
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([
      cipher.update(plaintext, 'utf8'),
      cipher.final(),
    ]);
    return {
      keyId: key.id,
      iv: iv.toString('base64'),
      ciphertext: Buffer.concat([body, cipher.getAuthTag()]).toString('base64'),
    };
  }

  /** Throws when the key is unknown or the ciphertext, iv or AAD differ. */
  decrypt(
    sealed: { keyId: string; iv: string; ciphertext: string },
    aad: string,
  ) {
    const key = this.#keys.find(k => k.id === sealed.keyId);
    if (!key)
      throw new Error(`encryption key ${sealed.keyId} is no longer configured`);
    const data = Buffer.from(sealed.ciphertext, 'base64');
    const decipher = createDecipheriv(
      'aes-256-gcm',
      key.enc,
      Buffer.from(sealed.iv, 'base64'),
    );
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(data.subarray(data.length - 16));
    return Buffer.concat([
      decipher.update(data.subarray(0, data.length - 16)),
      decipher.final(),
    ]).toString('utf8');
  }

  /** `payload.signature`, signed with the current key. */
  sign(payload: object): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.#mac(this.#keys[0].mac, body)}`;
  }

  /** The payload of a value {@link sign} made, or undefined. */
  verify<T>(value: unknown): T | undefined {
    if (typeof value !== 'string') return undefined;
    const [body, signature, extra] = value.split('.');
    if (!body || !signature || extra !== undefined) return undefined;
    const given = Buffer.from(signature);
    const ok = this.#keys.some(k => {
      const expected = Buffer.from(this.#mac(k.mac, body));
      return (
        expected.length === given.length && timingSafeEqual(expected, given)
      );
    });
    if (!ok) return undefined;
    try {
      return JSON.parse(Buffer.from(body, 'base64url').toString());
    } catch {
      return undefined;
    }
  }

  #mac(key: Buffer, body: string) {
    return createHmac('sha256', key).update(body).digest('base64url');
  }
}

/** The additional authenticated data of a delegation's ciphertext. */
export const delegationAad = (d: {
  id: string;
  userEntityRef: string;
  clientId: string;
}) => `${d.id}|${d.userEntityRef}|${d.clientId}`;

function toDelegation(row: any): Delegation {
  return {
    id: row.id,
    userEntityRef: row.user_entity_ref,
    clientId: row.oidc_client_id,
    sessionId: row.session_id,
    grantId: row.grant_id ?? undefined,
    state: row.state,
    oid: row.oid ?? undefined,
    tid: row.tid ?? undefined,
    expiresAt: new Date(row.expires_at),
  };
}

/**
 * Delegations in the auth database: a person's Entra refresh token (inside
 * an MSAL cache) for one agent, only ever stored encrypted.
 */
export class DelegationStore {
  constructor(
    private readonly db: Knex,
    private readonly cipher: DelegationCipher,
  ) {}

  /** A pending delegation for an authorization session, valid for an hour. */
  async createPending(options: {
    userEntityRef: string;
    clientId: string;
    sessionId: string;
    pkceVerifier: string;
  }): Promise<Delegation> {
    // Swept here rather than on a schedule: starting one is when rows accrue.
    await this.db('agent_delegations')
      .where({ state: 'pending' })
      .where('expires_at', '<', new Date())
      .delete();
    const row = {
      id: randomUUID(),
      user_entity_ref: options.userEntityRef,
      oidc_client_id: options.clientId,
      session_id: options.sessionId,
      state: 'pending',
      created_at: new Date(),
      expires_at: new Date(Date.now() + 3600_000),
    };
    const sealed = this.cipher.encrypt(
      options.pkceVerifier,
      delegationAad(toDelegation(row)),
    );
    await this.db('agent_delegations').insert({
      ...row,
      key_id: sealed.keyId,
      iv: sealed.iv,
      ciphertext: sealed.ciphertext,
    });
    return toDelegation(row);
  }

  async get(id: string): Promise<Delegation | undefined> {
    const row = await this.db('agent_delegations').where({ id }).first();
    return row ? toDelegation(row) : undefined;
  }

  /** The decrypted secret of a row: its PKCE verifier or its MSAL cache. */
  async open(id: string): Promise<string> {
    const row = await this.db('agent_delegations').where({ id }).first();
    if (!row?.ciphertext) throw new Error(`delegation ${id} holds nothing`);
    return this.cipher.decrypt(
      { keyId: row.key_id, iv: row.iv, ciphertext: row.ciphertext },
      delegationAad(toDelegation(row)),
    );
  }

  /** Stores the redeemed MSAL cache and marks the row active. */
  async activate(
    d: Delegation,
    cache: string,
    identity: { oid: string; tid: string },
    expiresAt: Date,
  ) {
    await this.seal(d, cache, {
      state: 'active',
      oid: identity.oid,
      tid: identity.tid,
      expires_at: expiresAt,
    });
  }

  /** Replaces the MSAL cache after a refresh. */
  async seal(d: Delegation, cache: string, extra: object = {}) {
    const sealed = this.cipher.encrypt(cache, delegationAad(d));
    await this.db('agent_delegations')
      .where({ id: d.id })
      .update({
        key_id: sealed.keyId,
        iv: sealed.iv,
        ciphertext: sealed.ciphertext,
        last_refreshed_at: new Date(),
        ...extra,
      });
  }

  /** Links the session's active delegation to the grant its approval made. */
  async attachToGrant(sessionId: string, grantId: string) {
    await this.db('agent_delegations')
      .where({ session_id: sessionId, state: 'active' })
      .update({ grant_id: grantId });
  }

  /** The grant's active delegation, if the person gave one. */
  async activeForGrant(grantId: string): Promise<Delegation | undefined> {
    const row = await this.db('agent_delegations')
      .where({ grant_id: grantId, state: 'active' })
      .where('expires_at', '>', new Date())
      .orderBy('created_at', 'desc')
      .first();
    return row ? toDelegation(row) : undefined;
  }

  /** Entra refused the refresh token: the person must connect again. */
  async expire(id: string) {
    await this.wipe(this.db('agent_delegations').where({ id }), 'expired');
  }

  /** Revocation: no ciphertext of the (person, client) survives. */
  async revokeFor(userEntityRef: string, clientId: string, db: Knex = this.db) {
    await this.wipe(
      db('agent_delegations').where({
        user_entity_ref: userEntityRef,
        oidc_client_id: clientId,
      }),
      'revoked',
    );
  }

  private async wipe(query: Knex.QueryBuilder, state: DelegationState) {
    await query.update({ state, ciphertext: null, iv: null, key_id: null });
  }
}
