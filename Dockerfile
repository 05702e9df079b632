# syntax=docker/dockerfile:1
# One image for both subcommands: `warp agent` and `warp operator` (the operator's agent
# Deployments and the Helm chart run `command: ["warp"]`).
#
#   docker build -t warp:dev .
#   docker run --rm -p 9092:9092 -p 8080:8080 -v warp-data:/data warp:dev      # an agent on file:///data
#
# Reproducible: base image pinned to an exact Node.js release (pin its digest too when you mirror
# it: `NODE_IMAGE=node:24.22.3-bookworm-slim@sha256:...`), dependencies from package-lock.json with
# `npm ci`, no package-manager upgrades, timestamps clamped with SOURCE_DATE_EPOCH (BuildKit).
# Lean: .dockerignore admits only the sources below; the runtime stage has no compiler, no dev
# dependencies and no npm cache, and runs as uid 1000 with nothing writable but /data and /tmp.
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY common/ common/
COPY agent/src/ agent/src/
COPY operator/src/ operator/src/
COPY cli/ cli/
RUN npx tsc -p tsconfig.build.json && chmod 0755 dist/cli/warp.js

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="warp" \
      org.opencontainers.image.description="Kafka-compatible agent on DynamoDB + S3, and its Kubernetes operator" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
RUN ln -s /app/dist/cli/warp.js /usr/local/bin/warp \
 && mkdir -p /data && chown 1000:1000 /data
# The image's `node` user; numeric so that runAsNonRoot can verify it.
USER 1000:1000
VOLUME ["/data"]
EXPOSE 9092 8080 8081
ENTRYPOINT ["warp"]
CMD ["agent", "-bucketURL", "file:///data"]
