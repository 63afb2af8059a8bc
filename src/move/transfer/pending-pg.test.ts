/** A move's pending steps on PostgreSQL: the conformance suite of every engine (test/helpers/move-pending-suite.ts). */
import { afterAll, beforeAll } from 'vitest';
import { describeMovePending } from '../../../test/helpers/move-pending-suite.js';
import { startPgState, type PgStateServer } from '../../../test/helpers/pg-state.js';
import { PgPending } from './pending-pg.js';

let pg: PgStateServer;
beforeAll(async () => {
  pg = await startPgState();
});
afterAll(() => pg.close());

describeMovePending('PostgreSQL', {
  storage: () => pg.database(),
  open: (url) => new PgPending(pg.pool(url)),
});
