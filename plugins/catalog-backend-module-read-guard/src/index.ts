/**
 * Keeps entities a person may not read out of every catalog answer.
 *
 * @packageDocumentation
 */
export { catalogModuleReadGuard as default } from './module';
