/**
 * Per-template run permission for the scaffolder
 * (`scaffolder.template.run`), checked before a task is created.
 *
 * @packageDocumentation
 */
export { scaffolderModuleTemplateRunGuard as default } from './module';
export { templateRunPermission } from './permissions';
