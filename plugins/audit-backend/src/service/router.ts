import {
  AuditorService,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { AuditEvent, auditReadPermission } from '@internal/plugin-audit-common';
import express, { Request, Response } from 'express';
import Router from 'express-promise-router';
import { AuditStore } from '../database/AuditStore';
import { AuditSink } from '../sink/types';
import { CSV_COLUMNS, csvLine, csvRow, jsonLine } from './format';
import { parseEventsQuery, parseExportQuery } from './parameters';

/** Default of `audit.export.maxEvents`. */
export const DEFAULT_EXPORT_MAX_EVENTS = 100_000;

/** Written when an export stops at `audit.export.maxEvents`. */
export const TRUNCATED_HEADER = 'X-Audit-Export-Truncated';

/** Bytes gathered before one write to the response. */
const CHUNK_BYTES = 64 * 1024;

export interface RouterOptions {
  store: AuditStore;
  sink: Pick<AuditSink, 'stats'>;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  auditor: AuditorService;
  /** Most events one export answers (`audit.export.maxEvents`). */
  exportMaxEvents?: number;
}

/** Resolves once the response can take more, or is gone. */
function drained(res: Response): Promise<void> {
  return new Promise(resolve => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { store, sink, httpAuth, permissions, auditor } = options;
  const exportMaxEvents = options.exportMaxEvents ?? DEFAULT_EXPORT_MAX_EVENTS;
  const router = Router();

  // Every route: the trail names people and what they did, so only holders
  // of audit.read (admins, by the ownership policy) read any of it, and
  // before any parameter is looked at.
  async function authorize(req: Request) {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const [decision] = await permissions.authorize(
      [{ permission: auditReadPermission }],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `Reading the audit trail needs the ${auditReadPermission.name} permission; the ownership policy grants it to admins (permission.ownershipPolicy)`,
      );
    }
  }

  router.get('/events', async (req, res) => {
    await authorize(req);
    const { filter, limit, cursor } = parseEventsQuery(req);
    const page = await store.query(filter, { limit, cursor });
    res.setHeader('Cache-Control', 'no-store');
    res.json(page);
  });

  router.get('/events/export', async (req, res) => {
    await authorize(req);
    const { filter, format } = parseExportQuery(req);
    // Taking the audit trail out is itself worth a line in it.
    const auditEvent = await auditor.createEvent({
      eventId: 'events-export',
      severityLevel: 'medium',
      request: req,
      meta: { format, filter: { ...filter } },
    });

    // A snapshot: events written during the download are not in it, and the
    // cap is known before the first byte, so it can go in a header.
    const { maxSeq, more } = await store.snapshot(filter, exportMaxEvents);
    res.status(200);
    res.setHeader(
      'Content-Type',
      format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
    );
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="audit-events.${format}"`,
    );
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader(
      'Access-Control-Expose-Headers',
      `Content-Disposition, ${TRUNCATED_HEADER}`,
    );
    if (more) {
      res.setHeader(TRUNCATED_HEADER, 'true');
    }

    // A download the client dropped stops reading the database.
    let gone = false;
    res.on('close', () => {
      gone = !res.writableFinished;
    });
    const line = format === 'csv' ? csvRow : jsonLine;
    let chunk = format === 'csv' ? csvLine(CSV_COLUMNS) : '';
    let count = 0;
    try {
      if (maxSeq !== undefined) {
        const events: AsyncGenerator<AuditEvent> = store.iterate(filter, {
          max: exportMaxEvents,
          maxSeq,
        });
        for await (const event of events) {
          if (gone) {
            break;
          }
          chunk += line(event);
          count += 1;
          if (chunk.length >= CHUNK_BYTES) {
            if (!res.write(chunk)) {
              await drained(res);
            }
            chunk = '';
          }
        }
      }
      if (!gone) {
        res.end(chunk);
      }
      await auditEvent.success({
        meta: { count, truncated: more, completed: !gone },
      });
    } catch (error) {
      await auditEvent.fail({ error: error as Error, meta: { count } });
      throw error;
    }
  });

  router.get('/health', async (req, res) => {
    await authorize(req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(sink.stats());
  });

  return router;
}
