/*
 * Pipeline apps for the acceptance tests: the emulator's seed plus app
 * registrations a pipeline would have (client credentials for the portal's
 * API), and the catalog entities org ingestion makes of their service
 * principals.
 */
import fs from 'node:fs';
import { Entity } from '@backstage/catalog-model';
import {
  DEFAULT_SEED_PATH,
  EmulatorSeed,
  EntraEmulator,
} from '@internal/entra-emulator';
import { decodeJwt, postToken } from '@internal/entra-emulator/testUtils';
import { parse } from 'yaml';
import {
  APP_ID_ANNOTATION,
  SERVICE_PRINCIPAL_ID_ANNOTATION,
} from '../resolver';

/** The app role the tests map to a group. */
export const REGISTRAR_ROLE = 'Portal.Registrar';

export interface PipelineApp {
  name: string;
  clientId: string;
  clientSecret: string;
  /** The group the service principal is a member of; none for a stray app. */
  group?: string;
  roles?: string[];
}

export const PIPELINES = {
  payments: {
    name: 'payments-pipeline',
    clientId: '2f6a1e0c-5b1d-4f3e-9a57-0c6b1f0a7e01',
    clientSecret: 'emulator-only-payments-pipeline-secret',
    group: 'payments',
  },
  search: {
    name: 'search-pipeline',
    clientId: '2f6a1e0c-5b1d-4f3e-9a57-0c6b1f0a7e02',
    clientSecret: 'emulator-only-search-pipeline-secret',
    group: 'search',
  },
  stray: {
    name: 'stray-pipeline',
    clientId: '2f6a1e0c-5b1d-4f3e-9a57-0c6b1f0a7e03',
    clientSecret: 'emulator-only-stray-pipeline-secret',
  },
  registrar: {
    name: 'registrar-pipeline',
    clientId: '2f6a1e0c-5b1d-4f3e-9a57-0c6b1f0a7e04',
    clientSecret: 'emulator-only-registrar-pipeline-secret',
    group: 'data',
    roles: [REGISTRAR_ROLE],
  },
} satisfies Record<string, PipelineApp>;

/** The bundled seed, with the portal exposing an app role and the pipeline apps registered. */
export function seedWithPipelines(): EmulatorSeed {
  const seed = parse(
    fs.readFileSync(DEFAULT_SEED_PATH, 'utf8'),
  ) as EmulatorSeed;
  const portal = seed.apps.find(a => a.key === 'portal')!;
  portal.appRoles = [...(portal.appRoles ?? []), REGISTRAR_ROLE];
  for (const [key, app] of Object.entries(PIPELINES)) {
    if (seed.apps.some(a => a.clientId === app.clientId)) continue;
    seed.apps.push({
      key: `${key}Pipeline`,
      displayName: app.name,
      clientId: app.clientId,
      clientSecrets: [app.clientSecret],
      permissions: [
        {
          resource: portal.clientId,
          application: 'roles' in app ? app.roles : [],
        },
        { resource: 'graph', application: [] },
      ],
    });
  }
  return seed;
}

/** A client-credentials token of `app` for `scope` (default: the portal's API). */
export async function appToken(
  emulator: EntraEmulator,
  app: PipelineApp,
  scope = `api://${emulator.apps.portal.clientId}/.default`,
): Promise<string> {
  const { status, body } = await postToken(emulator, {
    grant_type: 'client_credentials',
    client_id: app.clientId,
    client_secret: app.clientSecret,
    scope,
  });
  if (status !== 200) {
    throw new Error(
      `Token request for ${app.name} failed: ${JSON.stringify(body)}`,
    );
  }
  return body.access_token;
}

/**
 * What org ingestion makes of a service principal in an ingested group: a
 * User labelled as a service principal, annotated with its object id and
 * app id, never with `graph.microsoft.com/user-id`.
 */
export function servicePrincipalEntity(
  app: PipelineApp,
  objectId: string,
  tenantId: string,
): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: {
      name: `app-${app.name}`,
      labels: { 'entra.microsoft.com/principal-type': 'service-principal' },
      annotations: {
        [SERVICE_PRINCIPAL_ID_ANNOTATION]: objectId,
        [APP_ID_ANNOTATION]: app.clientId,
        'graph.microsoft.com/account-enabled': 'true',
        'graph.microsoft.com/tenant-id': tenantId,
      },
    },
    spec: {
      profile: { displayName: `${app.name} (app)` },
      memberOf: app.group ? [`group:default/${app.group}`] : [],
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

/** The service principal's object id, as Entra puts it in the app's tokens. */
export const objectIdOf = (token: string): string => decodeJwt(token).oid;
