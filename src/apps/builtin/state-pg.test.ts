/** The built-in apps' state on PostgreSQL: the conformance suite of every engine (test/helpers/builtin-state-suite.ts). */
import { afterAll, beforeAll } from 'vitest';
import { describeBuiltinState } from '../../../test/helpers/builtin-state-suite.js';
import { startPgState, type PgStateServer } from '../../../test/helpers/pg-state.js';
import { PgBuiltinState } from './state-pg.js';

let pg: PgStateServer;
beforeAll(async () => {
  pg = await startPgState();
});
afterAll(() => pg.close());

describeBuiltinState('PostgreSQL', {
  storage: () => pg.database(),
  open: (url) => new PgBuiltinState(pg.pool(url)),
});
