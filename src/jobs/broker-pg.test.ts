/** The broker conformance suite (test/helpers/broker-suite.ts) on PostgreSQL: a private server, one pool per "process". */
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
