/**
 * WebDAV locks on PostgreSQL: the conformance suite of every lock engine, then two engines on two pools of one database
 * (two hearth processes): conflicting locks asked through both at once — exactly one is taken; a lock taken through one
 * conflicts through the other; the server stopped and started again: the unavailable error, then service again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPgUnavailable } from '../../engines/postgres.js';
import { describeLockEngine, lockOf } from '../../../test/helpers/dav-lock-suite.js';
import { startPgState, type PgStateServer } from '../../../test/helpers/pg-state.js';
import { PgLockEngine } from './locks-pg.js';

let pg: PgStateServer;
beforeAll(async () => {
  pg = await startPgState();
});
afterAll(() => pg.close());

describeLockEngine('PostgreSQL', {
  storage: () => pg.database(),
  open: (url, now) => new PgLockEngine(pg.pool(url), { now }),
});

describe('PostgreSQL WebDAV locks in two processes', () => {
  it('a lock taken through one conflicts through the other; overlapping locks asked through both at once: one is taken', async () => {
    const url = await pg.database();
    const a = new PgLockEngine(pg.pool(url));
    const b = new PgLockEngine(pg.pool(url));
    const taken = await a.acquire('ns', lockOf('/docs', { depth: '0' }));
    if (!('lock' in taken)) throw new Error('not taken');
    expect(await b.acquire('ns', lockOf('/docs', { principal: 'cli:bob' }))).toEqual({ conflict: taken.lock });
    expect(await b.acquire('other-ns', lockOf('/docs'))).toHaveProperty('lock');
    for (let i = 0; i < 10; i++) {
      // a depth-infinity lock on a folder and one on a file inside it, each from its own process
      const [x, y] = await Promise.all([a.acquire('ns', lockOf(`/race${i}`)), b.acquire('ns', lockOf(`/race${i}/file.txt`, { depth: '0', principal: 'cli:bob' }))]);
      expect(['lock' in x, 'lock' in y].filter(Boolean)).toHaveLength(1);
    }
    expect(await b.release('ns', taken.lock.token)).toBe(true);
    expect(await a.covering('ns', '/docs')).toEqual([]);
  });

  it('fails with the unavailable error while the server is stopped, and works again after its restart', async () => {
    const e = new PgLockEngine(pg.pool(await pg.database()));
    const first = await e.acquire('ns', lockOf('/kept'));
    await pg.server.halt();
    try {
      await expect(e.acquire('ns', lockOf('/new'))).rejects.toSatisfy(isPgUnavailable);
      await expect(e.covering('ns', '/kept')).rejects.toSatisfy(isPgUnavailable);
    } finally {
      await pg.server.start();
    }
    expect(await e.covering('ns', '/kept')).toEqual(['lock' in first ? first.lock : null]);
    expect(await e.acquire('ns', lockOf('/new'))).toHaveProperty('lock');
  });
});
