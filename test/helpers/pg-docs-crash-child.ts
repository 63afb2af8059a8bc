/**
 * Child of the PostgreSQL document engine's crash test: writes documents through the engine on `argv[2]` (a database
 * URL) into instance `argv[3]`, several at a time, printing each id once its put resolved, until killed.
 */
import { InProcessBus } from '../../src/common/bus.js';
import { PgDocStoreFactory } from '../../src/data/postgres/factory.js';
import { createPgPool } from '../../src/engines/postgres.js';

const [url, storeId] = process.argv.slice(2) as [string, string];
const pool = createPgPool({ url, max: 4, name: 'crash-child' });
const store = new PgDocStoreFactory(pool, new InProcessBus(), { attachmentMaxBytes: 1 << 20 }).open('crash.test', storeId);
let n = 0;
const writer = async (): Promise<never> => {
  for (;;) {
    const id = `doc-${process.pid}-${n++}`;
    await store.put('io.cozy.crash', { _id: id, n });
    process.stdout.write(`${id}\n`);
  }
};
await Promise.all([writer(), writer(), writer(), writer()]);
