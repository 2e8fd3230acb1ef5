# syntax=docker/dockerfile:1
# Recover, the Slack bot and its workers. Build: docker build -t recover .
# Run it with compose.yaml (Redis with AOF and noeviction beside it).

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: compile TypeScript, then keep only production dependencies -------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# npm 11: the node:20 image ships npm 10, which ignores package.json allowScripts and would run
# every dependency's install script.
RUN npm install -g npm@11.19.1 --no-audit --no-fund
COPY package.json package-lock.json ./
COPY scripts/install-deps.sh ./scripts/
# npm ci from the lock file (install scripts stay off: package.json allowScripts).
RUN bash scripts/install-deps.sh
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY commands ./commands
COPY jobs ./jobs
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime: slim, non-root, the client tools the runbooks call ---------------------------------
FROM ${NODE_IMAGE} AS runtime
# pg_dump/pg_restore and mariadb-dump/mariadb for dump→restore steps; ssh for nothing (ssh2 is
# pure JavaScript) but handy for a human debugging host keys inside the container.
RUN apt-get update \
  && apt-get install -y --no-install-recommends postgresql-client mariadb-client tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
  RECOVER_CONFIG=/config/recover.yaml \
  RECOVER_HEARTBEAT_FILE=/tmp/recover.heartbeat
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json manifest.yml ./
COPY bin ./bin
USER node
# HTTP mode (SLACK_MODE=http) listens here; Socket Mode needs no inbound port.
EXPOSE 3000
# Healthy while the bot beats: Redis answers and the process is alive (see `recover health`).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "bin/recover.js", "health", "--max-age", "60"]
ENTRYPOINT ["tini", "--", "node", "bin/recover.js"]
CMD ["bot"]
