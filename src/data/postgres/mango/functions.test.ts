import collatePkg from 'pouchdb-collate';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgresForFile } from '../../../../test/helpers/mango-engines.js';
import { encodeKey } from '../../mango/collate-key.js';
import { INDEX_KEY_BYTES } from './functions.js';
import { installMangoFunctions } from './index.js';

const { collate } = collatePkg as { collate: (a: unknown, b: unknown) => number };
const url = postgresForFile();
let pool: pg.Pool;
beforeAll(async () => {
  pool = new pg.Pool({ connectionString: url(), max: 3 });
  // an idle connection ended by the server's stop (if the pool's end outlasted its hook under load) is no failure of
  // these tests, and pg throws it as an unhandled error without a listener
  pool.on('error', () => undefined);
});
afterAll(async () => {
  await pool?.end();
});

// jsonb strings cannot hold U+0000 nor lone surrogates; every other code unit class is here (00XX, XX00, astral…)
const str = fc.string({ unit: fc.constantFrom('a', 'b', 'A', '\u0001', 'é', '\u00ff', '\u0100', 'Ā', '\ua000', '\ud7ff', '😀', '\ue000', '\uffff', ' ', '"', '\\'), maxLength: 5 });
const num = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 5e-324, -5e-324, 1e21, -1e21, 2 ** 53 + 2, Number.MAX_VALUE, -Number.MAX_VALUE, 0.1, 1e-7));
const json = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), num, str, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(str, tie('v'), { maxKeys: 3 })),
})).v;

describe('hearth_fn functions', () => {
  test('installing is idempotent and safe from several connections at once', async () => {
    const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: url(), max: 1 }));
    try {
      await Promise.all(pools.map((p) => installMangoFunctions(p)));
      await Promise.all(pools.map((p) => installMangoFunctions(p)));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
    const r = await pool.query<{ proname: string; provolatile: string; proparallel: string }>(
      `SELECT proname, provolatile, proparallel FROM pg_proc WHERE pronamespace = 'hearth_fn'::regnamespace ORDER BY proname`,
    );
    expect(r.rows).toEqual(['ck', 'ckb', 'get', 'mod', 'strk'].map((proname) => ({ proname, provolatile: 'i', proparallel: 's' })));
    // installed: a role without any right to create answers without DDL
    await pool.query(`CREATE ROLE mango_reader LOGIN; GRANT USAGE ON SCHEMA hearth_fn TO mango_reader; REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    const reader = new pg.Pool({ connectionString: url().replace('postgres@', 'mango_reader@'), max: 1 });
    try {
      await installMangoFunctions(reader);
      expect((await reader.query(`SELECT hearth_fn.ck('"a"') AS k`)).rows[0].k).toEqual(encodeKey('a'));
    } finally {
      await reader.end();
    }
  });

  test('property: ck(v) is encodeKey of v as stored, byte for byte, so ORDER BY ck is CouchDB collation order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(json, { minLength: 1, maxLength: 40 }), async (values) => {
        const r = await pool.query<{ i: string; k: Buffer; v: unknown }>(
          'SELECT i, hearth_fn.ck(v) AS k, v FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(v, i) ORDER BY hearth_fn.ck(v), i',
          [JSON.stringify(values)],
        );
        for (const row of r.rows) expect([row.v, row.k.toString('hex')]).toEqual([row.v, encodeKey(row.v).toString('hex')]);
        const stored = [...r.rows].sort((a, b) => Number(a.i) - Number(b.i)).map((x) => x.v);
        const byCollate = stored.map((v, i) => ({ v, i })).sort((a, b) => collate(a.v, b.v) || a.i - b.i);
        expect(r.rows.map((x) => Number(x.i) - 1)).toEqual(byCollate.map((x) => x.i));
      }),
      { numRuns: 150 },
    );
  });

  test('a missing field (SQL NULL) has null key; strk is the key of a string; get and mod follow CouchDB and JS', async () => {
    const r = await pool.query(
      `SELECT hearth_fn.ck(NULL) AS missing, hearth_fn.strk($1) AS id,
              hearth_fn.get('{"a":[10,{"01":5}]}', ARRAY['a', '1', '01']) AS g1, hearth_fn.get('{"a":[10]}', ARRAY['a', '00']) AS g2,
              hearth_fn.get('{"a":{"-1":3}}', ARRAY['a', '-1']) AS g3,
              hearth_fn.mod('9007199254740993', 2, 0) AS m1, hearth_fn.mod('-7', 3, -1) AS m2, hearth_fn.mod('1e21', 2, 0) AS m3,
              hearth_fn.mod('4.5', 2, 0) AS m4, hearth_fn.mod('"4"', 2, 0) AS m5, hearth_fn.mod('123456789012345678901', 7, $2) AS m6`,
      ['doc😀\ue000', Number('123456789012345678901') % 7], // a double above 2^53: its exact value, not its shortest decimal
    );
    expect(r.rows[0]).toEqual({ missing: encodeKey(null), id: encodeKey('doc😀\ue000'), g1: 5, g2: null, g3: 3, m1: true, m2: true, m3: false, m4: false, m5: false, m6: true });
  });

  test('ckb is ck within INDEX_KEY_BYTES and its first INDEX_KEY_BYTES bytes beyond', async () => {
    const values = ['', 'x'.repeat(160), 'x'.repeat(170), 'y'.repeat(171), 'z'.repeat(5_000), ['a'.repeat(300), 'b'.repeat(300)], null];
    const r = await pool.query<{ k: Buffer }>(`SELECT hearth_fn.ckb(v) AS k FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(v, i) ORDER BY i`, [JSON.stringify(values)]);
    expect(r.rows.map((x) => x.k)).toEqual(values.map((v) => encodeKey(v).subarray(0, INDEX_KEY_BYTES)));
    expect(r.rows.map((x) => x.k.length)).toEqual([3, 483, 512, 512, 512, 512, 1]); // 170 Latin-1 characters make 513 bytes
  });
});
