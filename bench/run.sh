#!/usr/bin/env bash
# npm run bench: installs the benchmark's own dependencies (pouchdb-server 4.2.0, @solid/community-server 7.2.0) into
# bench/node_modules on first use, then runs bench/data.bench.ts (5 to 6 minutes, writes bench/RESULTS.md) and
# bench/files.bench.ts (about 5 minutes, writes bench/RESULTS-files.md), bench/jobs.bench.ts (about 30 s, writes
# bench/RESULTS-jobs.md) and bench/realtime.bench.ts (10,000 WebSockets, about 1 minute, writes bench/RESULTS-realtime.md),
# bench/farm.bench.ts (10,000 instances and start-up, about 10 minutes on a shared machine, writes bench/RESULTS-farm.md),
# bench/apps-code.bench.ts (a 5 MB app on 2,001 instances, about 30 s, writes bench/RESULTS-apps-code.md),
# bench/apps-install.bench.ts (suite apps-install: the same app with a service through the whole installer on 1,000 instances,
# beside the code store's part alone, about 2 minutes, writes bench/RESULTS-apps-install.md), apps-install-pg
# (bench/apps-install-pg.bench.ts: installs of stored code on docs.engine postgres, the journal's intents ordered beside
# flushed each, about 2 minutes, prints its table),
# bench/apps-serve.bench.ts (app pages and assets against @fastify/static, about 2 minutes, writes bench/RESULTS-apps.md),
# bench/apps-code-shared.bench.ts (app files read from the local store and the shared one on PostgreSQL, Swift and S3, warm
# and cold, about 2 minutes, writes bench/RESULTS-apps-code-shared.md),
# bench/webapps.bench.ts (the built-in apps: Lighthouse 12.8.2, JavaScript per app, Drive's first rows against a bare page,
# screenshots into docs/screenshots/; about 5 minutes, writes bench/RESULTS-webapps.md and .json), bench/migrate.bench.ts (an
# instance of 10,000 documents and 100 MB moved between engines, about 1 minute, writes bench/RESULTS-migrate.md), bench/backup.bench.ts
# (hearth backup and restore of a 500 MB data directory, about 2 minutes, writes bench/RESULTS-backup.md), bench/import.bench.ts (an export archive of 100,000
# documents and 2 GiB imported, against unzip, writes bench/RESULTS-import.md), bench/export.bench.ts (the same instance exported,
# against zip -r and tar, writes bench/RESULTS-export.md), then issue 16's
# scale-out engines, each on private servers from Debian's packages started by the script (PostgreSQL with fsync on, Swift):
# data-pg (bench/data.bench.ts with BENCH_SERVERS=hearth,hearth-pg,pouchdb: the data workloads on docs.engine postgres beside
# SQLite and pouchdb-server, target 2x pouchdb-server, about 6 minutes, writes bench/RESULTS-data-pg.md; then bench/pg-docs.bench.ts,
# the two engines through the DocStore interface, about 1 minute, writes bench/RESULTS-pg-docs.md), mango-pg (bench/mango-pg.bench.ts,
# _find on 100,000 documents on both engines, about 2 minutes, writes bench/RESULTS-mango-pg.md), jobs-cluster
# (bench/jobs-cluster.bench.ts, jobs with 1, 2 and 3 processes on one PostgreSQL beside SQLite, about 3 minutes, writes
# bench/RESULTS-jobs-cluster.md), blobs (bench/blobs.bench.ts, 200 MiB up and down on local disk, Swift and S3 beside a plain file
# and rclone, about 3 minutes, writes bench/RESULTS-blobs.md) and farm-pg (bench/farm.bench.ts with BENCH_FARM_ENGINES=sqlite,postgres:
# 10,000 instances on SQLite and on one PostgreSQL, creation, cold and warm requests, memory, catalog; about 25 minutes on a shared
# machine, writes bench/RESULTS-farm-pg.md), one after the other.
# concurrent-start (bench/concurrent-start.bench.ts: 50 rounds of three `bin/hearth.js serve` starting together on a fresh
# PostgreSQL database, then three more beside them; the failed starts counted; about 10 minutes, writes
# bench/RESULTS-concurrent-start.md; BENCH_START_REFERENCE=<another build's bin/hearth.js> alternates its rounds).
# pg-catalog (bench/pg-catalog.bench.ts: 2,000 instances on one PostgreSQL, the memory of its server processes with connections
# kept for good and replaced after docs.connectionUses uses, about 10 minutes, writes bench/RESULTS-pg-catalog.md).
# upload-sessions (bench/upload-sessions.bench.ts: a 128 MiB file sent whole and through a resumable upload session in 4 and
# 16 MiB chunks, about 1 minute, writes bench/RESULTS-upload-sessions.md).
# Knobs: BENCH_QUICK=1 (all), BENCH_SUITES=data,files,jobs,realtime,coordination,farm,apps-code,apps-install,apps-install-pg,apps-code-shared,apps,webapps,migrate,backup,import,export,data-pg,mango-pg,jobs-cluster,blobs,farm-pg,fencing,event-sweep,pg-catalog,write-index,concurrent-start,upload-sessions
# (which scripts run), and each script's own
# (data: BENCH_SERVERS, BENCH_WORKLOADS, BENCH_PROFILE…; files: BENCH_FILES_SERVERS, BENCH_FILES_WORKLOADS…;
# realtime: BENCH_RT_SOCKETS, BENCH_RT_WRITES, BENCH_RT_SERVERS…; see their headers).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f bench/node_modules/pouchdb-server/package.json ] || [ ! -f bench/node_modules/@solid/community-server/package.json ] \
  || [ ! -f bench/node_modules/lighthouse/package.json ]; then
  echo "[bench] installing bench dependencies into bench/node_modules (about 1 minute, once)" >&2
  npm install --prefix bench --no-audit --no-fund >&2
fi
suites=",${BENCH_SUITES:-data,files,jobs,realtime,coordination,farm,apps-code,apps-install,apps-install-pg,apps-code-shared,apps,webapps,migrate,backup,import,export,data-pg,mango-pg,jobs-cluster,blobs,farm-pg,fencing,event-sweep,pg-catalog,write-index,concurrent-start,upload-sessions},"
status=0
if [[ $suites == *,data,* ]]; then node --import tsx bench/data.bench.ts "$@" || status=$?; fi
if [[ $suites == *,files,* ]]; then node --import tsx bench/files.bench.ts "$@" || status=$?; fi
if [[ $suites == *,jobs,* ]]; then node --import tsx bench/jobs.bench.ts "$@" || status=$?; fi
if [[ $suites == *,realtime,* ]]; then node --import tsx bench/realtime.bench.ts "$@" || status=$?; fi
if [[ $suites == *,coordination,* ]]; then node --import tsx bench/coordination.bench.ts "$@" || status=$?; fi
if [[ $suites == *,fencing,* ]]; then node --import tsx bench/fencing.bench.ts "$@" || status=$?; fi
if [[ $suites == *,upload-sessions,* ]]; then node --import tsx bench/upload-sessions.bench.ts "$@" || status=$?; fi
if [[ $suites == *,concurrent-start,* ]]; then node --import tsx bench/concurrent-start.bench.ts "$@" || status=$?; fi
if [[ $suites == *,event-sweep,* ]]; then node --import tsx bench/event-sweep.bench.ts "$@" || status=$?; fi
if [[ $suites == *,pg-catalog,* ]]; then node --import tsx bench/pg-catalog.bench.ts "$@" || status=$?; fi
if [[ $suites == *,write-index,* ]]; then node --import tsx bench/write-index.bench.ts "$@" || status=$?; fi
if [[ $suites == *,farm,* ]]; then node --import tsx bench/farm.bench.ts "$@" || status=$?; fi
if [[ $suites == *,apps-code,* ]]; then node --import tsx bench/apps-code.bench.ts "$@" || status=$?; fi
if [[ $suites == *,apps-install,* ]]; then node --import tsx bench/apps-install.bench.ts "$@" || status=$?; fi
if [[ $suites == *,apps-install-pg,* ]]; then node --import tsx bench/apps-install-pg.bench.ts "$@" || status=$?; fi
if [[ $suites == *,apps-code-shared,* ]]; then node --import tsx bench/apps-code-shared.bench.ts "$@" || status=$?; fi
if [[ $suites == *,apps,* ]]; then node --import tsx bench/apps-serve.bench.ts "$@" || status=$?; fi
if [[ $suites == *,webapps,* ]]; then node --import tsx bench/webapps.bench.ts "$@" || status=$?; fi
if [[ $suites == *,migrate,* ]]; then node --import tsx bench/migrate.bench.ts "$@" || status=$?; fi
if [[ $suites == *,backup,* ]]; then node --import tsx bench/backup.bench.ts "$@" || status=$?; fi
if [[ $suites == *,data-pg,* ]]; then
  BENCH_SERVERS=hearth,hearth-pg,pouchdb node --import tsx bench/data.bench.ts "$@" || status=$?
  node --import tsx bench/pg-docs.bench.ts "$@" || status=$?
fi
if [[ $suites == *,mango-pg,* ]]; then node --import tsx bench/mango-pg.bench.ts "$@" || status=$?; fi
if [[ $suites == *,jobs-cluster,* ]]; then node --import tsx bench/jobs-cluster.bench.ts "$@" || status=$?; fi
if [[ $suites == *,blobs,* ]]; then node --import tsx bench/blobs.bench.ts "$@" || status=$?; fi
if [[ $suites == *,farm-pg,* ]]; then BENCH_FARM_ENGINES=sqlite,postgres node --import tsx bench/farm.bench.ts "$@" || status=$?; fi
if [[ $suites == *,import,* ]]; then node --import tsx bench/import.bench.ts "$@" || status=$?; fi
if [[ $suites == *,export,* ]]; then node --expose-gc --import tsx bench/export.bench.ts "$@" || status=$?; fi
exit "$status"
