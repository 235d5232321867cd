/**
 * Lets only the owners of every entity of a registered location (and
 * admins) unregister it or re-point it at another target.
 *
 * @packageDocumentation
 */
export { catalogModuleOwnerUnregister as default } from './module';
