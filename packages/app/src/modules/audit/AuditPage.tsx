import { FormEvent, ReactNode, useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import {
  Content,
  EmptyState,
  Progress,
  Table,
  TableColumn,
  WarningPanel,
} from '@backstage/core-components';
import {
  discoveryApiRef,
  fetchApiRef,
  useApi,
} from '@backstage/core-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { catalogApiRef, EntityRefLink } from '@backstage/plugin-catalog-react';
import { usePermission } from '@backstage/plugin-permission-react';
import {
  AuditEvent,
  AuditEventFilter,
  auditReadPermission,
} from '@internal/plugin-audit-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Grid from '@material-ui/core/Grid';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import {
  AuditClient,
  AuditExportFormat,
  AuditNotAllowedError,
  filterFromParams,
  filterToParams,
} from './api';

/**
 * The actions the portal records (docs/audit.md), offered as suggestions;
 * any other `<plugin>.<eventId>` (upstream plugins emit their own) may be
 * typed in.
 */
export const KNOWN_ACTIONS = [
  'audit.events-export',
  'auth.sign-in',
  'auth.session-refused',
  'catalog.entity-mutate',
  'catalog.entity-fetch',
  'catalog.location-mutate',
  'catalog.entra-org-run',
  'catalog.entra-org-removal-allow',
  'catalog.entra-org-guard-refused',
  'mcp-actions.agent-tool-call',
  'permission.permission-denied',
  'permission.policy-config',
  'scaffolder.deploy',
  'scaffolder.task',
];

const PAGE_SIZE = 50;

/** Meta keys that have a column of their own or are the actor itself. */
const SHOWN_ELSEWHERE = new Set(['environment', 'actor', 'agent']);

/** `2026-12-04T19:10:00.000Z` → the local `2026-12-04T20:10` an input shows. */
export function toLocalInput(iso?: string): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (isNaN(date.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(
    date.getDate(),
  )}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/**
 * The input's local time as ISO UTC, so that a link to a filtered view means
 * the same instants to an auditor in another time zone.
 */
export function fromLocalInput(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return isNaN(date.getTime()) ? undefined : date.toISOString();
}

function NotAllowed() {
  return (
    <Content>
      <EmptyState
        missing="info"
        title="Not allowed to read the audit trail"
        description="The audit trail is for portal admins (permission audit.read). Ask a portal admin if you need an event looked up."
      />
    </Content>
  );
}

function Actor({ event }: { event: AuditEvent }) {
  const { actor } = event;
  const person = actor.entityRef ? (
    <EntityRefLink entityRef={actor.entityRef} />
  ) : undefined;
  let who: ReactNode;
  switch (actor.kind) {
    case 'agent':
      who = (
        <>
          {actor.clientId ?? 'unknown client'}
          {person && <> for {person}</>}
        </>
      );
      break;
    case 'plugin':
      who = actor.plugin;
      break;
    case 'service':
      who = actor.subject;
      break;
    default:
      who = person ?? actor.oid ?? actor.appId;
  }
  return (
    <>
      <Typography variant="caption" display="block">
        {actor.kind}
      </Typography>
      {who}
    </>
  );
}

const scalar = (value: unknown) =>
  ['string', 'number', 'boolean'].includes(typeof value);

/** The event's own scalar fields and its error, one per line. */
function Details({ event }: { event: AuditEvent }) {
  const lines = Object.entries(event.meta)
    .filter(([key, value]) => !SHOWN_ELSEWHERE.has(key) && scalar(value))
    .map(([key, value]) => `${key}: ${String(value)}`);
  if (event.error) {
    lines.push(`error: ${event.error.name}: ${event.error.message}`);
  }
  return (
    <>
      {lines.map(line => (
        <Typography key={line} variant="body2" display="block">
          {line}
        </Typography>
      ))}
    </>
  );
}

const columns: TableColumn<AuditEvent>[] = [
  {
    title: 'Time',
    field: 'time',
    render: e => (
      <span title={e.time}>{new Date(e.time).toLocaleString()}</span>
    ),
  },
  { title: 'Action', field: 'action' },
  { title: 'Outcome', field: 'outcome' },
  { title: 'Actor', render: e => <Actor event={e} /> },
  {
    title: 'Entities',
    render: e => (
      <>
        {e.entityRefs.map(ref => (
          <Box key={ref}>
            <EntityRefLink entityRef={ref} />
          </Box>
        ))}
      </>
    ),
  },
  {
    title: 'Environment',
    render: e =>
      typeof e.meta.environment === 'string' ? e.meta.environment : '',
  },
  {
    title: 'Request',
    render: e => (e.request ? `${e.request.method} ${e.request.route}` : ''),
  },
  { title: 'Details', render: e => <Details event={e} /> },
];

/** The people in the catalog, for the person filter's suggestions. */
function usePeople(): string[] {
  const catalogApi = useApi(catalogApiRef);
  const [people, setPeople] = useState<string[]>([]);
  useEffect(() => {
    catalogApi
      .getEntities({
        filter: { kind: 'user' },
        fields: ['kind', 'metadata.name', 'metadata.namespace'],
      })
      .then(
        res => setPeople(res.items.map(e => stringifyEntityRef(e)).sort()),
        // Suggestions only: the filter works without them.
        () => setPeople([]),
      );
  }, [catalogApi]);
  return people;
}

/** Saves a fetched file the way a download link would. */
function download(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  // Some browsers read the blob after click() returns; FileSaver.js waits too.
  setTimeout(() => URL.revokeObjectURL(url), 40_000);
}

function Filters(props: {
  filter: AuditEventFilter;
  onApply: (filter: AuditEventFilter) => void;
}) {
  const people = usePeople();
  const [draft, setDraft] = useState({
    ...props.filter,
    from: toLocalInput(props.filter.from),
    to: toLocalInput(props.filter.to),
  });
  // Back and forward change the address: the form follows it.
  useEffect(() => {
    setDraft({
      ...props.filter,
      from: toLocalInput(props.filter.from),
      to: toLocalInput(props.filter.to),
    });
  }, [props.filter]);

  const field = (key: keyof AuditEventFilter) => ({
    value: draft[key] ?? '',
    onChange: (e: { target: { value: string } }) =>
      setDraft(d => ({ ...d, [key]: e.target.value })),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    props.onApply({
      ...draft,
      outcome: draft.outcome || undefined,
      severity: draft.severity || undefined,
      from: fromLocalInput(draft.from ?? ''),
      to: fromLocalInput(draft.to ?? ''),
    });
  };

  return (
    <form onSubmit={submit} aria-label="Audit filters">
      <Grid container spacing={2} alignItems="flex-end">
        <Grid item xs={12} md={3}>
          <TextField
            fullWidth
            id="audit-filter-person"
            label="Person"
            placeholder="user:default/eve.ellis"
            inputProps={{ list: 'audit-people' }}
            {...field('person')}
          />
          <datalist id="audit-people">
            {people.map(p => (
              <option key={p} value={p} />
            ))}
          </datalist>
        </Grid>
        <Grid item xs={12} md={3}>
          <TextField
            fullWidth
            id="audit-filter-action"
            label="Action"
            placeholder="scaffolder.deploy"
            inputProps={{ list: 'audit-actions' }}
            {...field('action')}
          />
          <datalist id="audit-actions">
            {KNOWN_ACTIONS.map(a => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </Grid>
        <Grid item xs={12} md={2}>
          <TextField
            fullWidth
            select
            id="audit-filter-outcome"
            label="Outcome"
            SelectProps={{ displayEmpty: true }}
            InputLabelProps={{ shrink: true }}
            {...field('outcome')}
          >
            <MenuItem value="">Any</MenuItem>
            <MenuItem value="succeeded">Succeeded</MenuItem>
            <MenuItem value="failed">Failed</MenuItem>
          </TextField>
        </Grid>
        <Grid item xs={12} md={4}>
          <TextField
            fullWidth
            id="audit-filter-entity"
            label="Entity"
            placeholder="component:default/payments"
            {...field('entity')}
          />
        </Grid>
        <Grid item xs={12} md={3}>
          <TextField
            fullWidth
            type="datetime-local"
            id="audit-filter-from"
            label="From"
            InputLabelProps={{ shrink: true }}
            {...field('from')}
          />
        </Grid>
        <Grid item xs={12} md={3}>
          <TextField
            fullWidth
            type="datetime-local"
            id="audit-filter-to"
            label="To"
            InputLabelProps={{ shrink: true }}
            {...field('to')}
          />
        </Grid>
        <Grid item xs={12} md={2}>
          <TextField
            fullWidth
            select
            id="audit-filter-severity"
            label="Severity"
            SelectProps={{ displayEmpty: true }}
            InputLabelProps={{ shrink: true }}
            {...field('severity')}
          >
            <MenuItem value="">Any</MenuItem>
            <MenuItem value="medium">Medium and up (no reads)</MenuItem>
            <MenuItem value="high">High and up</MenuItem>
            <MenuItem value="critical">Critical</MenuItem>
          </TextField>
        </Grid>
        <Grid item xs={12} md={4}>
          <Button type="submit" variant="contained" color="primary">
            Apply filters
          </Button>{' '}
          <Button onClick={() => props.onApply({})}>Clear</Button>
        </Grid>
      </Grid>
    </form>
  );
}

function AuditTrail() {
  const discovery = useApi(discoveryApiRef);
  const fetchApi = useApi(fetchApiRef);
  const client = useMemo(
    () => new AuditClient(discovery, fetchApi),
    [discovery, fetchApi],
  );
  const [searchParams, setSearchParams] = useSearchParams();
  const query = filterToParams(filterFromParams(searchParams)).toString();
  // One object per distinct query, so effects run when the filters change.
  const filter = useMemo(
    () => filterFromParams(new URLSearchParams(query)),
    [query],
  );

  const [events, setEvents] = useState<AuditEvent[]>();
  const [cursor, setCursor] = useState<string>();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const [truncated, setTruncated] = useState(false);

  useEffect(() => {
    let current = true;
    setEvents(undefined);
    setError(undefined);
    client.listEvents(filter, { limit: PAGE_SIZE }).then(
      page => {
        if (!current) return;
        setEvents(page.items);
        setCursor(page.nextCursor);
      },
      e => current && setError(e),
    );
    return () => {
      current = false;
    };
  }, [client, filter]);

  const loadMore = async () => {
    setBusy(true);
    try {
      const page = await client.listEvents(filter, {
        limit: PAGE_SIZE,
        cursor,
      });
      setEvents(old => [...(old ?? []), ...page.items]);
      setCursor(page.nextCursor);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  const exportAs = async (format: AuditExportFormat) => {
    setBusy(true);
    setError(undefined);
    setTruncated(false);
    try {
      const exported = await client.exportEvents(filter, format);
      download(exported.blob, exported.filename);
      setTruncated(exported.truncated);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  if (error instanceof AuditNotAllowedError) return <NotAllowed />;

  return (
    <Content>
      <Filters
        filter={filter}
        onApply={f => setSearchParams(filterToParams(f), { replace: false })}
      />
      <Box display="flex" justifyContent="flex-end" my={2}>
        <Button
          variant="outlined"
          disabled={busy}
          onClick={() => exportAs('jsonl')}
        >
          Export JSON Lines
        </Button>
        <Box ml={1}>
          <Button
            variant="outlined"
            disabled={busy}
            onClick={() => exportAs('csv')}
          >
            Export CSV
          </Button>
        </Box>
      </Box>
      {error && <WarningPanel severity="error" title={error.message} />}
      {truncated && (
        <WarningPanel
          severity="info"
          title="The export holds only the newest matching events"
        >
          More events match than one export answers (audit.export.maxEvents).
          Narrow the time range and export the older ones separately.
        </WarningPanel>
      )}
      {!events && !error && <Progress />}
      {events && (
        <Table<AuditEvent>
          title="Audit events"
          subtitle="Newest first"
          columns={columns}
          data={events}
          options={{
            paging: false,
            search: false,
            sorting: false,
            draggable: false,
            padding: 'dense',
          }}
          emptyContent={
            <Box p={2}>
              <Typography>No events match these filters.</Typography>
            </Box>
          }
        />
      )}
      {events && cursor && (
        <Box display="flex" justifyContent="center" my={2}>
          <Button variant="outlined" disabled={busy} onClick={loadMore}>
            Load more
          </Button>
        </Box>
      )}
    </Content>
  );
}

/**
 * The audit trail for portal admins: who did what, filtered by person,
 * action, outcome, entity and time (kept in the address, so a view can be
 * linked), newest first, exported as JSON Lines or CSV.
 */
export function AuditPage() {
  const { loading, allowed } = usePermission({
    permission: auditReadPermission,
  });
  if (loading) return <Progress />;
  // The route answers 403 as well; this only spares the request.
  if (!allowed) return <NotAllowed />;
  return <AuditTrail />;
}
