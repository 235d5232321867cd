import { Knex } from 'knex';

/**
 * This module's tables in the auth plugin's database, with their own
 * migrations table so they never mix with upstream's. Kept in code (not a
 * migrations folder) so that running from source and from the bundle agree.
 */
const migrations: Record<string, Knex.Migration> = {
  '20261203_agent_grants': {
    async up(knex) {
      await knex.schema.createTable('agent_grants', table => {
        table.string('id').primary().notNullable();
        table.string('user_entity_ref').notNullable();
        table.text('oidc_client_id').notNullable();
        table.text('client_name').notNullable();
        table.text('scope').nullable();
        table.timestamp('created_at', { useTz: true }).notNullable();
        table.timestamp('expires_at', { useTz: true }).notNullable();
        table.timestamp('last_used_at', { useTz: true }).nullable();
        table.timestamp('revoked_at', { useTz: true }).nullable();
        table.string('revoked_by').nullable();
        table.index('user_entity_ref', 'agent_grants_user_idx');
      });
      await knex.schema.createTable('agent_access_tokens', table => {
        // sha256 of the token: a database read gives nothing to replay.
        table.string('token_hash').primary().notNullable();
        table
          .string('grant_id')
          .notNullable()
          .references('id')
          .inTable('agent_grants')
          .onDelete('CASCADE');
        table.timestamp('expires_at', { useTz: true }).notNullable();
        table.index('expires_at', 'agent_access_tokens_expires_idx');
      });
    },
    async down(knex) {
      await knex.schema.dropTable('agent_access_tokens');
      await knex.schema.dropTable('agent_grants');
    },
  },
  '20261203_agent_delegations': {
    async up(knex) {
      await knex.schema.createTable('agent_delegations', table => {
        table.string('id').primary().notNullable();
        table.string('user_entity_ref').notNullable();
        table.text('oidc_client_id').notNullable();
        table.string('session_id').notNullable();
        // Set when the person approves the session the delegation came with.
        table.string('grant_id').nullable();
        table.string('state').notNullable();
        table.string('oid').nullable();
        table.string('tid').nullable();
        // AES-256-GCM: the PKCE verifier while pending, then the MSAL cache.
        table.text('ciphertext').nullable();
        table.string('iv').nullable();
        table.string('key_id').nullable();
        table.timestamp('created_at', { useTz: true }).notNullable();
        table.timestamp('expires_at', { useTz: true }).notNullable();
        table.timestamp('last_refreshed_at', { useTz: true }).nullable();
        table.index('grant_id', 'agent_delegations_grant_idx');
        table.index(
          ['user_entity_ref', 'oidc_client_id'],
          'agent_delegations_user_client_idx',
        );
      });
    },
    async down(knex) {
      await knex.schema.dropTable('agent_delegations');
    },
  },
};

const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations).sort(),
  getMigrationName: name => name,
  getMigration: async name => migrations[name],
};

/** Brings this module's tables up to date. */
export async function migrateAgentAccess(knex: Knex) {
  await knex.migrate.latest({
    tableName: 'agent_access_knex_migrations',
    migrationSource,
  });
}
