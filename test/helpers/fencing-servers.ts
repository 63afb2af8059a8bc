/** The servers of the fencing tests (src/files/fencing*.test.ts): a Redis and a PostgreSQL, started before the file's tests and stopped after them. */
import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type PgServer } from './servers/postgres.js';
import { startRedis, type RedisServer } from './servers/redis.js';

export function fencingServers(): { redis: RedisServer; pg: PgServer } {
  const servers = {} as { redis: RedisServer; pg: PgServer };
  beforeAll(async () => {
    [servers.redis, servers.pg] = await Promise.all([startRedis(), startPostgres()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([servers.redis?.stop(), servers.pg?.stop()]);
  });
  return servers;
}
