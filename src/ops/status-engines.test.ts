/** GET /status names the scale-out servers (PostgreSQL, Redis), real ones, and says when one is down and when it is back. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { startPostgres, type PgServer } from '../../test/helpers/servers/postgres.js';
import { startRedis, type RedisServer } from '../../test/helpers/servers/redis.js';

describe('GET /status with PostgreSQL and Redis', () => {
  let pg: PgServer, redis: RedisServer, h: TestHearth;
  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    h = await startTestHearth(
      { docs: { engine: 'postgres', url: pg.url, poolSize: 2 }, coordination: { engine: 'redis', url: redis.url, prefix: 'status:' } },
    );
  });
  afterAll(async () => {
    await h?.close();
    await Promise.all([pg?.stop(), redis?.stop()]);
  });

  it('reports both healthy, then the one that is down by name, then healthy again without a restart', async () => {
    const ok = await h.req('GET', '/status');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'OK', postgres: 'healthy', redis: 'healthy' });
    expect(ok.body.latency.postgres).toMatch(/^\d+\.\d{3}ms$/);

    await redis.halt();
    const noRedis = await h.req('GET', '/status');
    expect(noRedis.status).toBe(502);
    expect(noRedis.body).toMatchObject({ status: 'KO', postgres: 'healthy', message: 'redis is unhealthy' });
    expect(noRedis.body.redis).toMatch(/^unhealthy: /);
    await redis.start();
    // ioredis reconnects by itself (within its backoff of at most 2 s)
    await expect.poll(async () => (await h.req('GET', '/status')).body.redis, { timeout: 20_000, interval: 250 }).toBe('healthy');

    await pg.halt();
    const noPg = await h.req('GET', '/status');
    // the registry, sessions, jobs and documents live there too: each says so, and postgres is named first among them
    expect(noPg.body).toMatchObject({ status: 'KO', redis: 'healthy' });
    expect(noPg.body.postgres).toMatch(/^unhealthy: /);
    expect(noPg.body.message).toMatch(/^registry, postgres, .* are unhealthy$/);
    await pg.start();

    await expect.poll(async () => (await h.req('GET', '/status')).body, { timeout: 20_000, interval: 250 }).toMatchObject({ status: 'OK', postgres: 'healthy', redis: 'healthy' });
  });
});
