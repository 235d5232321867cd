/**
 * Refuses to start a production backend with development-only settings.
 *
 * @packageDocumentation
 */
export { refuseDevelopmentOnlySettings } from './guard';
export {
  findDevelopmentOnlySettings,
  inspectProductionSettings,
} from './checks';
export type {
  ProductionSettingsOptions,
  ProductionSettingsReport,
} from './checks';
export {
  ALLOW_LOOPBACK_ENTRA_ENV,
  isLoopbackEntraAllowed,
  isLoopbackHttpsUrl,
} from './loopback';
