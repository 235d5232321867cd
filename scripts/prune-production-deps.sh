#!/bin/sh
# Removes from an installed production node_modules what the running backend
# never loads, so that the runtime image does not carry it. Run by the
# Dockerfile's production-deps stage, in /app, after
# `yarn workspaces focus --all --production`:
#
#   sh scripts/prune-production-deps.sh [--keep-source-maps]
#
# What goes, and why it is safe (docs/container-image.md has the numbers):
# - type declarations (*.d.ts, *.d.mts, *.d.cts) and TypeScript sources
#   (*.ts, *.tsx, *.mts, *.cts): only a compiler reads them, and Node never
#   strips types of files under node_modules;
# - source maps (*.map), unless --keep-source-maps (SOURCE_MAPS=1);
# - READMEs, changelogs, *.md: documentation. Licence files stay;
# - the compiler packages `typescript` (two versions) and
#   `ts-json-schema-generator`: at run time only @backstage/config-loader
#   requires them, lazily, to compile a config schema written as a .d.ts. Every
#   package here ships its schema as JSON (published packages ship
#   config.schema.json; `backstage-cli` compiles the workspaces' schemas when
#   it bundles the backend), which the check below makes sure of;
# - node-gyp, the native-addon compiler (a dependency of the backend so that
#   better-sqlite3 builds; Yarn also nests a copy of it, with its own
#   dependencies, into every package that compiles an addon);
# - better-sqlite3's C sources, static library, test extension and build files:
#   only build/Release/better_sqlite3.node is loaded.
# Nothing outside node_modules is touched: the workspaces' own packages
# (/app/packages, /app/plugins) are symlinked from it and `find` does not
# follow symlinks.
set -eu

keep_maps=0
for arg in "$@"; do
  case "$arg" in
    --keep-source-maps) keep_maps=1 ;;
    *)
      echo "prune-production-deps: unknown argument $arg" >&2
      exit 2
      ;;
  esac
done

cd node_modules

# A package whose config schema is a .d.ts needs the TypeScript compiler at
# startup (the backend reads every schema to know which config values are
# secrets and must be redacted from logs): keep the compiler and say why.
ts_schemas="$(node -e '
  const fs = require("fs"), path = require("path");
  const found = [];
  const visit = dir => {
    for (const name of fs.readdirSync(dir)) {
      if (name.startsWith(".")) continue;
      const pkgDir = path.join(dir, name);
      if (name.startsWith("@")) { visit(pkgDir); continue; }
      let pkg;
      try { pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8")); }
      catch { continue; }
      if (typeof pkg.configSchema === "string" && pkg.configSchema.endsWith(".d.ts")) {
        found.push(pkg.name);
      }
      const nested = path.join(pkgDir, "node_modules");
      if (fs.existsSync(nested) && !fs.lstatSync(pkgDir).isSymbolicLink()) visit(nested);
    }
  };
  visit(".");
  process.stdout.write(found.join(" "));
')"
if [ -n "$ts_schemas" ]; then
  echo "prune-production-deps: keeping typescript: config schema as .d.ts in $ts_schemas" >&2
else
  rm -rf typescript ts-json-schema-generator @backstage/config-loader/node_modules/typescript
fi

# node-gyp wherever it is, and what Yarn nested only for it: in a package's own
# node_modules, every entry that the package and its other nested entries do
# not depend on.
node -e '
  const fs = require("fs"), path = require("path");
  const readPkg = dir => {
    try { return JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")); }
    catch { return {}; }
  };
  const depNames = pkg => Object.keys({
    ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies,
  });
  const entries = dir => fs.readdirSync(dir).flatMap(name =>
    name.startsWith("@") ? fs.readdirSync(path.join(dir, name)).map(n => `${name}/${n}`)
      : name.startsWith(".") ? [] : [name]);
  const prune = parent => {
    const nested = path.join(parent, "node_modules");
    if (!fs.existsSync(path.join(nested, "node-gyp"))) return;
    const present = new Set(entries(nested));
    const keep = new Set();
    const queue = depNames(readPkg(parent));
    while (queue.length) {
      const name = queue.pop();
      if (name === "node-gyp" || keep.has(name) || !present.has(name)) continue;
      keep.add(name);
      queue.push(...depNames(readPkg(path.join(nested, name))));
    }
    for (const name of present) {
      if (!keep.has(name)) fs.rmSync(path.join(nested, name), { recursive: true, force: true });
    }
    if (entries(nested).length === 0) fs.rmSync(nested, { recursive: true, force: true });
  };
  const walk = dir => {
    for (const name of entries(dir)) {
      const pkgDir = path.join(dir, name);
      if (fs.lstatSync(pkgDir).isSymbolicLink()) continue;
      prune(pkgDir);
      const nested = path.join(pkgDir, "node_modules");
      if (fs.existsSync(nested)) walk(nested);
    }
  };
  walk(".");
'
rm -rf node-gyp

# better-sqlite3: the compiled addon only (the `bindings` lookup finds it in
# build/Release).
if [ -d better-sqlite3 ]; then
  find better-sqlite3/build -mindepth 1 \! -path better-sqlite3/build/Release \
    \! -path better-sqlite3/build/Release/better_sqlite3.node -prune -exec rm -rf {} +
  rm -rf better-sqlite3/deps better-sqlite3/src better-sqlite3/binding.gyp
fi

# Declarations, TypeScript sources, documentation, source maps.
find . -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.tsbuildinfo' \
  -o -name '*.ts' -o -name '*.tsx' -o -name '*.mts' -o -name '*.cts' \
  -o -iname 'README' -o -iname 'README.txt' -o -iname 'README.rst' \
  -o -iname 'CHANGELOG' -o -iname 'CHANGELOG.txt' -o -iname '*.md' -o -iname '*.markdown' \) \
  \! -iname 'LICEN[CS]E*' \! -iname 'NOTICE*' \! -iname 'COPYING*' -delete
if [ "$keep_maps" = 0 ]; then
  find . -type f -name '*.map' -delete
fi
# Command links left pointing at removed packages (tsc, node-gyp, ...).
find . -path '*/.bin/*' -type l \! -exec test -e {} \; -delete
