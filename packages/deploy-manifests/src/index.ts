/**
 * Generates and validates the portal's Kubernetes deployment: Helm values for
 * the official `backstage` chart and plain manifests, from deploy/settings.yaml.
 *
 * @packageDocumentation
 */
export * from './settings';
export * from './generate';
export * from './chartSchema';
