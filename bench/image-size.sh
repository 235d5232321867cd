#!/usr/bin/env bash
# Where the bytes of a built portal image go: prints a table of the image's
# total size and the parts of its file system that matter for its size (Node,
# what the base image brings, /app's dependencies, the bundle, the app's static
# files, source maps, type declarations, docs, native addons, compilers).
#
#   bash bench/image-size.sh [IMAGE] [IMAGE...]
#       IMAGE defaults to localhost/backstage-entra-starter:check (what
#       scripts/container-check.sh builds). Several images: one table each.
#
# Reads the image's file system through `podman image mount` (root, no
# container started). Sizes are the bytes in regular files (what the image's
# layer tarballs carry, less their headers), in MB of 10^6 bytes; "image" is
# podman's size of the whole image, every layer included.
#
# Environment: TOP (default 20) packages listed by size.
set -uo pipefail

TOP="${TOP:-20}"
[ $# -gt 0 ] || set -- localhost/backstage-entra-starter:check

if [ "$(id -u)" != 0 ]; then
  echo "podman image mount needs root" >&2
  exit 1
fi

mb() { awk -v b="${1:-0}" 'BEGIN { printf "%8.1f", b / 1000000 }'; }
# Bytes in the regular files under paths of the mounted root (0 when absent).
# Not `du`: its apparent size counts 4 KB for every directory, which in a
# node_modules of ~7,000 directories is ~28 MB that no layer carries.
bytes() {
  local p
  for p in "$@"; do
    [ -e "$ROOT$p" ] && find "$ROOT$p" -type f -printf '%s\n' 2> /dev/null
  done | awk '{ s += $1 } END { printf "%d\n", s }'
}
# Bytes and count of files under a directory whose names match find's args.
files_matching() { # dir find-args...
  local dir="$1"; shift
  [ -d "$ROOT$dir" ] || { echo "0 0"; return; }
  find "$ROOT$dir" -type f \( "$@" \) -printf '%s\n' 2> /dev/null |
    awk '{ s += $1; n++ } END { printf "%d %d\n", s, n }'
}
row() { # label bytes [note]
  printf '  %-58s %s MB  %s\n' "$1" "$(mb "$2")" "${3:-}"
}

report() {
  local image="$1" size
  size="$(podman image inspect --format '{{.Size}}' "$image" 2> /dev/null)" || {
    echo "no image $image" >&2
    return 1
  }
  ROOT="$(podman image mount "$image")" || return 1
  local nm=/app/node_modules

  echo "== $image"
  row "image (all layers)" "$size"
  row "file system /" "$(bytes /)"
  echo "  -- base image"
  row "/usr/local (Node and what comes with it)" "$(bytes /usr/local)"
  row "  /usr/local/bin/node" "$(bytes /usr/local/bin/node)"
  row "  /usr/local/include (Node's C headers)" "$(bytes /usr/local/include)"
  row "  /usr/local/lib/node_modules (npm, corepack)" "$(bytes /usr/local/lib/node_modules)"
  row "/opt (yarn 1 of the node images)" "$(bytes /opt)"
  row "/usr outside /usr/local (Debian)" "$(($(bytes /usr) - $(bytes /usr/local)))"
  row "/var, /etc, /root, /home" "$(bytes /var /etc /root /home)"
  echo "  -- /app"
  row "/app" "$(bytes /app)"
  row "/app/node_modules (production dependencies)" "$(bytes $nm)"
  row "/app/packages (the bundle: backend, app, shared packages)" "$(bytes /app/packages)"
  row "  /app/packages/app/dist (the app's static files)" "$(bytes /app/packages/app/dist)"
  row "/app/plugins (the bundle: the repository's plugins)" "$(bytes /app/plugins)"
  row "/app/catalog + configuration" "$(bytes /app/catalog /app/app-config.yaml /app/app-config.production.yaml /app/catalog-info.yaml)"

  local maps dts docs tests
  read -r maps_b maps_n <<< "$(files_matching /app -name '*.map')"
  row "*.map under /app ($maps_n files)" "$maps_b"
  read -r maps_b maps_n <<< "$(files_matching /app/packages -name '*.map')"
  row "  of which under /app/packages ($maps_n files)" "$maps_b"
  read -r dts_b dts_n <<< "$(files_matching $nm -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.d.ts.map')"
  row "type declarations in node_modules ($dts_n files)" "$dts_b"
  read -r docs_b docs_n <<< "$(files_matching $nm -iname '*.md' -o -iname '*.markdown' -o -iname 'README*' -o -iname 'CHANGELOG*' -o -iname 'HISTORY*')"
  row "READMEs, changelogs, *.md in node_modules ($docs_n files)" "$docs_b"
  read -r tests_b tests_n <<< "$(files_matching $nm -path '*/__tests__/*' -o -path '*/test/*' -o -path '*/tests/*' -o -name '*.test.*' -o -name '*.spec.*')"
  row "tests in node_modules ($tests_n files)" "$tests_b"
  read -r src_b src_n <<< "$(files_matching $nm -name '*.ts' -not -name '*.d.ts' -o -name '*.tsx')"
  row "TypeScript sources (*.ts, *.tsx) in node_modules ($src_n)" "$src_b"
  read -r node_b node_n <<< "$(files_matching / -name '*.node' -path '*/node_modules/*')"
  row "native addons (*.node, $node_n files)" "$node_b"
  row "better-sqlite3" "$(bytes $nm/better-sqlite3)"
  row "node-gyp" "$(bytes $nm/node-gyp)"
  row "typescript" "$(bytes $nm/typescript)"

  # Packages present in more than one version (nested node_modules copies).
  local dup
  dup="$(find "$ROOT$nm" -name package.json -type f 2> /dev/null |
    sed -nE "s#^.*/node_modules/((@[^/]+/)?[^/]+)/package\.json\$#\1#p" |
    sort | uniq -c | awk '$1 > 1 { n++; extra += $1 - 1 } END { printf "%d %d\n", n, extra }')"
  local nested
  nested="$(find "$ROOT$nm" -mindepth 2 -type d -name node_modules -prune -print0 2> /dev/null |
    xargs -0r -I{} find {} -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')"
  row "nested node_modules (copies of other versions)" "${nested:-0}" \
    "($(awk '{ print $1 }' <<< "$dup") packages in >1 version, $(awk '{ print $2 }' <<< "$dup") extra copies)"

  echo "  -- tools in the image"
  local tool found=""
  for tool in gcc g++ cc c++ make python3 npm npx corepack yarn yarnpkg apt-get; do
    for dir in /usr/local/bin /usr/bin /bin; do
      if [ -e "$ROOT$dir/$tool" ] || [ -L "$ROOT$dir/$tool" ]; then found="$found $tool"; break; fi
    done
  done
  echo "  present:${found:- none}"

  echo "  -- top $TOP packages in /app/node_modules (nested copies count with their parent)"
  (cd "$ROOT$nm" && for p in [!@.]* @*/*; do
    [ -d "$p" ] && [ ! -L "$p" ] && printf '%s %s\n' "$(find "$p" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')" "$p"
  done) | sort -rn | head -n "$TOP" |
    while read -r b name; do row "  $name" "$b"; done
  echo

  podman image unmount "$image" > /dev/null
}

for image in "$@"; do
  report "$image"
done
