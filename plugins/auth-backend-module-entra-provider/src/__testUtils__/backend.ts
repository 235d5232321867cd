/*
 * Test helpers: a backend with the auth plugin, this module and a catalog
 * built from the emulator's seeded organisation, and a browser stand-in that
 * walks the sign-in popup flow over real HTTP.
 */
import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import authPlugin from '@backstage/plugin-auth-backend';
import {
  AuditorService,
  AuditorServiceCreateEventOptions,
  coreServices,
  createServiceFactory,
  ServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import type { EntraEmulator } from '@internal/entra-emulator';
import {
  auditTrail as portalAuditTrail,
  cookieHeader,
  emulatorAuthConfig,
  readPopupResponse,
  signInPopup,
} from '@internal/portal-test-utils';
import { authModuleEntraProvider } from '../module';
import { ENTRA_USER_ID_ANNOTATION } from '../resolvers';

/** The callback URL registered for the portal app in the emulator's seed. */
export const CALLBACK_URL =
  'http://localhost:7007/api/auth/microsoft/handler/frame';

const localPart = (upn: string) =>
  upn
    .split('@')[0]
    .toLocaleLowerCase('en-US')
    .replace(/[^a-z0-9._-]/g, '-');

/**
 * Catalog entities for the seeded org, with the relations the catalog would
 * compute: `memberOf` on users, `childOf` on nested groups.
 */
export function seedEntities(
  emulator: EntraEmulator,
  options: { omitUpns?: string[] } = {},
): Entity[] {
  const { users, groups } = emulator.seed;
  const userName = new Map(
    users.map(u => [u.id, localPart(u.userPrincipalName)]),
  );
  const groupName = new Map(
    groups.map(g => [g.id, g.displayName.toLowerCase()]),
  );
  const parents = new Map<string, string[]>();
  for (const g of groups) {
    for (const m of g.members) {
      parents.set(m, [...(parents.get(m) ?? []), g.id]);
    }
  }
  const userEntities: Entity[] = users
    .filter(u => !options.omitUpns?.includes(u.userPrincipalName))
    .map(u => ({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: {
        name: userName.get(u.id)!,
        annotations: { [ENTRA_USER_ID_ANNOTATION]: u.id },
      },
      spec: {
        profile: { displayName: u.displayName, email: u.mail ?? undefined },
        memberOf: (parents.get(u.id) ?? []).map(p => groupName.get(p)!),
      },
      relations: (parents.get(u.id) ?? []).map(p => ({
        type: 'memberOf',
        targetRef: `group:default/${groupName.get(p)}`,
      })),
    }));
  const groupEntities: Entity[] = groups.map(g => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name: groupName.get(g.id)! },
    spec: { type: 'team', children: [] },
    relations: (parents.get(g.id) ?? []).map(p => ({
      type: 'childOf',
      targetRef: `group:default/${groupName.get(p)}`,
    })),
  }));
  return [...userEntities, ...groupEntities];
}

/**
 * Starts the auth plugin with this module against the emulator. With
 * `auditTrail`, `logLines` holds every line the backend logged (audit
 * events' `debug` lines too), for a test to search for secrets.
 */
export async function startAuthBackend(
  emulator: EntraEmulator,
  options: {
    entities?: Entity[];
    provider?: object;
    /** Replaces the in-memory catalog of the seeded org. */
    catalog?: ServiceFactory;
    /** Replaces the in-memory SQLite database, e.g. with a shared PostgreSQL one. */
    database?: ServiceFactory;
    /** Replaces the default auditor, e.g. with {@link recordingAuditor}'s. */
    auditor?: ServiceFactory;
    /**
     * The portal's audit trail instead of the default auditor (as
     * packages/backend runs it), read back with `settledAuditEvents` from
     * @internal/portal-test-utils. It brings real backend auth: with the
     * test default, a request without credentials is a signed-in mock user,
     * and the trail would name that user instead of the verified person.
     */
    auditTrail?: boolean;
  } = {},
) {
  const trail = options.auditTrail
    ? portalAuditTrail({ captureLogs: true })
    : undefined;
  const backend = await startTestBackend({
    features: [
      ...(options.database ? [options.database] : []),
      ...(options.auditor ? [options.auditor] : []),
      ...(trail
        ? [authServiceFactory, httpAuthServiceFactory, ...trail.features]
        : []),
      authPlugin,
      authModuleEntraProvider,
      options.catalog ??
        catalogServiceMock.factory({
          entities: options.entities ?? seedEntities(emulator),
        }),
      mockServices.rootConfig.factory({
        data: {
          app: { baseUrl: 'http://localhost:3000' },
          auth: emulatorAuthConfig(emulator, options.provider),
          ...trail?.config,
        },
      }),
    ],
  });
  const port = (backend.server.address() as { port: number }).port;
  return {
    backend,
    baseUrl: `http://localhost:${port}`,
    logLines: trail?.logLines ?? [],
  };
}

export { cookieHeader, readPopupResponse };

/** What a browser does between "Sign in" and the popup closing. */
export { signInPopup as signIn };

/** What the frontend's microsoftAuthApiRef does to get a (new) access token. */
export function refreshSession(
  baseUrl: string,
  sessionCookie: string,
  scope?: string,
) {
  const query = new URLSearchParams({
    env: 'development',
    ...(scope ? { scope } : {}),
  });
  return fetch(`${baseUrl}/api/auth/microsoft/refresh?${query}`, {
    headers: { cookie: sessionCookie, 'x-requested-with': 'XMLHttpRequest' },
  });
}

/** One audit event as a plugin emitted it, with its outcome. */
export interface RecordedAuditEvent {
  plugin: string;
  eventId: string;
  severityLevel?: string;
  /**
   * What an auditor logs or stores of the request (upstream's logs
   * `originalUrl`). Its headers carry the browser's cookies, which only
   * the auditor's credential check reads.
   */
  request?: {
    method: string;
    originalUrl: string;
    url: string;
    query: unknown;
  };
  meta?: unknown;
  outcome?: 'succeeded' | 'failed';
  outcomeMeta?: unknown;
  error?: { name: string; message: string; cause?: unknown; stack?: string };
}

/**
 * An auditor that records every createEvent and its success or fail, for
 * tests to assert on exactly what a plugin handed the audit trail.
 */
export function recordingAuditor() {
  const events: RecordedAuditEvent[] = [];
  const factory = createServiceFactory({
    service: coreServices.auditor,
    deps: { plugin: coreServices.pluginMetadata },
    factory({ plugin }): AuditorService {
      return {
        async createEvent(options: AuditorServiceCreateEventOptions) {
          const req = options.request;
          const event: RecordedAuditEvent = {
            plugin: plugin.getId(),
            eventId: options.eventId,
            severityLevel: options.severityLevel,
            request: req && {
              method: req.method,
              originalUrl: req.originalUrl,
              url: req.url,
              query: req.query,
            },
            meta: options.meta,
          };
          events.push(event);
          return {
            async success(params) {
              event.outcome = 'succeeded';
              event.outcomeMeta = params?.meta;
            },
            async fail(params) {
              event.outcome = 'failed';
              event.outcomeMeta = params.meta;
              event.error = {
                ...params.error,
                name: params.error.name,
                message: params.error.message,
                cause: (params.error as { cause?: unknown }).cause,
                stack: params.error.stack,
              };
            },
          };
        },
      };
    },
  });
  return { events, factory };
}
