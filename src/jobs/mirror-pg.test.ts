/**
 * The job mirror's exclusive round on PostgreSQL (mirror-pg.ts) when the server ends the connection that holds the
 * round's advisory lock while the round runs (what a restart of PostgreSQL does: FATAL 57P01 on a connection with no
 * query under way). The client then emits 'error'; with no listener on it, the process died of that error (one hearth
 * process of the outage test, test/cluster/outage.test.ts, now and then). Here the round goes on, the connection is
 * dropped (its lock with it), and the next round takes the lock again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PgServer } from '../../test/helpers/servers/postgres.js';
import { createPgPool, type PgPool } from '../engines/postgres.js';
import { PgMirrorSource } from './mirror-pg.js';

let server: PgServer;
let pool: PgPool;
let admin: PgPool;
beforeAll(async () => {
  server = await startPostgres();
  pool = createPgPool({ url: server.url, max: 2, name: 'mirror' });
  admin = createPgPool({ url: server.url, max: 1, name: 'admin' });
}, 60_000);
afterAll(async () => {
  await Promise.all([pool?.end(), admin?.end()]);
  await server?.stop();
});

/** The backends of this pool that hold an advisory lock (the round's). */
const lockHolders = async () => (await admin.query<{ pid: number }>(
  `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND a.application_name LIKE 'hearth mirror %'`)).rows.map((r) => r.pid);

describe('the job mirror on PostgreSQL', () => {
  it('lives through the server ending the connection that holds its lock during a round, and runs the next round', async () => {
    const source = new PgMirrorSource(pool);
    const errors: unknown[] = [];
    const onUncaught = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      let ran = 0;
      await source.exclusive(async () => {
        ran++;
        const [pid] = await lockHolders();
        expect(pid).toBeTypeOf('number');
        // a restart's shutdown message, on that connection alone
        expect((await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [pid])).rows[0]!.ok).toBe(true);
        await expect.poll(async () => (await lockHolders()).length, { timeout: 5_000, interval: 50 }).toBe(0);
        await new Promise((r) => setTimeout(r, 100)); // the message read by the client meanwhile
      }).catch(() => undefined); // the unlock on the dead connection may fail: the round itself ran
      expect(ran).toBe(1);
      expect(errors).toEqual([]);
      await source.exclusive(async () => {
        ran++;
        expect(await lockHolders()).toHaveLength(1);
      });
      expect(ran).toBe(2);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  }, 30_000);
});
