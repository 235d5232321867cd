# syntax=docker/dockerfile:1
#
# Multi-stage image of the portal: the backend, serving the built app.
# Build from the repository root (no host-side install or build needed):
#
#   docker build --tag backstage .                 (or: yarn build-image)
#   buildah bud --format docker --tag backstage .  (no Docker engine; see docs/operations.md)
#
# Behind a TLS-intercepting proxy, pass its CA bundle as a build secret; it is
# used only by the RUN steps that download packages and never stored in a layer:
#
#   docker build --secret id=extra_ca,src=/etc/ssl/certs/ca-certificates.crt --tag backstage .
#
# Source maps are left out of the runtime stage; to keep them (and have Node
# use them for stack traces, NODE_OPTIONS=--enable-source-maps):
#
#   docker build --build-arg SOURCE_MAPS=1 --tag backstage .
#
# Run (PostgreSQL settings come from the environment, see app-config.production.yaml):
#
#   docker run -p 7007:7007 -e POSTGRES_HOST=... -e POSTGRES_PORT=5432 \
#     -e POSTGRES_USER=... -e POSTGRES_PASSWORD=... backstage
#
# scripts/container-check.sh (`yarn test:container`) builds, runs and checks it;
# bench/image-size.sh shows where the image's bytes go. docs/container-image.md
# describes the stages and what the runtime stage holds.

# Node 22 is the release proven with this Backstage release and better-sqlite3.
ARG NODE_IMAGE=node:22-trixie-slim

# ---------------------------------------------------------------------------
# Workspace manifests only (package.json of every workspace), so that the
# dependency install below is cached until a manifest or yarn.lock changes.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json yarn.lock ./
COPY packages packages
COPY plugins plugins
RUN find packages plugins -mindepth 2 -maxdepth 2 \! -name package.json -exec rm -rf {} \+

# ---------------------------------------------------------------------------
# Native-addon toolchain (better-sqlite3 compiles from source) and the Yarn
# release committed in the repository.
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# node-gyp builds against the image's own Node headers (/usr/local/include/node)
# instead of downloading them.
ENV npm_config_nodedir=/usr/local \
    YARN_ENABLE_TELEMETRY=0 \
    YARN_ENABLE_PROGRESS_BARS=0
# `yarn` runs the release under .yarn/releases, whatever yarn/corepack the base
# image has (or lacks).
RUN rm -f /usr/local/bin/yarn /usr/local/bin/yarnpkg \
 && printf '#!/bin/sh\nexec node "$(ls /app/.yarn/releases/yarn-*.cjs | tail -n 1)" "$@"\n' > /usr/local/bin/yarn \
 && chmod 755 /usr/local/bin/yarn
WORKDIR /app
COPY .yarnrc.yml backstage.json ./
COPY .yarn ./.yarn
# The root package's preinstall check.
COPY scripts/check-node.cjs scripts/

# ---------------------------------------------------------------------------
# Build: full install, type check, then bundle the backend together with the app.
FROM toolchain AS build
COPY --from=manifests /app ./
RUN --mount=type=secret,id=extra_ca \
    --mount=type=cache,id=backstage-yarn-cache,target=/root/.yarn/berry/cache,sharing=locked \
    if [ -s /run/secrets/extra_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra_ca; fi \
 && yarn install --immutable
COPY . .
RUN yarn tsc \
 && yarn build:backend \
 && mkdir -p /out/skeleton /out/bundle \
 && tar xzf packages/backend/dist/skeleton.tar.gz -C /out/skeleton \
 && tar xzf packages/backend/dist/bundle.tar.gz -C /out/bundle
# Source maps of the bundle (most of them the app's: static/*.map) stay only
# when asked for. Declared after the build so that it does not rebuild.
ARG SOURCE_MAPS
RUN case "${SOURCE_MAPS}" in \
      1) ;; \
      "") find /out/bundle -type f -name '*.map' -delete ;; \
      *) echo "build arg SOURCE_MAPS=${SOURCE_MAPS}: use SOURCE_MAPS=1 to keep source maps, or leave it unset" >&2; exit 1 ;; \
    esac

# ---------------------------------------------------------------------------
# Production dependencies of the backend (and the workspaces it bundles) only,
# then without what the backend never loads: type declarations, TypeScript
# sources and compilers, docs, source maps (unless SOURCE_MAPS=1), node-gyp,
# better-sqlite3's sources and build files (scripts/prune-production-deps.sh
# says why each is safe to drop).
FROM toolchain AS production-deps
COPY package.json yarn.lock ./
COPY --from=build /out/skeleton/ ./
RUN --mount=type=secret,id=extra_ca \
    --mount=type=cache,id=backstage-yarn-cache,target=/root/.yarn/berry/cache,sharing=locked \
    if [ -s /run/secrets/extra_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra_ca; fi \
 && yarn workspaces focus --all --production
COPY scripts/prune-production-deps.sh /usr/local/bin/
ARG SOURCE_MAPS
RUN sh /usr/local/bin/prune-production-deps.sh ${SOURCE_MAPS:+--keep-source-maps}

# ---------------------------------------------------------------------------
# The Node image without what only installs or compiles packages: Node's C
# headers (node-gyp's), npm, npx, corepack and the image's yarn. The runtime
# stage starts from a copy of this file system: removing files in a later
# layer would not make the image smaller.
FROM ${NODE_IMAGE} AS node-runtime
RUN rm -rf /usr/local/include /usr/local/lib/node_modules /opt/yarn-v* \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
           /usr/local/bin/yarn /usr/local/bin/yarnpkg \
 && node --version

# ---------------------------------------------------------------------------
# Runtime: Node, production dependencies, the bundle and the configuration.
FROM scratch AS runtime
COPY --from=node-runtime / /
ARG SOURCE_MAPS
# NODE_OPTIONS is empty unless SOURCE_MAPS=1.
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    NODE_ENV=production \
    NODE_OPTIONS=${SOURCE_MAPS:+--enable-source-maps}
# The production configuration reads the catalog files relative to /app.
WORKDIR /app
# Files stay owned by root: the `node` user can read the code but not change it.
COPY --from=production-deps /app/package.json ./
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=production-deps /app/packages ./packages
COPY --from=build /out/bundle/ ./
COPY app-config.yaml app-config.production.yaml catalog-info.yaml ./
COPY catalog ./catalog

# Least-privileged user of the Node images (uid 1000).
USER node
EXPOSE 7007
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:7007/.backstage/health/v1/readiness').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "packages/backend", "--config", "app-config.yaml", "--config", "app-config.production.yaml"]
