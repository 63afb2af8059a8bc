import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      // everything, on the embedded engines (the include is the default project's: with `extends`, a project's include
      // would be added to a root one, and each project would run everything)
      { extends: true, test: { name: 'default', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] } },
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
            'src/jobs/data-view.test.ts',
          ],
          exclude: [...configDefaults.exclude, 'src/**/*-sqlite.test.ts', 'src/**/*-pg.test.ts'],
          globalSetup: ['test/helpers/servers/postgres-global.ts'],
        },
      },
    ],
  },
});
