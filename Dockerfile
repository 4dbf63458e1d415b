# syntax=docker/dockerfile:1
# lockstep: one node per container. Build: docker build -t lockstep .
# Run:   docker run -p 7379:7379 -p 8379:8379 -v lockstep-data:/data \
#          -e LOCKSTEP_ID=n1 -e LOCKSTEP_REQUIREPASS=... lockstep
# Every setting is a LOCKSTEP_* variable or a flag after the image name (see docs/configuration.md);
# a 3-node cluster with monitoring is docker-compose.yml (docs/operations.md).

ARG NODE_VERSION=22

# --- build: compile TypeScript, then keep only the runtime dependencies -----------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 builds from source when no prebuilt binary matches the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY tools ./tools
COPY bench ./bench
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# --- runtime: node, the compiled server, its production dependencies; nothing else ------------
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    LOCKSTEP_DATA=/data \
    LOCKSTEP_BIND=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
# The status page is read from the source tree at start (src/http/status-routes.ts).
COPY src/http/status-page.html ./src/http/status-page.html
COPY deploy/healthcheck.mjs deploy/resp-call.mjs deploy/backup.mjs ./deploy/
# The image's `node` user (uid 1000) owns the data volume; the server never runs as root.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# RESP, HTTP (metrics, API, status page), cluster bus: the defaults; a node configured with
# other ports listens on those instead.
EXPOSE 7379 8379 17379
HEALTHCHECK --interval=10s --timeout=4s --start-period=30s --retries=3 \
  CMD ["node", "deploy/healthcheck.mjs"]
# SIGTERM stops the node cleanly (main.ts); give it up to its shutdown-timeout-ms.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/src/main.js"]
