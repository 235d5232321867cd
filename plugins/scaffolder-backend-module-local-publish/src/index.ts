/**
 * publish:local for the scaffolder: templates that run end to end offline.
 *
 * @packageDocumentation
 */
export { scaffolderModuleLocalPublish as default } from './module';
