import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import Router from 'express-promise-router';
import { REPOS_PATH } from './localPublish';

/**
 * Serves what publish:local published, as a Git host's raw file URLs would:
 * GET <scaffolder>/local-publish/repos/<name>/<path>. Anything outside the
 * folder, or missing, is the same 404.
 */
export function createLocalPublishRouter(directory: string): express.Router {
  const root = path.resolve(directory);
  const router = Router();
  router.get(`${REPOS_PATH}/*`, (req, res) => {
    const relative = decodeURIComponent(req.path.slice(REPOS_PATH.length + 1));
    const file = path.resolve(root, relative);
    const inside = file.startsWith(`${root}${path.sep}`);
    if (!inside || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.status(404).json({
        error: { name: 'NotFoundError', message: 'No such published file' },
      });
      return;
    }
    res.type(path.extname(file) === '.yaml' ? 'text/yaml' : path.extname(file));
    fs.createReadStream(file).pipe(res);
  });
  return router;
}
