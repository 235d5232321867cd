/**
 * Refuses to start a production backend with development-only settings.
 *
 * @packageDocumentation
 */
export { productionGuardPlugin as default } from './plugin';
export { findDevelopmentOnlySettings } from './checks';
