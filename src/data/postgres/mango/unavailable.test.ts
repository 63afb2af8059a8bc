import { afterAll, beforeAll, expect, test } from 'vitest';
import { rowsOf } from '../../../../test/helpers/mango-engines.js';
import { startPostgres, type PgServer } from '../../../../test/helpers/servers/postgres.js';
import { createPgPool, isPgUnavailable, type PgPool } from '../../../engines/postgres.js';
import { parseFindRequest } from '../../mango/index.js';
import { installMangoFunctions, pgIndexSql, pgRunCount, pgRunFind } from './index.js';

let server: PgServer;
let pool: PgPool;
const T = '"mango_down"."d1_docs"';
const def = { ddoc: '_design/n', name: 'n', fields: [{ field: 'n', dir: 'asc' as const }], sqlName: 'ix_down_n' };

beforeAll(async () => {
  server = await startPostgres();
  pool = createPgPool({ url: server.url, max: 2, name: 'mango-test' });
  await installMangoFunctions(pool);
  await pool.query('CREATE SCHEMA mango_down');
  await pool.query(`CREATE TABLE ${T} (id text PRIMARY KEY, rev text NOT NULL, deleted boolean NOT NULL, seq bigint NOT NULL UNIQUE, body jsonb NOT NULL, tree jsonb NOT NULL)`);
  for (const [i, r] of rowsOf([{ _id: 'a', n: 1 }, { _id: 'b', n: 2 }, { _id: 'c', n: 3 }]).entries()) {
    await pool.query(`INSERT INTO ${T} VALUES ($1, $2, $3, $4, $5, $6)`, [r.id, r.rev, r.deleted, i + 1, r.body, JSON.stringify(r.tree)]);
  }
  for (const s of pgIndexSql(T, def)) await pool.query(s);
});
afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

test('PostgreSQL stopped: _find and count fail with the unavailable error (503 upstream); restarted: the same pool answers again', async () => {
  const find = () => pgRunFind(pool, T, parseFindRequest({ selector: { n: { $gt: 1 } } }), [def]);
  expect((await find()).docs.map((d) => d._id)).toEqual(['b', 'c']);
  await server.halt();
  const failures = await Promise.all([find().catch((e: unknown) => e), pgRunCount(pool, T, { n: 1 }, [def]).catch((e: unknown) => e)]);
  for (const e of failures) expect([e instanceof Error, isPgUnavailable(e)]).toEqual([true, true]);
  await server.start();
  expect((await find()).docs.map((d) => d._id)).toEqual(['b', 'c']);
  expect(await pgRunCount(pool, T, { n: 1 }, [def])).toBe(1);
});
