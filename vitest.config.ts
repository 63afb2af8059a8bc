import { configDefaults, defineConfig } from 'vitest/config';
import LongestFirst from './test/helpers/sequencer.js';

/**
 * The existing suites that also run on a scale-out engine (test/helpers/engines.ts): the coordination on Redis
 * (realtime, limits and lock-outs through login, locks through WebDAV's concurrent writes, the jobs' routes and the
 * changes feeds on the Redis bus). Left out: the slow login lock-out across addresses (src/auth/lockout-sources.test.ts,
 * 80 argon2 logins; LoginLockOut on Redis is in src/coordination/redis.test.ts) and the tests that poke at SQLite files.
 */
const ON_REDIS = [
  'src/realtime/ws.test.ts', 'src/realtime/sse.test.ts', 'src/realtime/cozy-realtime.test.ts', 'src/realtime/files.test.ts',
  'src/realtime/notify.test.ts', 'src/realtime/limits.test.ts', 'src/realtime/redis-hub.test.ts',
  'src/auth/login.test.ts',
  'src/files/dav/put-race.test.ts', 'src/jobs/routes.test.ts', 'src/data/http/replication.test.ts',
];
/** The files suites that go through the blob store by HTTP: run again on Swift and on S3 (issue 16). */
const OBJECT_STORAGE = [
  'src/files/http/upload.test.ts', 'src/files/http/download.test.ts', 'src/files/ranges.test.ts', 'src/files/http/versions.test.ts',
  'src/files/http/thumbnails.test.ts', 'src/files/http/trash.test.ts', 'src/files/http/upload-sessions.test.ts',
  // the code of installed apps in the object store (its index in a PostgreSQL the test starts), the avatars
  'src/apps/code/shared-store.test.ts', 'src/settings/avatar.test.ts',
  // what a holder of the file-system lock paused past its lease can do to the blobs (nothing another's files name)
  'src/files/fencing-blobs.test.ts',
  // the per-context stack assets (their bytes in the object store)
  'src/apps/assets/context-assets.test.ts',
  // export and import between two Hearths whose files are in the object store
  'src/move/roundtrip.test.ts',
  // an export's snapshot: the blobs removed meanwhile kept in the object store, released at expiry
  'src/move/export/snapshot.test.ts',
];
/**
 * On Swift only (its native API; S3 goes through the same blob-store interface): a folder copy cut by a kill -9 on
 * PostgreSQL + Redis + Swift; an instance's blobs moved from the local disk to Swift and back while an export holds some
 * (issue 17; the default project moves them to a second local disk).
 */
const SWIFT_ONLY = ['src/files/copy-journal-pg.test.ts', 'src/move/export/held.test.ts'];
const objectStorage = (store: 'swift' | 's3') => ({
  extends: true as const,
  test: {
    name: `object-storage-${store}`,
    include: store === 'swift' ? [...OBJECT_STORAGE, ...SWIFT_ONLY] : OBJECT_STORAGE,
    globalSetup: ['test/helpers/servers/swift-global.ts'],
    setupFiles: ['test/helpers/servers/swift-project.ts'],
    env: { TEST_OBJECT_STORE: store },
  },
});

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // the longest files first, by the times of an earlier run (test/file-times.json): the run ends on short files
    sequence: { sequencer: LongestFirst },
    // a worker runs file after file with the modules it has imported: the server's ~450 modules and ~600 of its
    // dependencies are imported once per worker and project instead of once per file, about half of the CPU time of a
    // file that starts a Hearth (bench/RESULTS-suite-isolation.md). A test file must leave no state behind it: what it
    // changes in process.env or on globals it puts back; spies are restored between files by vitest.
    isolate: false,
    projects: [
      // everything, on the embedded engines (the include is the default project's: with `extends`, a project's include
      // would be added to a root one, and each project would run everything)
      {
        extends: true,
        // (the shared app code store runs on PostgreSQL alone in postgres-state, on PostgreSQL + Swift and S3 in
        // object-storage-*: on the embedded engines, it would run postgres-state's tests again on a PostgreSQL of its own)
        test: {
          name: 'default',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'src/data/postgres/under-test.test.ts', 'src/apps/code/shared-store.test.ts'],
        },
      },
      {
        // the data suites on the PostgreSQL document engine: the same tests, TEST_PG_URL set in its workers (postgres-global.ts)
        extends: true,
        test: {
          name: 'postgres-docs',
          include: [
            'src/data/postgres/under-test.test.ts',
            'src/data/http/*.test.ts', 'src/data/pouchdb.test.ts', 'src/data/cozy-client.test.ts', 'src/files/http/cozy-stack-client.test.ts',
          ],
          globalSetup: ['test/helpers/servers/postgres-global.ts'],
          setupFiles: ['test/helpers/servers/postgres-env.ts'],
        },
      },
      { extends: true, test: { name: 'redis', include: ON_REDIS, globalSetup: ['test/helpers/servers/redis-global.ts'], setupFiles: ['test/helpers/servers/redis-env.ts'] } },
      objectStorage('swift'),
      objectStorage('s3'),
      // jobs and triggers on PostgreSQL (broker-pg.ts): the engine and scheduler suites (test/helpers/jobs.ts), the /jobs
      // routes, the workers' rights and the mirror into /data through a real Hearth; left out: broker-durable.test.ts,
      // crash.test.ts and mirror.test.ts (jobs.sqlite's WAL, outbox and kill -9 of its process), and the *-pg / *-sqlite
      // files (they start their own server, in the default project)
      {
        extends: true,
        test: {
          name: 'postgres-jobs',
          include: [
            'src/jobs/engine.test.ts', 'src/jobs/scheduler.test.ts', 'src/jobs/routes.test.ts', 'src/jobs/workers/job-rights.test.ts',
            'src/jobs/data-view.test.ts', 'src/jobs/event-sweep.test.ts',
            // the housekeeping, its hints in PostgreSQL (server/housekeeping-hints-pg.ts)
            'src/server/jobs.test.ts',
          ],
          exclude: [...configDefaults.exclude, 'src/**/*-sqlite.test.ts', 'src/**/*-pg.test.ts'],
          globalSetup: ['test/helpers/servers/postgres-global.ts'],
          setupFiles: ['test/helpers/servers/postgres-env.ts'],
        },
      },
      // the server's own state (registry, sessions, WebDAV locks, OAuth codes) on docs.engine postgres: the auth, instances, dav and oauth suites
      // through real Hearths; left out: the SQLite engines' own files (their migrations, WAL), destroy.test.ts (jobs.sqlite,
      // kill -9), the migrations between engines (they set their engines themselves) and the *-pg.test.ts files (they start
      // their own server, in the default project)
      {
        extends: true,
        test: {
          name: 'postgres-state',
          include: [
            'src/auth/**/*.test.ts', 'src/instances/**/*.test.ts', 'src/files/dav/**/*.test.ts', 'src/oauth/**/*.test.ts',
            'src/apps/code/shared-store.test.ts', 'src/apps/install/install.test.ts', 'src/apps/install/lifecycle.test.ts',
            // updates and uninstalls that fail, repaired at once (their intents in hearth.app_installs)
            'src/apps/install/failure.test.ts',
            'src/settings/avatar.test.ts',
            // the per-context assets' index, and the instances' context, terms and tracking on PostgreSQL
            'src/apps/assets/context-assets.test.ts', 'src/settings/warnings.test.ts',
            // export and import between two Hearths on PostgreSQL (the archive read back, every document and file compared)
            'src/move/roundtrip.test.ts',
            // an export's snapshot on PostgreSQL: the documents of one REPEATABLE READ transaction, the pins in the schema hearth
            'src/move/export/snapshot.test.ts',
          ],
          exclude: [
            ...configDefaults.exclude, 'src/**/*-sqlite.test.ts', 'src/**/*-pg.test.ts', 'src/instances/registry-settings.test.ts',
            'src/instances/registry-twofactor.test.ts', 'src/instances/destroy.test.ts', 'src/auth/sessions.test.ts',
            'src/instances/migrate.test.ts', 'src/instances/migrate-http.test.ts', 'src/instances/engines.test.ts',
          ],
          globalSetup: ['test/helpers/servers/postgres-global.ts'],
          setupFiles: ['test/helpers/servers/postgres-env.ts'],
        },
      },
    ],
  },
});
