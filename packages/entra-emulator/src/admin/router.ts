import express, { Router } from 'express';
import { EmulatorContext } from '../context';

/**
 * Test and operator controls under `/_emulator`: faults can be switched at
 * runtime and the deploy API's record read or reset.
 */
export function createAdminRouter(ctx: EmulatorContext): Router {
  const router = Router();
  router.use(express.json());
  router.get('/faults', (_req, res) => {
    res.json({ faults: ctx.faults.list() });
  });
  router.post('/faults', (req, res) => {
    const rules = Array.isArray(req.body) ? req.body : req.body?.faults;
    try {
      ctx.faults.set(Array.isArray(rules) ? rules : []);
      res.json({ faults: ctx.faults.list() });
    } catch (e) {
      res
        .status(400)
        .json({ error: { code: 'BadRequest', message: (e as Error).message } });
    }
  });
  router.delete('/faults', (_req, res) => {
    ctx.faults.clear();
    res.status(204).end();
  });
  router.get('/deploy-calls', (_req, res) => {
    res.json({ calls: ctx.deployCalls });
  });
  router.delete('/deploy-calls', (_req, res) => {
    ctx.deployCalls.length = 0;
    res.status(204).end();
  });
  return router;
}
