/** The move states on PostgreSQL: the conformance suite of every engine (test/helpers/move-state-suite.ts). */
import { afterAll, beforeAll } from 'vitest';
import { describeMoveState } from '../../test/helpers/move-state-suite.js';
import { startPgState, type PgStateServer } from '../../test/helpers/pg-state.js';
import { PgMoveState } from './state-pg.js';

let pg: PgStateServer;
beforeAll(async () => {
  pg = await startPgState();
});
afterAll(() => pg.close());

describeMoveState('PostgreSQL', {
  storage: () => pg.database(),
  open: (url) => new PgMoveState(pg.pool(url)),
});
