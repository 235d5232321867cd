import {
  AuditorService,
  BackstageCredentials,
  BackstageServicePrincipal,
  BackstageUserPrincipal,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  ConflictError,
  isError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import {
  AuthorizeResult,
  BasicPermission,
} from '@backstage/plugin-permission-common';
import express, { Request } from 'express';
import Router from 'express-promise-router';
import { EntraOrgEntityProvider } from './entraOrgProvider';
import { ProviderStateStore } from './ingestionState';
import {
  entraOrgRemovalAllowPermission,
  entraOrgRunPermission,
  entraOrgStatusReadPermission,
} from './permissions';

const DENIED_TEXT: Record<string, string> = {
  [entraOrgStatusReadPermission.name]: 'see the Entra org ingestion status',
  [entraOrgRemovalAllowPermission.name]: 'allow an Entra org removal',
  [entraOrgRunPermission.name]: 'start an Entra org ingestion run',
};

/** The scheduler's answer when the task holds its lock (a run is going on). */
const isRunning = (error: unknown) =>
  isError(error) && error.name === 'ConflictError';

/**
 * Admin routes under /api/catalog/entra-org. Who counts as an admin is the
 * permission policy's decision (both permissions are basic ones).
 */
export function createEntraOrgRouter(options: {
  providers: EntraOrgEntityProvider[];
  store: ProviderStateStore;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  auditor: AuditorService;
  /**
   * Starts a provider's run now (through the scheduler, so replicas do not
   * race), recorded as asked for by `requestedBy`. Rejects with a
   * ConflictError while a run is going on.
   */
  triggerRun: (
    provider: EntraOrgEntityProvider,
    requestedBy: string,
  ) => Promise<void>;
  /**
   * Counts the provider's people, Groups and service principals (Users
   * labelled as such) the catalog holds now.
   */
  countIngested: (
    provider: EntraOrgEntityProvider,
  ) => Promise<{ users: number; groups: number; servicePrincipals?: number }>;
}): express.Router {
  const { providers, store, httpAuth, permissions, auditor } = options;
  // No body parser: this router runs before the catalog's own, and a
  // router-wide parser would read (and size-limit) every catalog request.
  const router = Router();

  const authorize = async (req: Request, permission: BasicPermission) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const [decision] = await permissions.authorize([{ permission }], {
      credentials,
    });
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `Only portal admins may ${DENIED_TEXT[permission.name]}`,
      );
    }
    return credentials;
  };

  /** Who asked, as the run's audit event and the override record it. */
  const requester = ({
    principal,
  }: BackstageCredentials<
    BackstageUserPrincipal | BackstageServicePrincipal
  >) =>
    principal.type === 'user'
      ? principal.userEntityRef
      : `service:${principal.subject}`;

  router.get('/entra-org/status', async (req, res) => {
    await authorize(req, entraOrgStatusReadPermission);
    const states = new Map((await store.list()).map(s => [s.providerId, s]));
    res.json({
      providers: await Promise.all(
        providers.map(async p => {
          const state = states.get(p.providerId);
          const lastRun = state?.lastRun
            ? {
                ...state.lastRun,
                // The status stays readable when the catalog is not; the
                // count is then left out rather than guessed.
                ingested: await options.countIngested(p).catch(() => undefined),
              }
            : null;
          const cursor = await p.deltaCursor().catch(() => undefined);
          return {
            providerId: p.providerId,
            lastRun,
            removalOverride: state?.override ?? null,
            lastReconciledAt: state?.lastReconciledAt ?? null,
            delta: p.deltaEnabled
              ? {
                  cursorSyncedAt: cursor?.syncedAt ?? null,
                  lastPoll: state?.lastDelta ?? null,
                  lastAppliedPoll: state?.lastAppliedDelta ?? null,
                  removedSinceReconciliation: state?.deltaRemoved ?? null,
                }
              : null,
          };
        }),
      ),
    });
  });

  const findProvider = (id: string) => {
    const provider = providers.find(p => p.providerId === id);
    if (!provider) {
      throw new NotFoundError(
        `No Entra org provider '${id}'; configured: ${providers
          .map(p => p.providerId)
          .join(', ')}`,
      );
    }
    return provider;
  };

  // A run that starts is recorded once, by the run itself (entra-org-run
  // with this admin as the actor and its outcome); here only a request
  // that started none: refused, unknown provider, or a run going on.
  router.post('/entra-org/providers/:id/run', async (req, res) => {
    try {
      // Asked before the provider is looked up: to anyone else, provider
      // ids are not there to be probed.
      const credentials = await authorize(req, entraOrgRunPermission);
      const provider = findProvider(req.params.id);
      await options
        .triggerRun(provider, requester(credentials))
        .catch(error => {
          if (!isRunning(error)) throw error;
          throw new ConflictError(
            `A run of Entra org provider '${provider.providerId}' is going on now; its outcome will show in the status when it ends. Start another after that if needed.`,
          );
        });
      res
        .status(202)
        .json({ providerId: provider.providerId, state: 'started' });
    } catch (error) {
      const event = await auditor.createEvent({
        eventId: 'entra-org-run',
        severityLevel: 'medium',
        request: req,
        meta: {
          providerId: req.params.id,
          mode: 'full',
          trigger: 'manual',
          outcome: 'not-started',
        },
      });
      await event.fail({ error: error as Error });
      throw error;
    }
  });

  router.post('/entra-org/providers/:id/allow-removal', async (req, res) => {
    const event = await auditor.createEvent({
      eventId: 'entra-org-removal-allow',
      severityLevel: 'high',
      request: req,
      meta: { providerId: req.params.id },
    });
    try {
      const credentials = await authorize(req, entraOrgRemovalAllowPermission);
      const provider = findProvider(req.params.id);
      const by = requester(credentials);
      await provider.allowNextRemoval(by);
      // A run going on now does not take the override (it read its state
      // when it started); the next one does, so that is not an error.
      // The run is recorded on its own (entra-org-run, removalAllowedBy).
      const running = await options.triggerRun(provider, by).then(
        () => false,
        error => {
          if (isRunning(error)) return true;
          throw error;
        },
      );
      await event.success({
        meta: { allowedBy: by, run: running ? 'running' : 'started' },
      });
      res.status(202).json({
        providerId: provider.providerId,
        allowedBy: by,
        state: running ? 'running' : 'started',
      });
    } catch (error) {
      await event.fail({ error: error as Error });
      throw error;
    }
  });

  return router;
}
