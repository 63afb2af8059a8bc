/**
 * The instance registry on PostgreSQL: the conformance suite of every registry engine, then what only several processes
 * can show — two registries on two pools of one database (two hearth processes): a domain created by both at once is
 * created once; a change made through one is seen by the other (invalidation, or the cache's age bound when the
 * invalidation is missed); the server stopped and started again: requests fail with the unavailable error, then work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessInvalidation } from '../common/invalidation.js';
import { isPgUnavailable } from '../engines/postgres.js';
import { describeRegistry } from '../../test/helpers/registry-suite.js';
import { startPgState, type PgStateServer } from '../../test/helpers/pg-state.js';
import { PgInstanceRegistry } from './registry-pg.js';

let pg: PgStateServer;
beforeAll(async () => {
  pg = await startPgState();
});
afterAll(() => pg.close());

describeRegistry('PostgreSQL', async () => new PgInstanceRegistry(pg.pool(await pg.database()), new InProcessInvalidation(), { kdfIterations: 1000 }), (r) => r.close());

describe('the PostgreSQL registry in two processes', () => {
  it('creates a domain asked by both at once exactly once: the other gets 409', async () => {
    const url = await pg.database();
    const a = new PgInstanceRegistry(pg.pool(url), new InProcessInvalidation(), { kdfIterations: 1000 });
    const b = new PgInstanceRegistry(pg.pool(url), new InProcessInvalidation(), { kdfIterations: 1000 });
    for (let i = 0; i < 5; i++) {
      const results = await Promise.allSettled([a.create({ domain: `race${i}.example.org` }), b.create({ domain: `race${i}.example.org` })]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { status: 409 } });
    }
    // an alias of one and the domain of the other at once: one wins
    const results = await Promise.allSettled([a.create({ domain: 'x.example.org', aliases: ['shared.example.org'] }), b.create({ domain: 'shared.example.org' })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await a.count()).toBe(6);
  });

  it('sees the other process\'s changes: at once with a shared invalidation, within the cache\'s age bound without', async () => {
    const url = await pg.database();
    const bus = new InProcessInvalidation();
    const a = new PgInstanceRegistry(pg.pool(url), bus, { kdfIterations: 1000 });
    const b = new PgInstanceRegistry(pg.pool(url), bus, { kdfIterations: 1000 });
    const lonely = new PgInstanceRegistry(pg.pool(url), new InProcessInvalidation(), { kdfIterations: 1000, cacheMs: 200 });
    expect(await b.findByHost('late.example.org')).toBeNull();
    expect(await lonely.findByHost('late.example.org')).toBeNull();
    const created = await a.create({ domain: 'late.example.org' });
    expect((await b.findByHost('late.example.org'))?.id).toBe(created.id); // the unknown host was not kept
    await a.modify('late.example.org', { aliases: ['late.alias.org'] });
    expect((await b.findByHost('late.alias.org'))?.id).toBe(created.id);
    await a.destroy('late.example.org');
    expect(await b.findByHost('late.example.org')).toBeNull();
    await expect(b.secrets(created)).rejects.toMatchObject({ status: 404 });
    // no invalidation reaches `lonely`: its entries are read again once older than its bound
    await new Promise((r) => setTimeout(r, 300));
    expect(await lonely.findByHost('late.example.org')).toBeNull();
    const again = await a.create({ domain: 'late.example.org' });
    await new Promise((r) => setTimeout(r, 300));
    expect((await lonely.findByHost('late.example.org'))?.id).toBe(again.id);
  });

  it('fails with the unavailable error while the server is stopped, and works again after its restart without a new registry', async () => {
    const reg = new PgInstanceRegistry(pg.pool(await pg.database()), new InProcessInvalidation(), { kdfIterations: 1000 });
    const inst = await reg.create({ domain: 'restart.example.org' });
    await pg.server.halt();
    try {
      const err = await reg.get('restart.example.org').then(() => null, (e: unknown) => e);
      expect(isPgUnavailable(err)).toBe(true);
      await expect(reg.create({ domain: 'down.example.org' })).rejects.toSatisfy(isPgUnavailable);
    } finally {
      await pg.server.start();
    }
    expect((await reg.get('restart.example.org'))?.id).toBe(inst.id);
    expect((await reg.create({ domain: 'up.example.org' })).domain).toBe('up.example.org');
  });
});
