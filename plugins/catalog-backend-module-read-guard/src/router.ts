import {
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { NotFoundError } from '@backstage/errors';
import { catalogEntityReadPermission } from '@backstage/plugin-catalog-common/alpha';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import express, { NextFunction, Request, Response } from 'express';
import Router from 'express-promise-router';
import { CallerReads, normalizeRef } from './callerReads';
import { JsonTransform, interceptJson } from './interceptJson';
import {
  VisitValue,
  isRelationKey,
  mapFilterParam,
  mapStructuredFilter,
  refuseRelationOrderAndSearch,
  rewriteRelationFilters,
} from './relationFilters';
import { dropUnreadableRelations } from './relations';

/**
 * Routes mounted ahead of the catalog's own. For a person whose
 * `catalog.entity.read` the policy answers with a condition (or DENY), they
 * make every answer behave as if entities the person may not read did not
 * exist:
 *
 * - dry-run registrations (`POST /locations?dryRun=true`) and
 *   `POST /analyze-location` list only entities the person may read;
 * - relations whose target the person may not read are dropped from every
 *   entity body;
 * - a relation filter naming such a target matches nothing, as for a ref
 *   that does not exist; relation facets leave such targets out;
 * - `GET /locations/by-entity/...` answers hidden and missing entities with
 *   the same 404, and never shows a file path.
 *
 * The catalog filters its database queries by the decision; what these
 * routes fix is what the decision does not reach: other entities' names in
 * an entity's relations, filters and facets over those names, and entities
 * that are not in the database yet.
 */
export function createReadGuardRouter(options: {
  catalog: CatalogService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  logger: LoggerService;
}): express.Router {
  const { catalog, httpAuth, permissions, logger } = options;
  const router = Router();
  // Parsed here only for filtered callers and only on the routes that need
  // it; same defaults as the catalog's own parser, which then skips.
  const jsonBody = express.json();

  /** Undefined when the caller's reads are not filtered: nothing to do. */
  async function readsOf(req: Request): Promise<CallerReads | undefined> {
    let credentials;
    try {
      credentials = await httpAuth.credentials(req, { allow: ['user'] });
    } catch {
      // Services, and callers the catalog itself will turn away, are not
      // filtered by the policy: the catalog answers them as it would.
      return undefined;
    }
    const [decision] = await permissions.authorizeConditional(
      [{ permission: catalogEntityReadPermission }],
      { credentials },
    );
    if (decision.result === AuthorizeResult.ALLOW) return undefined;
    return new CallerReads({ decision, credentials, catalog });
  }

  function parseBody(req: Request, res: Response) {
    return new Promise<void>((resolve, reject) =>
      jsonBody(req, res, (err?: unknown) => (err ? reject(err) : resolve())),
    );
  }

  /** Rewrites a filter-bearing request, then holds back its answer. */
  async function guard(
    req: Request,
    res: Response,
    next: NextFunction,
    steps: {
      body?: boolean;
      /**
       * Whether this request can name other entities at all: an answer
       * projected to fields without relations, filtered on anything but
       * relations, has nothing to check, so the decision is not even asked.
       */
      concerned?: () => boolean;
      filters?: (reads: CallerReads) => (visit: VisitValue) => void;
      answer: (reads: CallerReads) => JsonTransform;
    },
  ) {
    if (steps.body) await parseBody(req, res);
    if (steps.concerned && !steps.concerned()) {
      next();
      return;
    }
    const reads = await readsOf(req);
    if (!reads) {
      next();
      return;
    }
    if (steps.filters) {
      await rewriteRelationFilters(steps.filters(reads), refs =>
        reads.readable(refs),
      );
    }
    const transform = steps.answer(reads);
    interceptJson(req, res, async (status, body) => {
      try {
        return await transform(status, body);
      } catch (error) {
        logger.warn(
          `Withheld a catalog answer to ${req.method} ${req.path}: checking it against the caller's read permissions failed: ${error}`,
        );
        throw error;
      }
    });
    next();
  }

  const readable = (reads: CallerReads) => (refs: string[]) =>
    reads.readable(refs);

  /** Answers whose entities are at `pick(body)`; errors pass untouched. */
  const entitiesAt =
    (pick: (body: any) => unknown[] | undefined) =>
    (reads: CallerReads): JsonTransform =>
    async (status, body) => {
      if (status < 300) {
        await dropUnreadableRelations(pick(body) ?? [], readable(reads));
      }
      return body;
    };

  const queryFilter = (req: Request) => (visit: VisitValue) => {
    refuseRelationOrderAndSearch({
      orderFields: [req.query.orderField, orderParamFields(req.query.order)],
      fullTextFields: req.query.fullTextFilterFields,
    });
    if (req.query.filter !== undefined) {
      req.query.filter = mapFilterParam(req.query.filter, visit) as any;
    }
  };

  /** GET-style requests: `fields`, `filter`, order and search parameters. */
  const queryConcerned = (req: Request) => () =>
    fieldsMayHoldRelations(req.query.fields) ||
    mentionsRelations(
      req.query.filter,
      req.query.order,
      req.query.orderField,
      req.query.fullTextFilterFields,
      decodedCursor(req.query.cursor),
    );

  router.get('/entities', (req, res, next) =>
    guard(req, res, next, {
      concerned: queryConcerned(req),
      filters: () => queryFilter(req),
      answer: entitiesAt(body => (Array.isArray(body) ? body : undefined)),
    }),
  );

  router.get('/entities/by-query', (req, res, next) =>
    guard(req, res, next, {
      concerned: queryConcerned(req),
      filters: () => visit => {
        queryFilter(req)(visit);
        if (typeof req.query.cursor === 'string') {
          req.query.cursor = mapCursor(req.query.cursor, visit);
        }
      },
      answer: entitiesAt(body => body?.items),
    }),
  );

  router.post('/entities/by-query', (req, res, next) =>
    guard(req, res, next, {
      body: true,
      concerned: () =>
        fieldsMayHoldRelations(req.body?.fields) ||
        mentionsRelations(
          req.body?.query,
          req.body?.orderBy,
          req.body?.fullTextFilter,
          decodedCursor(req.body?.cursor),
        ),
      filters: () => visit => {
        const body = req.body ?? {};
        refuseRelationOrderAndSearch({
          orderFields: body.orderBy,
          fullTextFields: body.fullTextFilter?.fields,
        });
        mapStructuredFilter(body.query, visit);
        if (typeof body.cursor === 'string') {
          body.cursor = mapCursor(body.cursor, visit);
        }
      },
      answer: entitiesAt(body => body?.items),
    }),
  );

  router.post('/entities/by-refs', (req, res, next) =>
    guard(req, res, next, {
      body: true,
      concerned: () =>
        fieldsMayHoldRelations(req.query.fields ?? req.body?.fields) ||
        mentionsRelations(req.query.filter, req.body?.query),
      filters: () => visit => {
        queryFilter(req)(visit);
        mapStructuredFilter(req.body?.query, visit);
      },
      answer: entitiesAt(body => body?.items),
    }),
  );

  router.get('/entities/by-uid/:uid', (req, res, next) =>
    guard(req, res, next, { answer: entitiesAt(body => [body]) }),
  );

  router.get('/entities/by-name/:kind/:namespace/:name', (req, res, next) =>
    guard(req, res, next, { answer: entitiesAt(body => [body]) }),
  );

  router.get(
    '/entities/by-name/:kind/:namespace/:name/ancestry',
    (req, res, next) =>
      guard(req, res, next, {
        answer: entitiesAt(body =>
          body?.items?.map((i: { entity?: unknown }) => i?.entity),
        ),
      }),
  );

  const facetsAnswer =
    (reads: CallerReads): JsonTransform =>
    async (status, body) => {
      if (status >= 300 || !body?.facets) return body;
      const facets = body.facets as Record<string, { value: string }[]>;
      const relationFacets = Object.keys(facets).filter(isRelationKey);
      const ok = await reads.readable(
        relationFacets.flatMap(f => facets[f].map(v => v.value)),
      );
      for (const f of relationFacets) {
        facets[f] = facets[f].filter(v => ok.has(normalizeRef(v.value)));
      }
      return body;
    };

  router.get('/entity-facets', (req, res, next) =>
    guard(req, res, next, {
      concerned: () => mentionsRelations(req.query.facet, req.query.filter),
      filters: () => queryFilter(req),
      answer: facetsAnswer,
    }),
  );

  router.post('/entity-facets', (req, res, next) =>
    guard(req, res, next, {
      body: true,
      concerned: () => mentionsRelations(req.body?.facets, req.body?.query),
      filters: () => visit => mapStructuredFilter(req.body?.query, visit),
      answer: facetsAnswer,
    }),
  );

  // Entities read from the target are not in the catalog yet, so the
  // catalog's database filter never saw them: the decision is applied here.
  router.post('/locations', (req, res, next) =>
    guard(req, res, next, {
      answer: reads => async (status, body) => {
        if (status >= 300 || !Array.isArray(body?.entities)) return body;
        const kept = (body.entities as Entity[]).filter(e => reads.canRead(e));
        await dropUnreadableRelations(
          kept,
          readable(reads),
          new Set(kept.map(e => normalizeRef(stringifyEntityRef(e)))),
        );
        return { ...body, entities: kept };
      },
    }),
  );

  router.post('/analyze-location', (req, res, next) =>
    guard(req, res, next, {
      answer: reads => async (status, body) => {
        if (status >= 300 || !Array.isArray(body?.existingEntityFiles)) {
          return body;
        }
        return {
          ...body,
          existingEntityFiles: body.existingEntityFiles.filter(
            (f: { entity?: Entity }) => f?.entity && reads.canRead(f.entity),
          ),
        };
      },
    }),
  );

  // For everyone: the catalog's 404s here name the file an entity came
  // from, and differ by why there is no location.
  router.get(
    '/locations/by-entity/:kind/:namespace/:name',
    async (req, res, next) => {
      const { kind, namespace, name } = req.params;
      const ref = `${kind}:${namespace}/${name}`;
      const message = `No registered location holds ${ref}`;
      interceptJson(req, res, (status, body) =>
        status === 404
          ? { ...body, error: { name: 'NotFoundError', message } }
          : body,
      );
      const reads = await readsOf(req);
      if (reads && !(await reads.readable([ref])).has(normalizeRef(ref))) {
        throw new NotFoundError(message);
      }
      next();
    },
  );

  return router;
}

/**
 * Whether an entity projection can include relations: no `fields` means
 * whole entities; otherwise a field that is `relations`, inside it, or
 * above it.
 */
function fieldsMayHoldRelations(fields: unknown): boolean {
  if (fields === undefined) return true;
  const list = (Array.isArray(fields) ? fields : [fields])
    .filter((f): f is string => typeof f === 'string')
    .flatMap(f => f.split(','))
    .map(f => f.trim().toLocaleLowerCase('en-US'));
  return list.some(f => f.startsWith('relations') || 'relations'.startsWith(f));
}

/** Conservative: any mention of relations in a filter, order, search or facet. */
function mentionsRelations(...values: unknown[]): boolean {
  return values.some(
    v =>
      v !== undefined &&
      JSON.stringify(v).toLocaleLowerCase('en-US').includes('relations'),
  );
}

function decodedCursor(cursor: unknown): unknown {
  if (typeof cursor !== 'string') return undefined;
  try {
    return Buffer.from(cursor, 'base64').toString('utf8');
  } catch {
    return undefined;
  }
}

/** `order=asc:field` (GET /entities) names its field after the colon. */
function orderParamFields(order: unknown): string[] {
  const list = Array.isArray(order) ? order : [order];
  return list
    .filter((o): o is string => typeof o === 'string')
    .flatMap(o => o.split(','))
    .map(o => o.slice(o.indexOf(':') + 1));
}

/**
 * A by-query cursor carries the first page's filter, order and search; the
 * same checks apply. Left alone when it does not decode (the catalog then
 * answers 400).
 */
function mapCursor(encoded: string, visit: VisitValue): string {
  let cursor: any;
  try {
    cursor = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    return encoded;
  }
  if (!cursor || typeof cursor !== 'object') return encoded;
  refuseRelationOrderAndSearch({
    orderFields: cursor.orderFields,
    fullTextFields: cursor.fullTextFilter?.fields,
  });
  mapStructuredFilter(cursor.filter, visit);
  mapStructuredFilter(cursor.query, visit);
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64');
}
