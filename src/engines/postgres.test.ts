import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PgServer } from '../../test/helpers/servers/postgres.js';
import { createPgPool, inTransaction, type PgPool } from './postgres.js';

let server: PgServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());

/** A pool with `n` idle connections. */
async function warmPool(n: number): Promise<PgPool> {
  const pool = createPgPool({ url: server.url, max: n, name: 'test' });
  await Promise.all(Array.from({ length: n }, () => pool.query('SELECT pg_sleep(0.05)')));
  expect(pool.idleCount).toBe(n);
  return pool;
}

/**
 * The server restarts while the process is busy (the event loop does not turn between the stop and the start, as when
 * a long task runs): every idle connection then holds an unread "terminating connection" and is handed out as is.
 */
async function restartUnseen(): Promise<void> {
  await server.halt();
  await server.start();
}

describe('the PostgreSQL pool after a restart of the server', () => {
  it('runs the next statements on new connections instead of failing them on the dead ones', async () => {
    const pool = await warmPool(3);
    try {
      await restartUnseen();
      const results = await Promise.all([pool.query('SELECT 1 AS one'), pool.query('SELECT 2 AS two')]);
      expect(results.map((r) => r.rows[0])).toEqual([{ one: 1 }, { two: 2 }]);
      expect((await pool.query('SELECT 3 AS three')).rows[0]).toEqual({ three: 3 });
    } finally {
      await pool.end();
    }
  });

  it('runs a transaction whose BEGIN met a dead connection again on a new one', async () => {
    const pool = await warmPool(2);
    try {
      await pool.query('CREATE TABLE IF NOT EXISTS restart_t (n int)');
      await restartUnseen();
      const n = await inTransaction(pool, async (c) => {
        await c.query('INSERT INTO restart_t VALUES (1)');
        return (await c.query<{ n: string }>('SELECT count(*) AS n FROM restart_t')).rows[0]!.n;
      });
      expect(n).toBe('1');
    } finally {
      await pool.end();
    }
  });

  it('does not run a statement again when the error is not a termination of the connection', async () => {
    const pool = await warmPool(1);
    try {
      await pool.query('CREATE TABLE IF NOT EXISTS once_t (n int PRIMARY KEY)');
      await pool.query('INSERT INTO once_t VALUES (1)');
      const err = await pool.query('INSERT INTO once_t VALUES (1)').then(() => null, (e: { code?: string }) => e);
      expect(err?.code).toBe('23505');
      expect((await pool.query('SELECT count(*)::int AS n FROM once_t')).rows[0]).toEqual({ n: 1 });
    } finally {
      await pool.end();
    }
  });
});

describe('the PostgreSQL pool replaces its connections (docs.connectionUses)', () => {
  const backendOf = async (pool: PgPool) => (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

  it('closes a connection after it served `uses` checkouts, so that its server process and the catalog it cached go', async () => {
    const pool = createPgPool({ url: server.url, max: 1, name: 'test', uses: 3 });
    try {
      const pids = [];
      for (let i = 0; i < 7; i++) pids.push(await backendOf(pool));
      // a transaction is one checkout, like a statement
      pids.push(await inTransaction(pool, async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid));
      expect(new Set(pids.slice(0, 3)).size).toBe(1);
      expect(new Set(pids.slice(3, 6)).size).toBe(1);
      expect(pids[3]).not.toBe(pids[0]);
      expect(pids[6]).not.toBe(pids[3]);
      expect(pids[7]).toBe(pids[6]);
      // the replaced server processes are gone, not idle
      const alive = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1)', [[pids[0], pids[3]]]);
      expect(alive.rows[0]!.n).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it('runs its sessions without JIT compilation (short statements; LLVM cost 120 ms and 48 MB a process)', async () => {
    const pool = createPgPool({ url: server.url, max: 1, name: 'test' });
    try {
      expect((await pool.query<{ jit: string }>('SHOW jit')).rows[0]!.jit).toBe('off');
      await pool.query('CREATE TABLE IF NOT EXISTS jit_t (files jsonb)');
      // the code store's orphan sweep: its estimate passes jit_above_cost even on an empty table
      const plan = (await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ANALYZE SELECT k.value FROM jit_t v, jsonb_array_elements(v.files) f,
        jsonb_each_text(f->2) k`)).rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).not.toMatch(/JIT/);
    } finally {
      await pool.query('DROP TABLE IF EXISTS jit_t');
      await pool.end();
    }
  });

  it('keeps a connection for good with 0', async () => {
    const pool = createPgPool({ url: server.url, max: 1, name: 'test', uses: 0 });
    try {
      const pids = new Set<number>();
      for (let i = 0; i < 20; i++) pids.add(await backendOf(pool));
      expect(pids.size).toBe(1);
    } finally {
      await pool.end();
    }
  });
});
