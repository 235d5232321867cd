/**
 * Refuses to start a production backend with development-only settings.
 *
 * @packageDocumentation
 */
export { refuseDevelopmentOnlySettings } from './guard';
export { findDevelopmentOnlySettings } from './checks';
