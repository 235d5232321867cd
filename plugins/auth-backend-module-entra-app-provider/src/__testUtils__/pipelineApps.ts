/*
 * The emulator's seeded pipeline apps (service principals that are group
 * members) and the catalog entities org ingestion makes of them.
 */
import { Entity } from '@backstage/catalog-model';
import { EntraEmulator } from '@internal/entra-emulator';
import { pipelineApp, PipelineKey } from '@internal/entra-emulator/testUtils';
import {
  APP_ID_ANNOTATION,
  SERVICE_PRINCIPAL_ID_ANNOTATION,
} from '../resolver';

/** The portal's app role the seed assigns to payments-pipeline. */
export const REGISTRAR_ROLE = 'Catalog.Registrar';

/** The group each seeded pipeline's service principal is a member of. */
export const PIPELINE_GROUPS: Partial<Record<PipelineKey, string>> = {
  'payments-pipeline': 'payments',
  'search-pipeline': 'search',
};

/**
 * What org ingestion makes of a service principal in an ingested group: a
 * User labelled as a service principal, annotated with its object id and
 * app id, never with `graph.microsoft.com/user-id`.
 */
export function servicePrincipalEntity(
  emulator: EntraEmulator,
  key: PipelineKey,
): Entity {
  const app = pipelineApp(emulator, key);
  const group = PIPELINE_GROUPS[key];
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: {
      name: `app-${key}`,
      labels: { 'entra.microsoft.com/principal-type': 'service-principal' },
      annotations: {
        [SERVICE_PRINCIPAL_ID_ANNOTATION]: app.servicePrincipalId,
        [APP_ID_ANNOTATION]: app.appId,
        'graph.microsoft.com/account-enabled': 'true',
        'graph.microsoft.com/tenant-id': app.tenantId,
      },
    },
    spec: {
      profile: { displayName: `${key} (app)` },
      memberOf: group ? [`group:default/${group}`] : [],
    },
  };
}

export const group = (name: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Group',
  metadata: { name },
  spec: { type: 'team', children: [] },
});

export const component = (name: string, owner: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name },
  spec: {
    type: 'service',
    lifecycle: 'production',
    owner: `group:default/${owner}`,
  },
});
