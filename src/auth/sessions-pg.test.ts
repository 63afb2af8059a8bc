/**
 * Sessions and security events on PostgreSQL: the conformance suite of every engine, then two stores on two pools of
 * one database (two hearth processes): a session revoked through one is refused by the other; uses are written in
 * batches, not on the request path; the server stopped and started again: the unavailable error, then service again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../instances/types.js';
import { isPgUnavailable } from '../engines/postgres.js';
import { describeSessionStore } from '../../test/helpers/session-suite.js';
import { startPgState, type PgStateServer } from '../../test/helpers/pg-state.js';
import { PgSessionStore } from './sessions-pg.js';

let pg: PgStateServer;
beforeAll(async () => {
  pg = await startPgState();
});
afterAll(() => pg.close());

describeSessionStore('PostgreSQL', {
  make: async (now) => new PgSessionStore(pg.pool(await pg.database()), { now }),
  settle: (store) => (store as PgSessionStore).flush(),
  done: (store) => store.close(),
});

describe('PostgreSQL sessions in two processes', () => {
  const alice = { id: 'inst-alice' } as Instance;

  it('a session revoked through one process is refused by the other, and one opened by either is known to both', async () => {
    const url = await pg.database();
    const a = new PgSessionStore(pg.pool(url));
    const b = new PgSessionStore(pg.pool(url));
    const s = await a.create(alice, { userAgent: 'Firefox' });
    expect((await b.get(s.id))?.userAgent).toBe('Firefox');
    const keep = await b.create(alice);
    expect(await a.deleteOthers(alice, keep.id)).toBe(1);
    expect(await b.get(s.id)).toBeNull();
    expect((await a.list(alice)).map((x) => x.id)).toEqual([keep.id]);
    await b.events.record(alice, 'sessions_revoked');
    expect((await a.events.list(alice, 5)).events.map((e) => e.kind)).toEqual(['sessions_revoked']);
  });

  it('writes the uses of many sessions together, after the requests, and at close', async () => {
    let clock = 1_700_000_000_000;
    const url = await pg.database();
    const a = new PgSessionStore(pg.pool(url), { now: () => clock });
    const b = new PgSessionStore(pg.pool(url), { now: () => clock });
    const sessions = await Promise.all([1, 2, 3].map(() => a.create(alice)));
    clock += 120_000;
    for (const s of sessions) await a.touch((await a.get(s.id))!);
    expect((await b.get(sessions[0]!.id))?.lastSeen).toBe(clock - 120_000); // not written on the request path
    await a.close();
    for (const s of sessions) expect((await b.get(s.id))?.lastSeen).toBe(clock);
  });

  it('fails with the unavailable error while the server is stopped, and works again after its restart', async () => {
    const store = new PgSessionStore(pg.pool(await pg.database()));
    const s = await store.create(alice);
    await pg.server.halt();
    try {
      await expect(store.get(s.id)).rejects.toSatisfy(isPgUnavailable);
      await expect(store.create(alice)).rejects.toSatisfy(isPgUnavailable);
    } finally {
      await pg.server.start();
    }
    expect((await store.get(s.id))?.id).toBe(s.id);
    expect(await store.create(alice)).toMatchObject({ instanceId: alice.id });
  });

  it('adds the detail to a security events table from before the e-mail events: old events have none', async () => {
    const url = await pg.database();
    const pool = pg.pool(url);
    await pool.query(`CREATE SCHEMA hearth; CREATE TABLE hearth.security_events (id bigserial PRIMARY KEY, instance_id text NOT NULL, at bigint NOT NULL,
      kind text NOT NULL, ip text, user_agent text)`);
    await pool.query('INSERT INTO hearth.security_events (instance_id, at, kind) VALUES ($1, $2, $3)', [alice.id, Date.now(), 'login']);
    const store = new PgSessionStore(pool);
    await store.events.record(alice, 'email_change_cancelled', {}, { to: 'c***@example.org' });
    expect((await store.events.list(alice, 5)).events.map((e) => [e.kind, e.detail])).toEqual([['email_change_cancelled', { to: 'c***@example.org' }], ['login', null]]);
    await store.close();
  });
});
