/** The `io.cozy.exports` store on PostgreSQL: the conformance suite of every engine (test/helpers/export-store-suite.ts). */
import { afterAll, beforeAll } from 'vitest';
import { describeExportStore } from '../../../test/helpers/export-store-suite.js';
import { startPgState, type PgStateServer } from '../../../test/helpers/pg-state.js';
import { PgExportStore } from './store-pg.js';

let pg: PgStateServer;
beforeAll(async () => {
  pg = await startPgState();
});
afterAll(() => pg.close());

describeExportStore('PostgreSQL', {
  storage: () => pg.database(),
  open: (url) => new PgExportStore(pg.pool(url)),
});
