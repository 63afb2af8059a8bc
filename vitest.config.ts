import { defineConfig } from 'vitest/config';

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

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'default', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] } },
      { extends: true, test: { name: 'redis', include: ON_REDIS, globalSetup: ['test/helpers/servers/redis-global.ts'] } },
    ],
  },
});
