# One image for web and workers: the built Next app and esbuild bundles of the launcher, the web server and
# the worker (dist/*.mjs), run with plain node as the unprivileged `node` user; no tsx, no dev dependencies.
#   docker compose build                               (CPU image)
#   docker compose --profile gpu build worker-gpu      (ONNXRUNTIME_NODE_INSTALL=cuda12: CUDA encoder)

# --- build: all dependencies, the Next production build, the Node bundles --------------------------------
FROM node:20.19-bookworm-slim AS build
ENV NEXT_TELEMETRY_DISABLED=1 \
    ONNXRUNTIME_NODE_INSTALL=skip
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY apps/web/package.json apps/web/
COPY packages/api/package.json packages/api/
COPY packages/auth/package.json packages/auth/
COPY packages/config/package.json packages/config/
COPY packages/db/package.json packages/db/
COPY packages/launcher/package.json packages/launcher/
COPY packages/queue/package.json packages/queue/
COPY packages/sa1b/package.json packages/sa1b/
COPY packages/sam/package.json packages/sam/
COPY packages/storage/package.json packages/storage/
COPY workers/package.json workers/
COPY prisma prisma
COPY prisma.config.ts ./
# postinstall generates the Prisma client into packages/db/src/generated (compiled into the bundles).
RUN npm ci --include=dev --no-audit --no-fund
COPY . .
RUN node --import tsx packages/launcher/src/start.ts --build-only \
 && node scripts/bundle.mjs

# --- runtime: production dependencies, the build outputs, nothing else ------------------------------------
FROM node:20.19-bookworm-slim AS runtime
ARG ONNXRUNTIME_NODE_INSTALL=skip
ENV ONNXRUNTIME_NODE_INSTALL=${ONNXRUNTIME_NODE_INSTALL} \
    NEXT_TELEMETRY_DISABLED=1 \
    NODE_ENV=production \
    HOST=0.0.0.0 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY apps/web/package.json apps/web/
COPY packages/api/package.json packages/api/
COPY packages/auth/package.json packages/auth/
COPY packages/config/package.json packages/config/
COPY packages/db/package.json packages/db/
COPY packages/launcher/package.json packages/launcher/
COPY packages/queue/package.json packages/queue/
COPY packages/sa1b/package.json packages/sa1b/
COPY packages/sam/package.json packages/sam/
COPY packages/storage/package.json packages/storage/
COPY workers/package.json workers/
# Install scripts stay off (the root postinstall needs the Prisma CLI, a dev tool); onnxruntime-node's
# own script is run only to fetch its CUDA binaries for the GPU variant. npm keeps a few dev tools that
# optional peer ranges of production packages name (better-auth -> vitest -> vite -> tsx, esbuild; the
# Prisma CLI): nothing imports them at run time, so they are removed.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && if [ "$ONNXRUNTIME_NODE_INSTALL" != "skip" ]; then (cd node_modules/onnxruntime-node && node script/install); fi \
 && rm -rf node_modules/tsx node_modules/vitest node_modules/@vitest node_modules/vite node_modules/rolldown \
           node_modules/@rolldown node_modules/esbuild node_modules/@esbuild node_modules/typescript node_modules/prisma \
 && npm cache clean --force
COPY --from=build /app/dist dist
COPY --from=build --chown=node:node /app/apps/web/.next apps/web/.next
COPY apps/web/next.config.js apps/web/
COPY next.config.js ./
COPY prisma prisma
COPY fixtures/images fixtures/images
# @sas/sam's sources are what the decoder-graph manifest key hashes (derivationCodeFingerprint in
# packages/sam/src/node/served-graphs.ts; the Next build resolves that module's import.meta.url to this
# path): with them here, web processes read the graphs another process stored instead of each deriving
# its own. Nothing runs them; they are the same files the build stage compiled.
COPY packages/sam/src packages/sam/src
# Writable by the app user: DATA_DIR (local scratch, the auth secret when AUTH_SECRET is unset) and the
# local cache of model files and built decoder graphs under node_modules/.cache.
RUN mkdir -p /data node_modules/.cache && chown node:node /data node_modules/.cache
USER node

VOLUME ["/data"]
EXPOSE 3000
CMD ["node", "dist/launcher.mjs", "--no-worker"]
