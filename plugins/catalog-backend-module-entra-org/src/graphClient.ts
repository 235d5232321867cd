import { TokenCredential } from '@azure/identity';
import { ConfigReader } from '@backstage/config';
import { ENTRA_CLOUDS, isMicrosoftLoginUrl } from '@internal/entra-cloud';
import {
  EntraAppCredential,
  readEntraAppCredential,
} from '@internal/entra-credentials';
import {
  GroupMember,
  MicrosoftGraphClient,
  MicrosoftGraphProviderConfig,
  ODataQuery,
} from '@backstage/plugin-catalog-backend-module-msgraph';

/** How hard the client tries before a request fails the run. */
export interface RetryPolicy {
  /** Retries after the first attempt (default 4). */
  maxRetries: number;
  /** First backoff when Graph gives no Retry-After (default 1 s); doubles per retry. */
  baseDelayMs: number;
  /**
   * Longest single wait (default 60 s). A Retry-After asking for more fails
   * the run instead: its retry comes with the run's own backoff.
   */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 4,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
};

/** What one ingestion run cost in Graph requests. */
export interface GraphRunStats {
  requests: number;
  retries: number;
  throttled: number;
}

const RETRIABLE_STATUS = new Set([429, 500, 502, 503, 504]);

/**
 * Reads Retry-After as Graph sends it: delta seconds (integer or, from some
 * Graph workloads, decimal) or an HTTP-date. Returns undefined when absent or
 * unreadable, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(
  value: string | null,
  now = Date.now(),
): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  // An HTTP-date names its weekday or month; Date.parse alone would also
  // accept "-1" (the year -1).
  const date = /[a-z]{3}/i.test(trimmed) ? Date.parse(trimmed) : NaN;
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Exponential backoff with full jitter: uniform in [0, base * 2^attempt]. */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random = Math.random,
): number {
  const ceiling = Math.min(
    policy.maxDelayMs,
    policy.baseDelayMs * 2 ** attempt,
  );
  return Math.round(random() * ceiling);
}

function isAbort(error: unknown, signal?: AbortSignal): boolean {
  return (
    signal?.aborted === true ||
    (error instanceof Error && error.name === 'AbortError')
  );
}

/**
 * A token request the identity platform refused (bad secret, unknown tenant)
 * will be refused again; retrying only delays the error.
 */
function isPermanentAuthError(error: unknown): boolean {
  const e = error as { name?: string; statusCode?: number };
  return (
    e?.name === 'AuthenticationError' &&
    typeof e.statusCode === 'number' &&
    e.statusCode >= 400 &&
    e.statusCode < 500 &&
    e.statusCode !== 429
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let timer: NodeJS.Timeout | undefined = undefined;
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The upstream Graph client with what large tenants need and upstream lacks:
 *
 * - 429 and 5xx answers and network errors are retried a bounded number of
 *   times, waiting as long as Retry-After says (or backing off exponentially
 *   with jitter when it says nothing);
 * - a run's first failure is kept and aborts the rest of the run. Upstream
 *   reads group members inside promises it only awaits after paging through
 *   all groups, so a member read that throws becomes an unhandled rejection;
 *   here member reads never throw, they record the failure, and
 *   {@link ResilientGraphClient.endRun} rethrows it once the reader returns;
 * - requests, retries and throttling are counted per run, for the run log.
 */
export class ResilientGraphClient extends MicrosoftGraphClient {
  private stats: GraphRunStats = { requests: 0, retries: 0, throttled: 0 };
  private failure: Error | undefined;
  private controller = new AbortController();
  private pauseRequested: number | undefined;

  constructor(
    baseUrl: string,
    credential: TokenCredential,
    private readonly retry: RetryPolicy = DEFAULT_RETRY_POLICY,
  ) {
    super(baseUrl, credential);
  }

  /**
   * Starts counting a new run; returns the signal to hand the reader, which
   * aborts as soon as any request of the run has failed for good.
   */
  beginRun(): AbortSignal {
    this.stats = { requests: 0, retries: 0, throttled: 0 };
    this.failure = undefined;
    this.pauseRequested = undefined;
    this.controller = new AbortController();
    return this.controller.signal;
  }

  /** The run's request counts; throws the run's first failure, if any. */
  endRun(): GraphRunStats {
    if (this.failure) throw this.failure;
    return { ...this.stats };
  }

  /**
   * The longest pause Graph asked for (Retry-After, ms) that this run did not
   * sit through; the next run should not start before it has passed.
   */
  requestedPauseMs(): number | undefined {
    return this.pauseRequested;
  }

  /** Counts so far, also after a failed run. */
  currentStats(): GraphRunStats {
    return { ...this.stats };
  }

  override async requestRaw(
    url: string,
    headers?: Record<string, string>,
    _retryCount?: number,
    signal?: AbortSignal,
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let waitMs: number;
      this.stats.requests++;
      try {
        // Upstream's own retry (ETIMEDOUT only) is switched off with 0.
        const response = await super.requestRaw(url, headers, 0, signal);
        if (!RETRIABLE_STATUS.has(response.status)) return response;
        if (response.status === 429) this.stats.throttled++;
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
        waitMs = retryAfter ?? backoffDelay(attempt, this.retry);
        // Out of retries, or Graph asks for a longer pause than a run should
        // sit through (retrying sooner would only be throttled again): the
        // run fails with Graph's error and its own backoff takes over.
        if (
          attempt >= this.retry.maxRetries ||
          waitMs > this.retry.maxDelayMs
        ) {
          if (retryAfter !== undefined) {
            this.pauseRequested = Math.max(
              this.pauseRequested ?? 0,
              retryAfter,
            );
          }
          return response;
        }
        // Free the connection before waiting.
        await response.body?.cancel();
      } catch (error) {
        if (
          isAbort(error, signal) ||
          isPermanentAuthError(error) ||
          attempt >= this.retry.maxRetries
        ) {
          throw error;
        }
        waitMs = backoffDelay(attempt, this.retry);
      }
      this.stats.retries++;
      await sleep(waitMs, signal);
    }
  }

  override async *getGroupMembers(
    groupId: string,
    query?: ODataQuery,
    queryMode?: 'basic' | 'advanced',
    signal?: AbortSignal,
  ): AsyncIterable<GroupMember> {
    if (this.failure) return;
    try {
      yield* super.getGroupMembers(groupId, query, queryMode, signal);
    } catch (error) {
      this.fail(
        new Error(
          `Reading the members of group ${groupId} failed: ${
            (error as Error).message
          }`,
        ),
      );
    }
  }

  private fail(error: Error) {
    this.failure ??= error;
    this.controller.abort(error);
  }
}

/**
 * Builds the Graph client for a provider config, authenticated with the
 * portal app's credential (secret, certificate or federated token; the
 * credential follows file rotation, see `@internal/entra-credentials`).
 * Without `credential`, upstream's `clientSecret` is used. For an authority
 * MSAL does not know (the emulator), instance discovery would call
 * login.microsoftonline.com first, which fails offline and leaves loopback;
 * it is switched off for those authorities only.
 */
export function createGraphClient(
  config: MicrosoftGraphProviderConfig & { credential?: EntraAppCredential },
  retry: RetryPolicy = DEFAULT_RETRY_POLICY,
): ResilientGraphClient {
  const authorityHost = (
    config.authority ?? ENTRA_CLOUDS.public.loginHost
  ).replace(/\/+$/, '');
  const appCredential =
    config.credential ??
    readEntraAppCredential(
      new ConfigReader({ clientSecret: config.clientSecret }),
      { clientId: config.clientId!, keyPrefix: `provider ${config.id}` },
    );
  const credential = appCredential.azureIdentityCredential(config.tenantId, {
    authorityHost,
    disableInstanceDiscovery: !isMicrosoftLoginUrl(authorityHost),
  });
  return new ResilientGraphClient(config.target, credential, retry);
}
