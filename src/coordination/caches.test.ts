/**
 * The process caches of hot state drop what another process changed (coordination.engine redis): two "processes",
 * each with its registry (on one registry file, as two processes on one shared database) and its token service, each
 * on its own Redis connections. A change made through B empties A's host cache, its secrets and its verified tokens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../test/helpers/coordination-suite.js';
import { startRedis, type RedisServer } from '../../test/helpers/servers/redis.js';
import { TokenService } from '../auth/tokens.js';
import { INSTANCES_TOPIC } from '../common/invalidation.js';
import { createRedisConnections, type RedisConnections } from '../engines/redis.js';
import { SqliteInstanceRegistry } from '../instances/registry-sqlite.js';
import { redisCoordination, type Coordination } from './index.js';

let server: RedisServer;
let dir: string;
const closing: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  server = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'hearth-caches-'));
});
afterAll(async () => {
  for (const close of closing.reverse()) await close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function processOn(name: string): Promise<{ coordination: Coordination; registry: SqliteInstanceRegistry; tokens: TokenService }> {
  const redis: RedisConnections = createRedisConnections(server.url, 'caches:', name);
  const coordination = redisCoordination(redis);
  await coordination.ready();
  const registry = new SqliteInstanceRegistry(join(dir, 'registry.sqlite'), { kdfIterations: 1000, invalidation: coordination.invalidation });
  closing.push(() => redis.close(), () => registry.close());
  return { coordination, registry, tokens: new TokenService(registry, coordination.invalidation) };
}

describe('process caches across processes', () => {
  it("a change through B drops A's cached instance by host, its secrets and the tokens A verified", async () => {
    const a = await processOn('a');
    const b = await processOn('b');
    const heard: string[] = [];
    a.coordination.invalidation.listen(INSTANCES_TOPIC, (id) => heard.push(id));
    await Promise.all([a.coordination.settled(), b.coordination.settled()]);
    const created = await b.registry.create({ domain: 'alice.example.org', aliases: ['alice.local'] });
    const instance = (await a.registry.findByHost('alice.local'))!;
    expect(instance.id).toBe(created.id);
    const token = await a.tokens.issue(instance, { aud: 'cli', sub: 'test', scope: 'io.cozy.files' });
    expect((await a.tokens.verify(instance, token)).sub).toBe('test'); // cached in A now

    await b.registry.modify('alice.example.org', { aliases: ['alice.home'] });
    await until(() => heard.filter((id) => id === created.id).length >= 2); // the create and the modify
    expect(await a.registry.findByHost('alice.local')).toBeNull();
    expect((await a.registry.findByHost('alice.home'))?.id).toBe(created.id);

    await b.registry.destroy('alice.example.org');
    await until(() => heard.filter((id) => id === created.id).length >= 3);
    expect(await a.registry.findByHost('alice.home')).toBeNull();
    await expect(a.registry.secrets(instance)).rejects.toMatchObject({ status: 404 });
    await expect(a.tokens.verify(instance, token)).rejects.toThrow(); // no longer answered from A's cache
  });
});
