/**
 * A Hearth on coordination.engine redis while its Redis is stopped, then started again (a private server: the shared
 * one of the `redis` project must stay up): the routes that count in Redis answer 503 with Retry-After, not 500, and
 * answer as usual once Redis is back, without restarting Hearth.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { startRedis, type RedisServer } from '../../test/helpers/servers/redis.js';
import { derivePassphrase } from '../auth/passphrase.js';

let server: RedisServer;
let h: TestHearth;
let good: string;
let wrong: string;

beforeAll(async () => {
  server = await startRedis();
  h = await startTestHearth({ coordination: { engine: 'redis', url: server.url, prefix: 'outage:' } });
  good = await derivePassphrase('owner-pass', h.domain, 1000);
  wrong = await derivePassphrase('not the passphrase', h.domain, 1000);
  h.instance = await h.hearth.registry.setDerivedPassphrase(h.instance, good, 1000);
});
afterAll(async () => {
  await h?.close();
  await server?.stop();
});

const login = (passphrase: string) => h.req('POST', '/auth/login', { body: { passphrase }, headers: { accept: 'application/json' } });

describe('Redis stopped under a Hearth', () => {
  it('login (rate limit and lock-out in Redis): 503 with Retry-After while it is down, the usual answers once it is back', async () => {
    expect((await login(wrong)).status).toBe(401);
    await server.halt();
    try {
      const down = await login(good);
      expect(down.status).toBe(503);
      expect(down.headers['retry-after']).toBeDefined();
      expect(down.body).toMatchObject({ errors: [{ status: '503' }] });
    } finally {
      await server.start();
    }
    let back = await login(wrong);
    while (back.status === 503) {
      await new Promise((r) => setTimeout(r, 100)); // the connection comes back on its retry schedule
      back = await login(wrong);
    }
    expect(back.status).toBe(401);
    expect((await login(good)).status).toBe(200);
  });
});
