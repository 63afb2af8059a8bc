import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      // every test on the embedded engines
      {
        extends: true,
        test: { name: 'default', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'src/data/postgres/under-test.test.ts'] },
      },
      {
        // the data suites on the PostgreSQL document engine (issue 16): the same tests, TEST_PG_URL set in its workers (postgres-global.ts)
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
    ],
  },
});
