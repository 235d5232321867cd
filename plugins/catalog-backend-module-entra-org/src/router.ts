import {
  AuditorService,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
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
  entraOrgStatusReadPermission,
} from './permissions';

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
  /** Starts a provider's run now (through the scheduler, so replicas do not race). */
  triggerRun: (provider: EntraOrgEntityProvider) => Promise<void>;
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
        `Only portal admins may ${
          permission === entraOrgStatusReadPermission
            ? 'see the Entra org ingestion status'
            : 'allow an Entra org removal'
        }`,
      );
    }
    return credentials;
  };

  router.get('/entra-org/status', async (req, res) => {
    await authorize(req, entraOrgStatusReadPermission);
    const states = new Map((await store.list()).map(s => [s.providerId, s]));
    res.json({
      providers: providers.map(p => {
        const state = states.get(p.providerId);
        return {
          providerId: p.providerId,
          lastRun: state?.lastRun ?? null,
          removalOverride: state?.override ?? null,
        };
      }),
    });
  });

  router.post('/entra-org/providers/:id/allow-removal', async (req, res) => {
    const provider = providers.find(p => p.providerId === req.params.id);
    if (!provider) {
      throw new NotFoundError(
        `No Entra org provider '${req.params.id}'; configured: ${providers
          .map(p => p.providerId)
          .join(', ')}`,
      );
    }
    const event = await auditor.createEvent({
      eventId: 'entra-org-removal-allow',
      severityLevel: 'high',
      request: req,
      meta: { providerId: provider.providerId },
    });
    try {
      const credentials = await authorize(req, entraOrgRemovalAllowPermission);
      const { principal } = credentials;
      const by =
        principal.type === 'user'
          ? principal.userEntityRef
          : `service:${principal.subject}`;
      await provider.allowNextRemoval(by);
      await options.triggerRun(provider);
      await event.success();
      res.status(202).json({ providerId: provider.providerId, allowedBy: by });
    } catch (error) {
      await event.fail({ error: error as Error });
      throw error;
    }
  });

  return router;
}
