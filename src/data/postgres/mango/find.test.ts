import { describe, expect, test } from 'vitest';
import { pgMango, postgresForFile } from '../../../../test/helpers/mango-engines.js';
import { describeMango } from '../../../../test/helpers/mango-suite.js';
import { BadRequest } from '../../../common/errors.js';
import type { IndexDef } from '../../mango/types.js';
import { pgCompileSelector, pgIndexSql } from './index.js';

const url = postgresForFile();
describeMango('PostgreSQL', () => pgMango(url(), 'mango_suite', '-c enable_seqscan=off'));

describe('PostgreSQL index DDL and the changes fragment', () => {
  const table = '"i_0123"."d3_docs"';
  test('an expression index over collation keys, partial on live non-design documents, plus the partial selector when it inlines', () => {
    const byN: IndexDef = { ddoc: '_design/a', name: 'by-n', fields: [{ field: 'n', dir: 'asc' }, { field: 'o.p', dir: 'asc' }], sqlName: 'ix_n' };
    expect(pgIndexSql(table, byN)).toEqual([
      `CREATE INDEX IF NOT EXISTS "ix_n" ON "i_0123"."d3_docs" (hearth_fn.ckb((body -> 'n')) ASC, hearth_fn.ckb((body #> ARRAY['o', 'p']::text[])) ASC, hearth_fn.strk(id) ASC) WHERE NOT deleted AND id NOT LIKE '\\_design/%'`,
      'ANALYZE "i_0123"."d3_docs"',
    ]);
    const partial: IndexDef = { ...byN, fields: [{ field: 's', dir: 'desc' }], partial_filter_selector: { t: 'x', s: { $regex: '^a.' } } };
    expect(pgIndexSql(table, partial)[0]).toMatch(/strk\(id\) DESC\) WHERE NOT deleted AND id NOT LIKE '\\_design\/%' AND hearth_fn\.ckb\(\(body -> 't'\)\) = '\\x05[0-9a-f]+0001'::bytea AND CASE WHEN jsonb_typeof\(\(body -> 's'\)\) = 'string' THEN \(\(body -> 's'\) #>> '\{\}'\) ~ '\^a\[\^\n\]'::text ELSE false END$/);
    expect(pgIndexSql(table, { ...byN, partial_filter_selector: { arr: { $in: [1] } } })[0]).toMatch(/NOT LIKE '\\_design\/%'$/);
    // the conditions that can be inlined are, the others (a subquery, a $regex left to RE2) are added by the queries
    expect(pgIndexSql(table, { ...byN, partial_filter_selector: { arr: { $in: [1] }, t: { $exists: true }, s: { $regex: '(?i)a' } } })[0]).toMatch(/NOT LIKE '\\_design\/%' AND \(body -> 't'\) IS NOT NULL$/);
    expect(pgIndexSql(table, { ...byN, partial_filter_selector: { s: { $regex: "(?i)'; DROP TABLE x; --" } } })[0]).toMatch(/NOT LIKE '\\_design\/%'$/);
    expect(() => pgIndexSql(table, { ...byN, sqlName: 'x"; DROP' })).toThrow(/invalid SQL identifier/);
  });
  test('pgCompileSelector numbers its placeholders from firstParam and keeps values out of the SQL; a $regex PostgreSQL cannot read alike is a 400', () => {
    const { sql, params } = pgCompileSelector({ s: { $regex: "^it's" }, n: { $in: [1, 2] }, 'a.0': { $lt: 'zz' } }, 4);
    expect(sql).toMatch(/\$4::text/);
    expect(sql).toMatch(/\$6::bytea\[\]/);
    expect(sql).not.toMatch(/\$[1-3]\b/);
    expect(sql).not.toContain("it's");
    expect(params).toHaveLength(4);
    expect(() => pgCompileSelector({ s: { $regex: '(?i)a' } }, 1)).toThrow(BadRequest);
    expect(() => pgCompileSelector({ s: { $regex: '(a' } }, 1)).toThrow(/invalid \$regex pattern/);
  });
});
