import { useCallback, useEffect, useState } from 'react';
import {
  InfoCard,
  Progress,
  StructuredMetadataTable,
  WarningPanel,
} from '@backstage/core-components';
import {
  discoveryApiRef,
  fetchApiRef,
  useApi,
} from '@backstage/core-plugin-api';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';

interface Counts {
  users: number;
  groups: number;
  memberships?: number;
}

/** The last run of one provider, as GET /api/catalog/entra-org/status returns it. */
interface RunStatus {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  readMs?: number;
  outcome: 'applied' | 'refused' | 'failed';
  read?: Counts;
  sent?: Counts;
  rejected?: { users: number; groups: number };
  /** Counted in the catalog when the status was read. */
  ingested?: { users: number; groups: number };
  graph: { requests: number; retries: number; throttled: number };
  error?: string;
  removalAllowedBy?: string;
  consecutiveFailures: number;
  nextAttemptAt?: string;
}

/** One delta poll (changes since the stored deltaLinks). */
interface PollStatus {
  finishedAt: string;
  durationMs: number;
  outcome: 'applied' | 'unchanged' | 'refused' | 'failed' | 'expired';
  changed?: { users: number; groups: number };
  applied?: { added: number; removed: number };
  graph: { requests: number; retries: number; throttled: number };
  error?: string;
}

interface ProviderStatus {
  providerId: string;
  lastRun: RunStatus | null;
  removalOverride: { requestedBy: string; requestedAt: string } | null;
  /** When the last full round (the reconciliation) was applied. */
  lastReconciledAt?: string | null;
  /** Null when changes arrive with full rounds only. */
  delta?: {
    cursorSyncedAt: string | null;
    lastPoll: PollStatus | null;
    lastAppliedPoll: PollStatus | null;
  } | null;
}

type Load =
  | { state: 'loading' }
  | { state: 'forbidden'; message: string }
  | { state: 'error'; message: string }
  | { state: 'loaded'; providers: ProviderStatus[] };

const OUTCOME_TEXT: Record<RunStatus['outcome'], string> = {
  applied: 'Applied',
  refused: 'Refused by the deletion guard',
  failed: 'Failed',
};

const POLL_TEXT: Record<PollStatus['outcome'], string> = {
  applied: 'Changes applied',
  unchanged: 'No changes',
  refused: 'Refused by the deletion guard',
  failed: 'Failed',
  expired: 'Delta token expired: read the whole organisation again',
};

/** "42 s ago", "3 min ago", "5 h ago". */
export function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

function pollText(poll: PollStatus): string {
  const parts = [POLL_TEXT[poll.outcome]];
  if (poll.changed && poll.outcome !== 'unchanged') {
    parts.push(
      `${poll.changed.users} users and ${poll.changed.groups} groups changed in Entra`,
    );
  }
  if (poll.applied && poll.outcome === 'applied') {
    parts.push(
      `${poll.applied.added} entities added or updated, ${poll.applied.removed} removed`,
    );
  }
  parts.push(`${poll.graph.requests} Graph requests, ${age(poll.finishedAt)}`);
  return parts.join('; ');
}

function deltaMetadata(p: ProviderStatus) {
  if (!p.delta) {
    return {
      'Delta ingestion':
        'Off: changes arrive with each full round (see docs/org-ingestion.md)',
    };
  }
  const { cursorSyncedAt, lastPoll, lastAppliedPoll } = p.delta;
  return {
    'Delta cursor age': cursorSyncedAt
      ? `${age(cursorSyncedAt)} (changes up to ${new Date(
          cursorSyncedAt,
        ).toLocaleString()} are in the catalog)`
      : 'No cursor yet: the next full round starts one',
    'Last poll': lastPoll ? pollText(lastPoll) : 'None yet',
    ...(lastAppliedPoll && {
      'Last poll with changes': pollText(lastAppliedPoll),
    }),
    'Last reconciliation (full read)': p.lastReconciledAt
      ? `${new Date(p.lastReconciledAt).toLocaleString()} (${age(
          p.lastReconciledAt,
        )})`
      : 'None yet',
  };
}

const counts = (c?: Counts) =>
  c
    ? `${c.users} users, ${c.groups} groups${
        c.memberships !== undefined ? `, ${c.memberships} memberships` : ''
      }`
    : '—';

function runMetadata(run: RunStatus) {
  return {
    Outcome: OUTCOME_TEXT[run.outcome],
    'Finished at': new Date(run.finishedAt).toLocaleString(),
    Duration: `${(run.durationMs / 1000).toFixed(1)} s${
      run.readMs !== undefined
        ? ` (Graph read ${(run.readMs / 1000).toFixed(1)} s)`
        : ''
    }`,
    'Read from Graph': counts(run.read),
    ...(run.sent && { 'Sent to the catalog': counts(run.sent) }),
    ...(run.rejected &&
      run.rejected.users + run.rejected.groups > 0 && {
        'Left out (the catalog would reject them)': `${counts(
          run.rejected,
        )}: see the backend log for their object ids`,
      }),
    'In the catalog now': counts(run.ingested),
    'Graph requests': `${run.graph.requests} (${run.graph.retries} retries, ${run.graph.throttled} throttled)`,
    ...(run.removalAllowedBy && {
      'Removal allowed by': run.removalAllowedBy,
    }),
    ...(run.nextAttemptAt && {
      'Next attempt': `${new Date(run.nextAttemptAt).toLocaleString()} (${
        run.consecutiveFailures
      } failed in a row)`,
    }),
  };
}

/**
 * Admins' view of Entra org ingestion: when it last ran, what it read, and
 * why it failed or was refused. A refused run (a large removal) can be
 * allowed once from here.
 */
export function EntraOrgStatusCard() {
  const discovery = useApi(discoveryApiRef);
  const { fetch } = useApi(fetchApiRef);
  const [load, setLoad] = useState<Load>({ state: 'loading' });

  const refresh = useCallback(async () => {
    const base = await discovery.getBaseUrl('catalog');
    const res = await fetch(`${base}/entra-org/status`);
    const body = await res.json().catch(() => undefined);
    if (res.status === 403) {
      setLoad({ state: 'forbidden', message: body?.error?.message });
    } else if (!res.ok) {
      setLoad({
        state: 'error',
        message: body?.error?.message ?? `HTTP ${res.status}`,
      });
    } else {
      setLoad({ state: 'loaded', providers: body.providers });
    }
  }, [discovery, fetch]);

  const reload = useCallback(
    () => refresh().catch(e => setLoad({ state: 'error', message: String(e) })),
    [refresh],
  );

  useEffect(() => {
    reload();
  }, [reload]);

  // What the last "Run now" click answered, per provider.
  const [runNotes, setRunNotes] = useState<Record<string, string>>({});

  const runNow = async (providerId: string) => {
    const base = await discovery.getBaseUrl('catalog');
    const res = await fetch(
      `${base}/entra-org/providers/${encodeURIComponent(providerId)}/run`,
      { method: 'POST' },
    );
    const body = await res.json().catch(() => undefined);
    setRunNotes(notes => ({
      ...notes,
      [providerId]:
        res.status === 202
          ? 'Run started: a full read of the organisation. The deletion guard applies as on any run; refresh to see the outcome when it ends.'
          : body?.error?.message ??
            `Could not start a run (HTTP ${res.status})`,
    }));
    await reload();
  };

  const allowRemoval = async (providerId: string) => {
    const base = await discovery.getBaseUrl('catalog');
    await fetch(
      `${base}/entra-org/providers/${encodeURIComponent(
        providerId,
      )}/allow-removal`,
      { method: 'POST' },
    );
    await reload();
  };

  return (
    <InfoCard title="Entra org ingestion">
      {load.state === 'loading' && <Progress />}
      {load.state === 'forbidden' && (
        <Typography>
          Only portal admins can see the ingestion status.
        </Typography>
      )}
      {load.state === 'error' && (
        <WarningPanel title="Could not read the ingestion status">
          {load.message}
        </WarningPanel>
      )}
      {load.state === 'loaded' &&
        load.providers.map(p => (
          <div key={p.providerId}>
            <Typography variant="subtitle2">Provider {p.providerId}</Typography>
            {p.lastRun ? (
              <StructuredMetadataTable metadata={runMetadata(p.lastRun)} />
            ) : (
              <Typography>Not run yet.</Typography>
            )}
            {p.lastRun?.error && (
              <WarningPanel title={OUTCOME_TEXT[p.lastRun.outcome]}>
                {p.lastRun.error}
              </WarningPanel>
            )}
            <Typography variant="subtitle2">
              Changes between full rounds
            </Typography>
            <StructuredMetadataTable metadata={deltaMetadata(p)} />
            {p.delta?.lastPoll?.error && (
              <WarningPanel
                title={`Delta poll: ${POLL_TEXT[p.delta.lastPoll.outcome]}`}
              >
                {p.delta.lastPoll.error}
              </WarningPanel>
            )}
            <Button
              variant="outlined"
              color="primary"
              onClick={() => runNow(p.providerId)}
            >
              Run now
            </Button>{' '}
            <Button variant="text" onClick={() => reload()}>
              Refresh
            </Button>
            {runNotes[p.providerId] && (
              <Typography variant="body2">{runNotes[p.providerId]}</Typography>
            )}
            {(p.lastRun?.outcome === 'refused' ||
              p.delta?.lastPoll?.outcome === 'refused') &&
              !p.removalOverride && (
                <Button
                  variant="outlined"
                  color="secondary"
                  onClick={() => allowRemoval(p.providerId)}
                >
                  Allow this removal once
                </Button>
              )}
            {p.removalOverride && (
              <Typography>
                The next run may remove users and groups (allowed by{' '}
                {p.removalOverride.requestedBy}).
              </Typography>
            )}
          </div>
        ))}
    </InfoCard>
  );
}
