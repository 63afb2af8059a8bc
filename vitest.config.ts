import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      // everything, on the embedded engines (each project names its own files: an `include` of the root would be added to theirs)
      { extends: true, test: { name: 'default', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] } },
      // the server's own state (registry, sessions, WebDAV locks, OAuth codes) on docs.engine postgres: the auth, instances, dav and oauth suites
      // through real Hearths; left out: the SQLite engines' own files (their migrations, WAL), destroy.test.ts (jobs.sqlite,
      // kill -9) and the *-pg.test.ts files (they start their own server, in the default project)
      {
        extends: true,
        test: {
          name: 'postgres-state',
          include: ['src/auth/**/*.test.ts', 'src/instances/**/*.test.ts', 'src/files/dav/**/*.test.ts', 'src/oauth/**/*.test.ts'],
          exclude: [
            ...configDefaults.exclude, 'src/**/*-sqlite.test.ts', 'src/**/*-pg.test.ts', 'src/instances/registry-settings.test.ts',
            'src/instances/registry-twofactor.test.ts', 'src/instances/destroy.test.ts', 'src/auth/sessions.test.ts',
          ],
          globalSetup: ['test/helpers/servers/postgres-global.ts'],
        },
      },
    ],
  },
});
