/** The broker conformance suite (test/helpers/broker-suite.ts) on the embedded engine: one jobs.sqlite, two brokers on it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBroker } from '../../test/helpers/broker-suite.js';
import { openJobsDb, SqliteBroker, SqliteTriggerStore } from './broker-sqlite.js';

describeBroker('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-broker-suite-'));
  const db = openJobsDb(join(dir, 'jobs.sqlite'));
  const idOf = async (domain: string) => (domain === 'alice.jobs.example' ? 'instance1' : null);
  return {
    open: async (owner) => ({ broker: new SqliteBroker(db, idOf, owner), triggers: new SqliteTriggerStore(db, idOf) }),
    reset: async () => void db.exec('DELETE FROM jobs; DELETE FROM triggers;'),
    done: async () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
