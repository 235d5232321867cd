import { Request, Response, Router } from 'express';
import { EmulatorContext } from '../context';
import { CredentialChangeError } from '../credentials/appCredentials';
import { CertificateError } from '../credentials/certificates';

/**
 * `/_emulator/apps/:clientId/…`: what an Entra admin does under
 * "Certificates & secrets" of an app registration (`:clientId` is the appId
 * or the seed key, e.g. `portal`). Answers never echo a private key, and only
 * a newly added secret is shown, once, as in the portal.
 */
export function createCredentialsRouter(ctx: EmulatorContext): Router {
  const router = Router();
  const store = ctx.credentials;

  router.post('/apps/:app/certificates', (req, res) =>
    answer(res, () => {
      const key = store.addCertificate(
        req.params.app,
        req.body?.certificatePem,
        typeof req.body?.displayName === 'string'
          ? req.body.displayName
          : undefined,
      );
      res.status(201).json({
        thumbprint: key.thumbprintSha1Hex,
        keyId: key.keyId,
        endDateTime: key.notAfter.toISOString(),
      });
    }),
  );
  router.delete('/apps/:app/certificates/:thumbprint', (req, res) =>
    answer(res, () => {
      store.removeCertificate(req.params.app, req.params.thumbprint);
      res.status(204).end();
    }),
  );
  router.post('/apps/:app/federated-credentials', (req, res) =>
    answer(res, () => {
      const fic = store.addFederated(req.params.app, req.body ?? {});
      res.status(201).json(fic);
    }),
  );
  router.delete('/apps/:app/federated-credentials', (req, res) =>
    answer(res, () => {
      store.clearFederated(req.params.app);
      res.status(204).end();
    }),
  );
  router.post('/apps/:app/client-secrets', (req: Request, res) =>
    answer(res, () => {
      const secret = store.addSecret(req.params.app, req.body ?? {});
      res.status(201).json({
        keyId: secret.keyId,
        value: secret.value,
        endDateTime: secret.endDateTime,
      });
    }),
  );
  router.delete('/apps/:app/client-secrets', (req, res) =>
    answer(res, () => {
      store.removeSecrets(req.params.app);
      res.status(204).end();
    }),
  );
  return router;
}

function answer(res: Response, fn: () => void) {
  try {
    fn();
  } catch (e) {
    if (e instanceof CredentialChangeError || e instanceof CertificateError) {
      const status = e instanceof CredentialChangeError ? e.status : 400;
      res.status(status).json({
        error: {
          code: status === 404 ? 'Request_ResourceNotFound' : 'BadRequest',
          message: e.message,
        },
      });
      return;
    }
    throw e;
  }
}
