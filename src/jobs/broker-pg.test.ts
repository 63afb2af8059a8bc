/** The broker conformance suite (test/helpers/broker-suite.ts) on PostgreSQL: a private server, one pool per "process". */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { describeBroker } from '../../test/helpers/broker-suite.js';
import { startPostgres } from '../../test/helpers/servers/postgres.js';
import { createPgPool, type PgPool } from '../engines/postgres.js';
import { ensureJobsSchema, PgBroker } from './broker-pg.js';
import { PgTriggerStore } from './triggers-pg.js';
import type { EventCursor } from './broker.js';
import type { TriggerDoc } from './types.js';

describeBroker('postgres', async () => {
  const server = await startPostgres();
  const pools: PgPool[] = [];
  const pool = () => {
    const p = createPgPool({ url: server.url, max: 4, name: 'test' });
    pools.push(p);
    return p;
  };
  const admin = pool();
  await ensureJobsSchema(admin);
  const idOf = async (domain: string) => (domain === 'alice.jobs.example' ? 'instance1' : null);
  return {
    async open(owner) {
      const p = pool();
      return { broker: new PgBroker(p, idOf, owner), triggers: new PgTriggerStore(p, idOf) };
    },
    reset: async () => void (await admin.query('TRUNCATE hearth.jobs, hearth.triggers')),
    async done() {
      await Promise.all(pools.map((p) => p.end()));
      await server.stop();
    },
  };
});

describe('postgres claim', () => {
  it('commits the claim (another connection sees it) and leaves the session\'s synchronous_commit on for the writes after it', async () => {
    const server = await startPostgres();
    // one connection: the claim and the writes after it share the session
    const pool = createPgPool({ url: server.url, max: 1, name: 'test' });
    try {
      const broker = new PgBroker(pool, async () => 'instance1', 'owner-a');
      const job = await broker.push({ domain: 'alice.jobs.example', worker: 'w', message: null, options: { timeout: 60, max_exec_count: 1 }, runAt: 0 }, 1);
      const claimed = await broker.claim('w', 2, 60_000);
      expect(claimed?._id).toBe(job._id);
      expect(claimed?.state).toBe('running');
      // the claim is committed: another connection sees it
      const other = createPgPool({ url: server.url, max: 1, name: 'other' });
      expect((await other.query('SELECT state, owner FROM hearth.jobs WHERE id = $1', [job._id])).rows[0]).toEqual({ state: 'running', owner: 'owner-a' });
      await other.end();
      expect((await pool.query('SHOW synchronous_commit')).rows[0]).toEqual({ synchronous_commit: 'on' });
      expect((await broker.complete(job._id, 3)).state).toBe('done');
    } finally {
      await pool.end();
      await server.stop();
    }
  });
});

describe('postgres triggers written without their flush (an install\'s, which its journal covers)', () => {
  it('commits them with synchronous_commit off for their transaction only, and sync() resolves once the WAL is flushed past them', async () => {
    const server = await startPostgres();
    const sent: string[] = [];
    class CountingClient extends pg.Client {
      override query(...args: unknown[]): never {
        const q = args[0] as string | { text: string };
        sent.push(typeof q === 'string' ? q : q.text);
        return (super.query as (...a: unknown[]) => never)(...args);
      }
    }
    const pool = new pg.Pool({ connectionString: server.url, max: 1, Client: CountingClient }) as unknown as PgPool;
    try {
      // the walwriter left (almost) idle: the flush sync() waits for is its own, not the walwriter's
      await pool.query("ALTER SYSTEM SET wal_writer_delay = '10s'");
      await pool.query('SELECT pg_reload_conf()');
      const triggers = new PgTriggerStore(pool, async () => 'instance1');
      const doc = (id: string) => ({ _id: id, domain: 'alice.jobs.example', type: '@event', worker: 'service', arguments: 'io.cozy.files', options: null, message: {} }) as unknown as TriggerDoc;
      await triggers.put(doc('durable'), null);
      expect(sent.some((q) => q.includes("'synchronous_commit', 'off'"))).toBe(false);
      sent.length = 0;
      await triggers.put(doc('later'), null, false);
      await triggers.moveEventCursor('later', null, { seq: '1' } as unknown as EventCursor, false);
      expect(sent.filter((q) => q.includes("'synchronous_commit', 'off'"))).toHaveLength(2);
      const past = (await pool.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn;
      await triggers.sync();
      expect((await pool.query<{ ok: boolean }>('SELECT pg_current_wal_flush_lsn() >= $1::pg_lsn AS ok', [past])).rows[0]!.ok).toBe(true);
      expect((await pool.query<{ c: unknown }>("SELECT event_cursor AS c FROM hearth.triggers WHERE id = 'later'")).rows[0]!.c).toEqual({ seq: '1' });
      expect((await pool.query('SHOW synchronous_commit')).rows[0]).toEqual({ synchronous_commit: 'on' });
      sent.length = 0;
      await triggers.sync(); // nothing left unflushed: no query
      expect(sent).toEqual([]);
      // two installs syncing at once: the second, with nothing new of its own (the first took its trigger from the list),
      // resolves only once the first's check is done, never before its trigger is durable
      await triggers.put(doc('third'), null, false);
      const order: number[] = [];
      await Promise.all([triggers.sync().then(() => order.push(1)), triggers.sync().then(() => order.push(2))]);
      expect(order).toEqual([1, 2]);
    } finally {
      await pool.end();
      await server.stop();
    }
  });
});
