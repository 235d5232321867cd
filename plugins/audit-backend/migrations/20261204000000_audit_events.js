// @ts-check

/**
 * The audit trail. `seq` is the paging order (newest = highest): a cursor is
 * the last seq seen, so events written while someone pages only ever land
 * before their first page, never inside a later one.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('audit_events', table => {
    table.comment('Every auditor event of the backend, secrets redacted');
    table.bigIncrements('seq').primary();
    // Unique so that a batch the sink retries after a lost answer is stored
    // once (insert ... on conflict do nothing).
    table.uuid('id').notNullable().unique('audit_events_id_uniq');
    table.timestamp('occurred_at', { useTz: true }).notNullable();
    table.string('plugin').notNullable();
    table.string('event_id').notNullable();
    table.string('action').notNullable();
    table.string('severity', 16).notNullable();
    table.string('outcome', 16).notNullable();
    table.string('actor_kind', 16).notNullable();
    table.string('actor_ref').nullable();
    table.string('actor_oid').nullable();
    table.string('actor_tid').nullable();
    table.string('actor_app_id').nullable();
    table.string('actor_client_id', 2048).nullable();
    table.text('actor').notNullable();
    table.string('request_method', 16).nullable();
    table.text('request_route').nullable();
    table.text('entity_refs').notNullable();
    table.text('meta').notNullable();
    table.text('error').nullable();

    // Every filter is an equality (or a time range) followed by "newest
    // first by seq", so each index ends in seq.
    table.index(['actor_ref', 'seq'], 'audit_events_actor_ref_seq_idx');
    table.index(['action', 'seq'], 'audit_events_action_seq_idx');
    table.index(['event_id', 'seq'], 'audit_events_event_id_seq_idx');
    table.index(['outcome', 'seq'], 'audit_events_outcome_seq_idx');
    // Time ranges and retention (occurred_at < cut-off).
    table.index(['occurred_at', 'seq'], 'audit_events_occurred_at_seq_idx');
  });

  await knex.schema.createTable('audit_event_entities', table => {
    table.comment(
      'The entities each audit event is about, for the entity filter',
    );
    // The event's seq as well as its id: the entity filter then reads
    // (entity_ref, event_seq) newest first from the index alone.
    table.bigInteger('event_seq').notNullable();
    table.uuid('event_id').notNullable();
    table.string('entity_ref').notNullable();
    table.primary(['event_seq', 'entity_ref']);
    table.index(
      ['entity_ref', 'event_seq'],
      'audit_event_entities_ref_seq_idx',
    );
    table.index(['event_id'], 'audit_event_entities_event_id_idx');
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.dropTable('audit_event_entities');
  await knex.schema.dropTable('audit_events');
};
