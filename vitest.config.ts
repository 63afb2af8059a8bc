import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      // everything, on the embedded engines
      { extends: true, test: { name: 'default' } },
      // jobs and triggers on PostgreSQL (broker-pg.ts): the engine and scheduler suites (test/helpers/jobs.ts), the /jobs
      // routes and the workers' rights through a real Hearth; left out: broker-durable.test.ts and crash.test.ts (jobs.sqlite's
      // WAL and kill -9 of its process), data-view.test.ts (the mirror into /data, SQLite only), and the *-pg / *-sqlite files
      // (they start their own server, in the default project)
      {
        extends: true,
        test: {
          name: 'postgres-jobs',
          include: ['src/jobs/engine.test.ts', 'src/jobs/scheduler.test.ts', 'src/jobs/routes.test.ts', 'src/jobs/workers/job-rights.test.ts'],
          exclude: [...configDefaults.exclude, 'src/**/*-sqlite.test.ts', 'src/**/*-pg.test.ts'],
          globalSetup: ['test/helpers/servers/postgres-global.ts'],
        },
      },
    ],
  },
});
