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

/** The last run of one provider, as GET /api/catalog/entra-org/status returns it. */
interface RunStatus {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  readMs?: number;
  outcome: 'applied' | 'refused' | 'failed';
  read?: { users: number; groups: number };
  ingested?: { users: number; groups: number };
  graph: { requests: number; retries: number; throttled: number };
  error?: string;
  removalAllowedBy?: string;
  consecutiveFailures: number;
  nextAttemptAt?: string;
}

interface ProviderStatus {
  providerId: string;
  lastRun: RunStatus | null;
  removalOverride: { requestedBy: string; requestedAt: string } | null;
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

const counts = (c?: { users: number; groups: number }) =>
  c ? `${c.users} users, ${c.groups} groups` : '—';

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
    'In the catalog': counts(run.ingested),
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

  useEffect(() => {
    refresh().catch(e => setLoad({ state: 'error', message: String(e) }));
  }, [refresh]);

  const allowRemoval = async (providerId: string) => {
    const base = await discovery.getBaseUrl('catalog');
    await fetch(
      `${base}/entra-org/providers/${encodeURIComponent(
        providerId,
      )}/allow-removal`,
      { method: 'POST' },
    );
    await refresh();
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
            {p.lastRun?.outcome === 'refused' && !p.removalOverride && (
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
