/**
 * Run by the postgres-docs project only (vitest.config.ts): the shared data suites there really run on PostgreSQL,
 * i.e. the workers see TEST_PG_URL and a test Hearth keeps its documents in its instance's schema.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';

let t: TestHearth;
beforeAll(async () => {
  t = await startTestHearth();
});
afterAll(async () => {
  await t?.close();
});

it('runs the suites of this project on the PostgreSQL document engine', async () => {
  expect(process.env.TEST_PG_URL).toMatch(/^postgres:\/\/.+\/postgres$/);
  expect(t.hearth.config.docs.engine).toBe('postgres');
  const token = await t.cliToken('io.cozy.notes');
  const put = await t.req('PUT', '/data/io.cozy.notes/under-test', { token, body: { title: 'on postgres' } });
  expect(put.status).toBe(200);
  const client = new pg.Client({ connectionString: t.hearth.config.docs.url ?? undefined });
  await client.connect();
  try {
    const schema = `i_${t.instance.id}`;
    const doctype = await client.query<{ num: number }>(`SELECT num FROM "${schema}".doctypes WHERE name = $1`, ['io.cozy.notes']);
    const num = doctype.rows[0]?.num;
    const rows = await client.query<{ id: string; title: string }>(`SELECT id, body->>'title' AS title FROM "${schema}"."d${num}_docs"`);
    expect(rows.rows).toEqual([{ id: 'under-test', title: 'on postgres' }]);
  } finally {
    await client.end();
  }
});
