/**
 * Names the entity of a catalog delete by uid in the audit trail.
 *
 * @packageDocumentation
 */
export { catalogModuleAuditEntityRefs as default } from './module';
export { AUDIT_ENTITY_REFS_LOCAL } from './module';
