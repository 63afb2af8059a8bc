import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgresForFile } from '../../../../test/helpers/mango-engines.js';
import { compileRegex } from '../../mango/selector.js';
import { toPgRegex } from './regex.js';

const url = postgresForFile();
let pool: pg.Pool;
beforeAll(() => {
  pool = new pg.Pool({ connectionString: url(), max: 2 });
  // an idle connection ended by the server's stop (if the pool's end outlasted its hook under load) is no failure of
  // these tests, and pg throws it as an unhandled error without a listener
  pool.on('error', () => undefined);
});
afterAll(async () => {
  await pool?.end();
});

const TOKENS = ['a', 'b', 'é', '😀', '.', '^', '$', '|', '(', ')', '(?:', '*', '+', '?', '*?', '{2}', '{1,}', '{0,2}', '{,2}', '{', '}', ']', '[ab]', '[^a]', '[a-c]', '[]a]', '[\\]-]', '[\\d.]', '[^\\s]', '\\d', '\\D', '\\w', '\\W', '\\s', '\\S', '\\.', '\\\\', '\\n', '\\t', '-', ' ', '1', '_'];
const STRINGS = ['', 'a', 'b', 'ab', 'ba', 'aab', 'é', '😀', 'a😀b', '\n', 'a\nb', ' ', '1', '12', 'a.b', ']', '-', '_', '\\', '\t', 'éé', '{', '}', '{2}', 'a{,2}', 'abab', 'Ab', 'aa\n'];

describe('RE2 patterns rewritten for PostgreSQL', () => {
  test('patterns outside the subset are left to RE2', () => {
    for (const p of ['(?i)a', '\\bword', '\\pL', '[[:alpha:]]', '\\x41', '(?P<n>a)', 'a{300}', '\\Aa', 'a\\z', '\\Q.\\E', '\\1']) {
      expect([p, toPgRegex(p)]).toEqual([p, null]);
    }
  });

  test('property: a rewritten pattern matches exactly what RE2 matches', async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 7 }), async (tokens) => {
        const pattern = tokens.join('');
        let re;
        try {
          re = compileRegex(pattern);
        } catch {
          return; // not a valid RE2 pattern: refused with 400 before any SQL
        }
        const are = toPgRegex(pattern);
        if (are === null) return;
        compared++;
        const { rows } = await pool.query<{ s: string; m: boolean }>('SELECT s, s ~ $2 AS m FROM unnest($1::text[]) AS s', [STRINGS, are]);
        expect(rows.map((r) => [pattern, r.s, r.m])).toEqual(STRINGS.map((s) => [pattern, s, re.test(s)]));
      }),
      { numRuns: 1500 },
    );
    expect(compared).toBeGreaterThan(300);
  });
});
