import { describe, expect, test } from 'vitest';
import { describeMango } from '../../../test/helpers/mango-suite.js';
import { sqliteMango } from '../../../test/helpers/mango-engines.js';
import { indexSql } from './index.js';
import type { IndexDef } from './types.js';

describeMango('SQLite', sqliteMango);

describe('SQLite index DDL', () => {
  const byN: IndexDef = { ddoc: '_design/a', name: 'by-n', fields: [{ field: 'n', dir: 'asc' }], sqlName: 'ix_n' };
  const partial: IndexDef = { ddoc: '_design/c', name: 'partial', fields: [{ field: 's', dir: 'asc' }], partial_filter_selector: { n: { $type: 'number' }, s: { $regex: 'a' } }, sqlName: 'ix_p' };
  const partialSub: IndexDef = { ddoc: '_design/c', name: 'partial-sub', fields: [{ field: 's', dir: 'asc' }], partial_filter_selector: { arr: { $in: [1] } }, sqlName: 'ix_ps' };
  test('an expression index over collation keys, partial when the selector inlines', () => {
    expect(indexSql('d1_docs', byN)).toEqual([`CREATE INDEX IF NOT EXISTS "ix_n" ON "d1_docs" (hearth_ck(body -> '$."n"') ASC, hearth_idk(id) ASC) WHERE deleted = 0 AND substr(id, 1, 8) <> '_design/'`]);
    expect(indexSql('d1_docs', partial)[0]).toMatch(/AND \(json_type\(body -> '\$\."n"'\) IN \('integer', 'real'\) AND hearth_regexp\(CAST\(X'61' AS TEXT\), body -> '\$\."s"'\)\)$/);
    expect(indexSql('d1_docs', partialSub)[0]).toMatch(/<> '_design\/'$/);
  });
});
