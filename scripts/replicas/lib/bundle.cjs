/*
 * The built backend, run as the image runs it: packages/backend/dist's
 * bundle (the backend, the built app and every workspace package it uses,
 * compiled), unpacked into a scratch folder. Third-party packages come from
 * the repository's node_modules through symlinks, so nothing is installed.
 */
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '../../..');
const BUNDLE = path.join(ROOT, 'packages/backend/dist/bundle.tar.gz');

/** Newest mtime (ms) of the sources a backend build reads. */
function newestSourceMtime() {
  let newest = 0;
  const visit = p => {
    let st;
    try {
      st = fs.statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      const base = path.basename(p);
      if (['node_modules', 'dist', 'dist-types', '.git'].includes(base)) return;
      for (const e of fs.readdirSync(p)) visit(path.join(p, e));
    } else if (!/\.test\.[jt]sx?$/.test(p)) {
      newest = Math.max(newest, st.mtimeMs);
    }
  };
  for (const dir of ['packages', 'plugins']) {
    for (const pkg of fs.readdirSync(path.join(ROOT, dir))) {
      visit(path.join(ROOT, dir, pkg, 'src'));
      visit(path.join(ROOT, dir, pkg, 'package.json'));
    }
  }
  visit(path.join(ROOT, 'yarn.lock'));
  return newest;
}

/** Builds the backend (and with it the app) unless its bundle is newer than every source. */
function ensureBuilt(report) {
  const bundleMtime = fs.existsSync(BUNDLE) ? fs.statSync(BUNDLE).mtimeMs : 0;
  if (bundleMtime && process.env.REPLICAS_SKIP_BUILD === '1') {
    report.info('REPLICAS_SKIP_BUILD=1: using packages/backend/dist as it is');
    return;
  }
  if (bundleMtime > newestSourceMtime()) {
    report.info(
      'packages/backend/dist is newer than every source: not rebuilding',
    );
    return;
  }
  report.info(
    bundleMtime
      ? 'packages/backend/dist is older than the sources: yarn build:backend'
      : 'no packages/backend/dist: yarn build:backend',
  );
  const started = Date.now();
  const result = spawnSync('yarn', ['build:backend'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('yarn build:backend failed');
  report.info(`built in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** Where a workspace package lives in the repository, by package name. */
function workspaceDirs() {
  const dirs = new Map();
  for (const dir of ['packages', 'plugins']) {
    for (const pkg of fs.readdirSync(path.join(ROOT, dir))) {
      const manifest = path.join(ROOT, dir, pkg, 'package.json');
      if (fs.existsSync(manifest)) {
        dirs.set(
          JSON.parse(fs.readFileSync(manifest, 'utf8')).name,
          `${dir}/${pkg}`,
        );
      }
    }
  }
  return dirs;
}

/**
 * Unpacks the bundle into `runtimeDir` and gives it a node_modules: the
 * bundled workspace packages (compiled, `main` pointing at dist) where the
 * bundle has them, the repository's installed packages for the rest.
 * Returns the path to start with `node`.
 */
function prepareRuntime(runtimeDir) {
  fs.mkdirSync(runtimeDir, { recursive: true });
  execFileSync('tar', ['xzf', BUNDLE, '-C', runtimeDir]);
  const workspaces = workspaceDirs();
  const bundled = name => {
    const rel = workspaces.get(name);
    return rel && fs.existsSync(path.join(runtimeDir, rel, 'package.json'))
      ? path.join(runtimeDir, rel)
      : undefined;
  };
  const source = path.join(ROOT, 'node_modules');
  const target = path.join(runtimeDir, 'node_modules');
  fs.mkdirSync(target);
  const link = (name, into) => {
    const from = path.join(source, name);
    if (workspaces.has(name)) {
      // A workspace package the backend does not bundle is not needed.
      const dir = bundled(name);
      if (dir) fs.symlinkSync(dir, into);
      return;
    }
    fs.symlinkSync(from, into);
  };
  for (const entry of fs.readdirSync(source)) {
    if (entry === '.bin' || entry === '.cache') continue;
    if (entry.startsWith('@')) {
      fs.mkdirSync(path.join(target, entry));
      for (const sub of fs.readdirSync(path.join(source, entry))) {
        link(`${entry}/${sub}`, path.join(target, entry, sub));
      }
    } else {
      link(entry, path.join(target, entry));
    }
  }
  // Versions Yarn installed for one workspace only.
  for (const rel of workspaces.values()) {
    const nested = path.join(ROOT, rel, 'node_modules');
    const into = path.join(runtimeDir, rel, 'node_modules');
    if (
      fs.existsSync(nested) &&
      fs.existsSync(path.dirname(into)) &&
      !fs.existsSync(into)
    ) {
      fs.symlinkSync(nested, into);
    }
  }
  return path.join(runtimeDir, 'packages/backend');
}

module.exports = { ROOT, ensureBuilt, prepareRuntime };
