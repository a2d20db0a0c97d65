# syntax=docker/dockerfile:1
#
# The cnp-operator image: `docker build -t <registry>/cnp-operator:<tag> .`
#
# Node.js 24 (LTS until April 2028); Node 20 reached end of life in April 2026. The code needs
# Node >= 20.11 today. Moving to @kubernetes/client-node 2.x requires Node >= 22.19 (its
# engines field), so keep NODE_MAJOR at 22.19+ or 24 when upgrading it, and raise "engines" in
# package.json to match.
#
# The runtime stage is distroless: Node.js and its libraries, no shell, no package manager,
# user nonroot (65532). Nothing is written to the filesystem at run time, so the container
# runs with a read-only root filesystem. test/integration/entrypoint.test.ts runs this file's
# ENTRYPOINT on the same files (it reads the runtime stage's WORKDIR, COPY lines and
# ENTRYPOINT from here).

ARG NODE_MAJOR=24

# Compiles src/ to dist/ with the dev dependencies (TypeScript), and bundles it into
# dist/cnp-operator.js (esbuild), the one file the launchers load.
FROM node:${NODE_MAJOR}-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the `prepare` script builds, and the sources are not copied yet.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
COPY hack/bundle.mjs ./hack/bundle.mjs
RUN npm run build

# Production dependencies only, straight from the lockfile. Type declarations and source maps
# are not needed at run time (about 34 of @kubernetes/client-node's 57 MB).
FROM node:${NODE_MAJOR}-trixie-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete

FROM gcr.io/distroless/nodejs${NODE_MAJOR}-debian13:nonroot
WORKDIR /app
ENV NODE_ENV=production
# A 4 MiB young generation: V8 otherwise keeps up to 3 × 16 MiB of semi-spaces resident,
# a third of the operator's memory with 5,000 CNPs. Smaller costs CPU in garbage collection at
# start-up: with 5,000 CNPs, 2 MiB used 13.0–14.1 s of CPU against 12.3–12.6 s with 4 MiB, for
# about 3 MiB less resident (1 MiB cost 7–10 % more than 2 MiB). Two V8 worker threads instead
# of four: glibc gives each thread that allocates a malloc arena of its own; with 5,000 CNPs the
# threads' arenas held 14 MiB resident with four workers, 10 with two (142 MiB in all against 145; no
# more CPU in cold starts at 1,000 CNPs). One worker saved 1 MiB more, and its one cold start
# measured at 5,000 CNPs took a fifth more CPU.
# bench/operator.ts runs the operator with these options.
ENV NODE_OPTIONS="--max-semi-space-size=4 --v8-pool-size=2"
COPY --from=build /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
USER 65532:65532
# 8080: /metrics; 8081: /healthz and /readyz.
EXPOSE 8080 8081
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/cnp-operator", "run"]
