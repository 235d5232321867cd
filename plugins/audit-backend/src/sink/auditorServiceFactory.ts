import { randomUUID } from 'node:crypto';
import {
  AuditorService,
  AuditorServiceCreateEventOptions,
  AuditorServiceEvent,
  AuditorServiceEventSeverityLevel,
  AuthService,
  BackstageCredentials,
  HttpAuthService,
  LoggerService,
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { JsonObject } from '@backstage/types';
import {
  AuditActor,
  AuditActorKind,
  AuditEvent,
} from '@internal/plugin-audit-common';
import type { Request } from 'express';
import { auditSinkServiceRef } from './auditSinkServiceRef';
import { extractEntityRefs, redactMeta, redactString } from './redact';
import { AuditSink } from './types';

type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const SEVERITIES: readonly AuditorServiceEventSeverityLevel[] = [
  'low',
  'medium',
  'high',
  'critical',
];
const ACTOR_KINDS: readonly AuditActorKind[] = [
  'person',
  'pipeline',
  'agent',
  'plugin',
  'service',
  'anonymous',
];
const ACTOR_FIELDS = [
  'entityRef',
  'oid',
  'tid',
  'appId',
  'clientId',
  'plugin',
  'subject',
  'ip',
  'userAgent',
] as const;

/**
 * Upstream's `backend.auditor.severityLogLevelMappings` (same defaults, same
 * error), so moving to this auditor changes no log level.
 */
function readSeverityLogLevels(
  config: Config,
): Record<AuditorServiceEventSeverityLevel, LogLevel> {
  const defaults: Record<AuditorServiceEventSeverityLevel, LogLevel> = {
    low: 'debug',
    medium: 'info',
    high: 'info',
    critical: 'info',
  };
  const result = { ...defaults };
  for (const severity of SEVERITIES) {
    const key = `backend.auditor.severityLogLevelMappings.${severity}`;
    const value = config.getOptionalString(key);
    if (value === undefined) continue;
    if (!LOG_LEVELS.includes(value as LogLevel)) {
      throw new InputError(
        `The configuration value for '${key}' was given an invalid value: '${value}'. Expected one of the following valid values: '${LOG_LEVELS.join(
          ', ',
        )}'.`,
      );
    }
    result[severity] = value as LogLevel;
  }
  return result;
}

/** `meta.actor` as a plugin gave it, if it is an AuditActor at all. */
function explicitActorOf(value: unknown): AuditActor | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return undefined;
  }
  const given = value as Record<string, unknown>;
  if (!ACTOR_KINDS.includes(given.kind as AuditActorKind)) return undefined;
  const actor: AuditActor = { kind: given.kind as AuditActorKind };
  for (const field of ACTOR_FIELDS) {
    const v = given[field];
    if (typeof v === 'string' && v) actor[field] = redactString(v);
  }
  if (actor.entityRef) {
    actor.entityRef = actor.entityRef.toLocaleLowerCase('en-US');
  }
  return actor;
}

function agentClientIdOf(meta: JsonObject): string | undefined {
  const agent = meta.agent;
  if (!agent || typeof agent !== 'object' || Array.isArray(agent)) {
    return undefined;
  }
  const clientId = agent.clientId;
  return typeof clientId === 'string' && clientId ? clientId : undefined;
}

function routeOf(request: Request): string {
  const url = String(request.originalUrl ?? request.url ?? '');
  const q = url.indexOf('?');
  // The query of a sign-in callback carries the authorization code and state.
  return redactString(q === -1 ? url : url.slice(0, q));
}

function headerOf(request: Request, name: string): string | undefined {
  try {
    const v = request.get?.(name);
    return typeof v === 'string' && v ? v : undefined;
  } catch {
    return undefined;
  }
}

function sanitizedError(error: unknown): Error {
  const source =
    error instanceof Error ? error : new Error(String(error ?? 'unknown'));
  const safe = new Error(redactString(String(source.message)));
  safe.name = String(source.name || 'Error');
  if (typeof source.stack === 'string') safe.stack = redactString(source.stack);
  return safe;
}

interface Caller {
  /** What the credentials say (before meta.actor / meta.agent). */
  actor: AuditActor;
  /** Whether the request carried a valid user token or cookie. */
  isUser: boolean;
  /** Upstream's `actorId`: user entity ref or service subject. */
  actorId?: string;
}

/**
 * The portal's AuditorService for one plugin: logs each event like upstream
 * (an `isAuditEvent` line when initiated and one at the outcome, secrets
 * redacted) and hands one AuditEvent per createEvent to the root sink at the
 * outcome. Auditing must never break what it audits: nothing here throws into
 * the caller or waits for the database.
 */
class PortalAuditor implements AuditorService {
  constructor(
    private readonly deps: {
      pluginId: string;
      logger: LoggerService;
      levels: Record<AuditorServiceEventSeverityLevel, LogLevel>;
      auth: AuthService;
      httpAuth: HttpAuthService;
      sink: AuditSink;
    },
  ) {}

  async createEvent(
    options: AuditorServiceCreateEventOptions,
  ): Promise<AuditorServiceEvent> {
    const id = randomUUID();
    const time = new Date().toISOString();
    const severity: AuditorServiceEventSeverityLevel = SEVERITIES.includes(
      options.severityLevel as AuditorServiceEventSeverityLevel,
    )
      ? (options.severityLevel as AuditorServiceEventSeverityLevel)
      : 'low';
    const request = options.request;
    const caller = await this.#caller(request).catch(
      (): Caller => ({ actor: { kind: 'anonymous' }, isUser: false }),
    );
    const requestFields = request
      ? {
          ip: typeof request.ip === 'string' ? request.ip : undefined,
          hostname:
            typeof request.hostname === 'string' ? request.hostname : undefined,
          userAgent:
            redactString(headerOf(request, 'user-agent') ?? '') || undefined,
        }
      : {};
    let stored = false;

    const outcome = (
      status: 'succeeded' | 'failed',
      extraMeta: JsonObject | undefined,
      error?: unknown,
    ) => {
      try {
        const merged: Record<string, unknown> = {
          ...(options.meta ?? {}),
          ...(extraMeta ?? {}),
        };
        let actor = caller.actor;
        // meta.actor names who acted when the caller is not that person
        // (sign-in, a deploy run by the worker for its initiator); a signed-in
        // caller is always the actor and cannot claim to be someone else.
        const explicit = explicitActorOf(merged.actor);
        if (explicit && !caller.isUser) {
          actor = explicit;
          delete merged.actor;
        }
        const meta = redactMeta(merged);
        if (caller.isUser && actor === caller.actor) {
          const clientId = agentClientIdOf(meta);
          if (clientId) actor = { ...caller.actor, kind: 'agent', clientId };
        }
        if (requestFields.ip && !actor.ip) {
          actor = { ...actor, ip: requestFields.ip };
        }
        if (requestFields.userAgent && !actor.userAgent) {
          actor = { ...actor, userAgent: requestFields.userAgent };
        }
        const safeError =
          error === undefined ? undefined : sanitizedError(error);

        this.#logSafely(
          severity,
          {
            plugin: this.deps.pluginId,
            eventId: options.eventId,
            severityLevel: severity,
            actor: {
              actorId: actor.entityRef ?? caller.actorId,
              ...requestFields,
            },
            request: request
              ? { url: routeOf(request), method: request.method }
              : undefined,
            meta: Object.keys(meta).length === 0 ? undefined : meta,
            status,
          },
          safeError,
        );

        // A second outcome for the same event is logged, never stored twice.
        if (stored) return;
        stored = true;
        const event: AuditEvent = {
          id,
          time,
          plugin: this.deps.pluginId,
          eventId: String(options.eventId),
          action: `${this.deps.pluginId}.${options.eventId}`,
          severity,
          outcome: status,
          actor,
          ...(request && {
            request: {
              method: String(request.method),
              route: routeOf(request),
            },
          }),
          // A module may name what the plugin's own event cannot (the
          // catalog's delete by uid: catalog-backend-module-audit-entity-refs).
          entityRefs: extractEntityRefs(
            meta,
            request?.res?.locals?.auditEntityRefs,
          ),
          meta,
          ...(safeError && {
            error: { name: safeError.name, message: safeError.message },
          }),
        };
        this.deps.sink.enqueue(event);
      } catch {
        // see the class comment: the audited operation goes on
      }
    };

    this.#logSafely(severity, {
      plugin: this.deps.pluginId,
      eventId: options.eventId,
      severityLevel: severity,
      actor: { actorId: caller.actorId, ...requestFields },
      request: request
        ? { url: routeOf(request), method: request.method }
        : undefined,
      meta: (() => {
        const m = redactMeta(options.meta);
        return Object.keys(m).length === 0 ? undefined : m;
      })(),
      status: 'initiated',
    });

    return {
      success: async params => outcome('succeeded', params?.meta),
      fail: async params => outcome('failed', params?.meta, params?.error),
    };
  }

  /** Logging is best effort: a failing log transport must not cost the event. */
  #logSafely(
    severity: AuditorServiceEventSeverityLevel,
    fields: Record<string, unknown>,
    error?: Error,
  ) {
    try {
      this.#log(severity, fields, error);
    } catch {
      // nothing better to do with it
    }
  }

  /** Upstream's log line: message `<plugin>.<eventId>`, fields as upstream. */
  #log(
    severity: AuditorServiceEventSeverityLevel,
    fields: Record<string, unknown>,
    error?: Error,
  ) {
    const level = this.deps.levels[severity];
    // JSON round trip drops undefined fields, as winston's json format would
    const clean = JSON.parse(JSON.stringify(fields)) as JsonObject;
    if (error) {
      this.deps.logger
        .child(clean)
        [level](`${fields.plugin}.${fields.eventId}`, error);
    } else {
      this.deps.logger[level](`${fields.plugin}.${fields.eventId}`, clean);
    }
  }

  async #caller(request: Request | undefined): Promise<Caller> {
    if (!request) {
      const plugin = this.deps.pluginId;
      return {
        actor: { kind: 'plugin', plugin },
        isUser: false,
        actorId: `plugin:${plugin}`,
      };
    }
    let credentials: BackstageCredentials;
    try {
      credentials = await this.deps.httpAuth.credentials(request);
      // Cookie-authenticated requests (TechDocs pages, app assets) carry a
      // limited user token that the default extraction does not read.
      if (
        this.deps.auth.isPrincipal(credentials, 'none') &&
        headerOf(request, 'cookie')
      ) {
        credentials = await this.deps.httpAuth.credentials(request, {
          allowLimitedAccess: true,
        });
      }
    } catch {
      // a forged or expired token: the request is answered by the route (or
      // refused by it), the trail records it as anonymous
      return { actor: { kind: 'anonymous' }, isUser: false };
    }
    if (this.deps.auth.isPrincipal(credentials, 'user')) {
      const entityRef =
        credentials.principal.userEntityRef.toLocaleLowerCase('en-US');
      return {
        actor: { kind: 'person', entityRef },
        isUser: true,
        actorId: credentials.principal.userEntityRef,
      };
    }
    if (this.deps.auth.isPrincipal(credentials, 'service')) {
      const subject = credentials.principal.subject;
      const plugin = subject.startsWith('plugin:')
        ? subject.slice('plugin:'.length)
        : undefined;
      return {
        actor: plugin
          ? { kind: 'plugin', plugin }
          : { kind: 'service', subject },
        isUser: false,
        actorId: subject,
      };
    }
    return { actor: { kind: 'anonymous' }, isUser: false };
  }
}

/**
 * Replaces `coreServices.auditor` for every plugin of the backend: events are
 * logged as before and also stored in the audit trail (see CONTRACT.md).
 *
 * @public
 */
export const auditorServiceFactory = createServiceFactory({
  service: coreServices.auditor,
  deps: {
    config: coreServices.rootConfig,
    logger: coreServices.logger,
    auth: coreServices.auth,
    httpAuth: coreServices.httpAuth,
    plugin: coreServices.pluginMetadata,
    sink: auditSinkServiceRef,
  },
  factory({ config, logger, auth, httpAuth, plugin, sink }) {
    return new PortalAuditor({
      pluginId: plugin.getId(),
      logger: logger.child({ isAuditEvent: true }),
      levels: readSeverityLogLevels(config),
      auth,
      httpAuth,
      sink,
    });
  },
});
