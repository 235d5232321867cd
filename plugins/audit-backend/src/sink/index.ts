/**
 * The backend-wide half of the audit trail: the auditor every plugin gets
 * (`auditorServiceFactory`), the root sink it hands events to, and the
 * resolver that completes actors from the catalog.
 */
export { auditSinkServiceRef } from './auditSinkServiceRef';
export { auditorServiceFactory } from './auditorServiceFactory';
export { BufferedAuditSink } from './BufferedAuditSink';
export type { BufferedAuditSinkOptions } from './BufferedAuditSink';
export { CatalogActorResolver } from './CatalogActorResolver';
export type { CatalogActorResolverOptions } from './CatalogActorResolver';
export type {
  AuditSink,
  AuditEventWriter,
  AuditActorResolver,
  AuditSinkStats,
} from './types';
