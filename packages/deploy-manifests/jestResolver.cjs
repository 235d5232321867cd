// kubernetes-models 5 and the packages it nests (its own @kubernetes-models/*,
// is-cidr, ...) are ES modules that export their files only under the
// `import` condition; jest resolves with `require`, and the Backstage jest
// transform turns the files into CommonJS like any other dependency. Those
// requests are resolved here from each package's own `exports` map, by
// hand: handing jest's default resolver other conditions worked alone but
// failed now and then in the full repository run, whose workers share one
// resolver cache across projects. Everything else goes to the default
// resolver.
const fs = require('node:fs');
const path = require('node:path');

const ESM_FAMILY = /^(kubernetes-models|@kubernetes-models\/[^/]+)(\/.*)?$/;
const BARE = /^((?:@[^/]+\/)?[^/.][^/]*)(\/.*)?$/;

function findPackageDir(name, basedir) {
  for (let dir = basedir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === path.dirname(dir)) return undefined;
  }
}

/** The `import` target of `subpath` in an exports map, wildcards included. */
function exportTarget(exportsMap, subpath) {
  const pick = entry =>
    typeof entry === 'string' ? entry : entry?.import ?? entry?.default;
  if (exportsMap[subpath]) return pick(exportsMap[subpath]);
  for (const [key, entry] of Object.entries(exportsMap)) {
    const star = key.indexOf('*');
    if (star < 0) continue;
    const prefix = key.slice(0, star);
    const suffix = key.slice(star + 1);
    if (
      subpath.startsWith(prefix) &&
      subpath.endsWith(suffix) &&
      subpath.length >= prefix.length + suffix.length
    ) {
      const match = subpath.slice(
        prefix.length,
        subpath.length - suffix.length,
      );
      return pick(entry)?.replace('*', match);
    }
  }
  return undefined;
}

/** Where `import request` from `basedir` leads, or undefined. */
function resolveImport(request, basedir) {
  const [, name, rest] = BARE.exec(request) ?? [];
  if (!name) return undefined;
  const packageDir = findPackageDir(name, basedir);
  if (!packageDir) return undefined;
  const manifest = JSON.parse(
    fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'),
  );
  const subpath = `.${rest ?? ''}`;
  const { exports: exportsMap } = manifest;
  let target;
  if (typeof exportsMap === 'string') {
    target = subpath === '.' ? exportsMap : undefined;
  } else if (exportsMap && !Object.keys(exportsMap)[0]?.startsWith('.')) {
    // Conditions at the top level: the package's only entry point.
    target =
      subpath === '.' ? exportTarget({ '.': exportsMap }, '.') : undefined;
  } else if (exportsMap) {
    target = exportTarget(exportsMap, subpath);
  } else {
    target = subpath === '.' ? manifest.module ?? manifest.main : rest;
  }
  return target ? path.join(packageDir, target) : undefined;
}

module.exports = (request, options) => {
  const fromFamily = /[\\/]node_modules[\\/]kubernetes-models[\\/]/.test(
    options.basedir,
  );
  if (ESM_FAMILY.test(request) || (fromFamily && BARE.test(request))) {
    const resolved = resolveImport(request, options.basedir);
    if (resolved) return resolved;
  }
  return options.defaultResolver(request, options);
};
