/**
 * The audit trail: the audit plugin (store, /api/audit routes, retention) as
 * the default export, and the backend-wide auditor and sink it stores from.
 *
 * @packageDocumentation
 */
export { auditPlugin as default } from './plugin';
export * from './sink';
