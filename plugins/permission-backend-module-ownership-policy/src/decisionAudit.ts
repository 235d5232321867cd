import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { AuditorService, LoggerService } from '@backstage/backend-plugin-api';
import { isError, NotAllowedError } from '@backstage/errors';
import {
  AuthorizeResult,
  PermissionCondition,
  PermissionCriteria,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import express, { RequestHandler } from 'express';
import { OwnershipPolicyConfig } from './config';

/** What the policy decided for one `handle` call, and by which rule. */
export interface DecisionSlot {
  permission: string;
  /** The rule that decided; set once the decision is made. */
  rule?: string;
  /** Set when the policy refused by throwing (the person counts as signed out). */
  refused?: Error;
}

/**
 * Lets the policy tell the `/authorize` middleware which rule decided each
 * item. The permission backend calls `policy.handle` once per request item,
 * in item order and synchronously (`items.map(...)`), so the n-th `begin`
 * of a request is its n-th item; the rule is filled in when the decision is
 * made, after awaits the context survives.
 */
export class DecisionRecorder {
  readonly #storage = new AsyncLocalStorage<DecisionSlot[]>();

  /** Called first thing in `handle`; undefined outside an audited request. */
  begin(permission: string): DecisionSlot | undefined {
    const slots = this.#storage.getStore();
    if (!slots) return undefined;
    const slot: DecisionSlot = { permission };
    slots.push(slot);
    return slot;
  }

  run<T>(slots: DecisionSlot[], fn: () => T): T {
    return this.#storage.run(slots, fn);
  }
}

type Criteria = PermissionCriteria<PermissionCondition<string, any>>;

/**
 * A conditional decision's criteria by rule names only, e.g.
 * `IS_ENTITY_OWNER` or `anyOf(not(IS_ENTITY_KIND), IS_ENTITY_OWNER)`. The
 * parameters (a person's every group, entity names) are left out: they are
 * long and the person's groups are in the catalog.
 */
export function describeCriteria(criteria: Criteria): string {
  if ('allOf' in criteria) {
    return `allOf(${criteria.allOf.map(describeCriteria).join(', ')})`;
  }
  if ('anyOf' in criteria) {
    return `anyOf(${criteria.anyOf.map(describeCriteria).join(', ')})`;
  }
  if ('not' in criteria) {
    return `not(${describeCriteria(criteria.not)})`;
  }
  return criteria.rule;
}

/** The rule name of a conditional decision (undefined for others). */
export function conditionalRule(decision: PolicyDecision): string | undefined {
  return decision.result === AuthorizeResult.CONDITIONAL
    ? describeCriteria(decision.conditions)
    : undefined;
}

interface RequestItem {
  permission?: { name?: unknown; resourceType?: unknown };
  resourceRef?: unknown;
}

interface AnswerItem {
  id?: unknown;
  result?: unknown;
}

interface Denial {
  permission: string;
  resourceType?: string;
  resourceRef?: string;
  rule: string;
  error: Error;
}

/** The denials of one answer of `/authorize`, item by item. */
function denialsOf(
  requested: RequestItem[],
  slots: DecisionSlot[],
  answer: unknown,
  logger: LoggerService,
): Denial[] {
  const items = (answer as { items?: AnswerItem[] } | undefined)?.items;
  // Anything but an answer to every item is an error response: the only
  // denials in it are the policy's refusals (the person counts as signed
  // out), which fail the whole request with a 403. The backend answers at
  // the first refusal, while the policy may still be deciding the other
  // items, so every item of the request is recorded as refused by it.
  if (!Array.isArray(items) || items.length !== requested.length) {
    const refused = slots.find(slot => slot.refused)?.refused;
    if (!refused) return [];
    return requested.map((item, i) => ({
      ...describeItem(item, slots[i]?.permission),
      rule: 'signed-out',
      error: refused,
    }));
  }
  const ordered = slots.length === requested.length;
  return items.flatMap((item, i) => {
    const request = requested[i];
    const described = describeItem(request, undefined);
    const slot = slots[i];
    let rule = slot?.rule;
    if (!ordered || !slot || slot.permission !== described.permission) {
      // Never expected (the backend asks the policy once per item, in
      // order); the denial is still recorded, with no rule named.
      logger.warn(
        `Could not tell which rule decided ${described.permission}: the policy was asked ${slots.length} times for ${requested.length} items`,
      );
      rule = undefined;
    }
    const decided = rule ?? 'unrecorded';
    const denial = (resourceRef?: string): Denial => ({
      ...described,
      ...(resourceRef !== undefined && { resourceRef }),
      rule: decided,
      error: new NotAllowedError(
        `${described.permission} denied by ${decided}`,
      ),
    });
    if (item.result === AuthorizeResult.DENY) {
      return [
        denial(
          typeof request.resourceRef === 'string'
            ? request.resourceRef
            : undefined,
        ),
      ];
    }
    // A batch of resources for one permission: one answer per resource.
    if (Array.isArray(item.result) && Array.isArray(request.resourceRef)) {
      const refs = request.resourceRef;
      return item.result.flatMap((r, j) =>
        r === AuthorizeResult.DENY ? [denial(String(refs[j]))] : [],
      );
    }
    // ALLOW, or CONDITIONAL for a list (the resource plugin filters it).
    return [];
  });
}

function describeItem(
  item: RequestItem | undefined,
  fallbackPermission: string | undefined,
): Omit<Denial, 'rule' | 'error'> {
  const name = item?.permission?.name;
  const resourceType = item?.permission?.resourceType;
  return {
    permission:
      typeof name === 'string' ? name : fallbackPermission ?? 'unknown',
    ...(typeof resourceType === 'string' && { resourceType }),
    ...(typeof item?.resourceRef === 'string' && {
      resourceRef: item.resourceRef,
    }),
  };
}

/**
 * Middleware for the permission plugin's router, added by this module
 * before the plugin adds its own: for `POST /authorize`, one audit event
 * `permission-denied` per denied item, outcome failed, naming the rule that
 * decided. The answer is sent once the events are created, so a denial is
 * in the trail before the caller learns of it.
 *
 * The body is parsed here, outside the recorder's context: the stream's
 * events run in the socket's async context, not the request's. The
 * permission backend's own `express.json()` then sees `req._body` and
 * passes the parsed body on.
 */
export function createDenialAuditMiddleware(options: {
  recorder: DecisionRecorder;
  auditor: AuditorService;
  logger: LoggerService;
}): RequestHandler {
  const { recorder, auditor, logger } = options;
  const parseJson = express.json();
  return (req, res, next) => {
    if (req.method !== 'POST' || req.path !== '/authorize') {
      next();
      return;
    }
    parseJson(req, res, parseError => {
      if (parseError) {
        next(parseError);
        return;
      }
      const requested: RequestItem[] = Array.isArray(req.body?.items)
        ? req.body.items
        : [];
      const slots: DecisionSlot[] = [];
      const json = res.json.bind(res);
      let answered = false;
      res.json = (body: unknown) => {
        if (answered) return json(body);
        answered = true;
        const denials = denialsOf(requested, slots, body, logger);
        Promise.all(
          denials.map(async d => {
            const event = await auditor.createEvent({
              eventId: 'permission-denied',
              severityLevel: 'medium',
              request: req,
              meta: {
                permission: d.permission,
                ...(d.resourceRef !== undefined && {
                  resourceRef: d.resourceRef,
                }),
                ...(d.resourceType !== undefined && {
                  resourceType: d.resourceType,
                }),
                rule: d.rule,
              },
            });
            await event.fail({ error: d.error });
          }),
        )
          .catch(error =>
            logger.error(
              `Could not audit ${denials.length} permission denial(s): ${
                isError(error) ? error.message : error
              }`,
            ),
          )
          .finally(() => json(body));
        return res;
      };
      recorder.run(slots, () => next());
    });
  };
}

/** JSON with object keys sorted at every level, for a stable hash. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter(k => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map(
        k =>
          `${JSON.stringify(k)}:${stableJson(
            (value as Record<string, unknown>)[k],
          )}`,
      )
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * sha256 (hex) of the policy configuration as the policy reads it (refs
 * lowercased, defaults filled in, keys sorted), so the trail shows when the
 * policy changed and a reformatted config keeps its hash.
 */
export function policyConfigHash(config: OwnershipPolicyConfig): string {
  return createHash('sha256').update(stableJson(config)).digest('hex');
}
