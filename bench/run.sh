#!/usr/bin/env bash
# npm run bench: installs the benchmark's own dependencies (pouchdb-server 4.2.0) into
# bench/node_modules on first use, then runs bench/data.bench.ts (5 to 6 minutes).
# Knobs: BENCH_QUICK=1, BENCH_SERVERS=hearth,pouchdb,fastify, BENCH_PROFILE=1 (see data.bench.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f bench/node_modules/pouchdb-server/package.json ]; then
  echo "[bench] installing bench dependencies into bench/node_modules (about 1 minute, once)" >&2
  npm install --prefix bench --no-audit --no-fund >&2
fi
exec node --import tsx bench/data.bench.ts "$@"
