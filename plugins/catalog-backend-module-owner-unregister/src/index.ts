/**
 * Lets the owners of every entity of a registered location unregister it.
 *
 * @packageDocumentation
 */
export { catalogModuleOwnerUnregister as default } from './module';
