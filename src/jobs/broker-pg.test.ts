/** The broker conformance suite (test/helpers/broker-suite.ts) on PostgreSQL: a private server, one pool per "process". */
import { describe, expect, it } from 'vitest';
import { describeBroker } from '../../test/helpers/broker-suite.js';
import { startPostgres } from '../../test/helpers/servers/postgres.js';
import { createPgPool, type PgPool } from '../engines/postgres.js';
import { ensureJobsSchema, PgBroker } from './broker-pg.js';
import { PgTriggerStore } from './triggers-pg.js';

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
