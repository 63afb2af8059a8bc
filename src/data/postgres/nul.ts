/**
 * U+0000 in documents on PostgreSQL: jsonb cannot hold it, while SQLite and CouchDB can. A value that holds one (in a
 * string or a member name) is stored with its strings escaped: U+0000 becomes U+0001 U+0001, and U+0001 itself
 * U+0001 U+0002; read back (`jsonbTypes`), they are unescaped. The escape keeps the order of strings (UTF-16 code
 * units: the escaped forms are prefix-free and ordered as the characters they stand for, below every other one), so
 * that Mango, which compares stored strings with operands escaped alike (`escapeNul`), keeps CouchDB's collation.
 * A value holding neither character is stored as it is: the common path only pays for two `includes` on the JSON text
 * it sends anyway, and one on each jsonb text it reads (JSON writes both characters as \u escapes). A `$regex` that
 * PostgreSQL evaluates sees such strings escaped.
 */
import type { CustomTypesConfig } from 'pg';
import { requirePg } from '../../common/lazy-libs.js';

// eslint-disable-next-line no-control-regex -- U+0000 and U+0001 are the very characters escaped
const SPECIAL = /[\u0000\u0001]/;
// eslint-disable-next-line no-control-regex
const SPECIALS = /[\u0000\u0001]/g;
// eslint-disable-next-line no-control-regex
const ESCAPED = /\u0001([\u0001\u0002])/g;

const escapeString = (s: string): string => (SPECIAL.test(s) ? s.replace(SPECIALS, (c) => (c === '\u0000' ? '\u0001\u0001' : '\u0001\u0002')) : s);
const unescapeString = (s: string): string => (s.includes('\u0001') ? s.replace(ESCAPED, (_, c: string) => (c === '\u0001' ? '\u0000' : '\u0001')) : s);

/** `v` with `f` applied to every string and member name (members made as data properties: "__proto__" stays a member). */
function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [f(k), mapStrings(x, f)]));
}

/** The JSON text to store for `value` (a jsonb parameter). */
export function jsonbText(value: unknown): string {
  const text = JSON.stringify(value);
  return text.includes('\\u0000') || text.includes('\\u0001') ? JSON.stringify(mapStrings(value, escapeString)) : text;
}

/** A Mango operand as the stored values it compares with are. */
export const escapeNul = (value: unknown): unknown => mapStrings(value, escapeString);

/** The value of a stored JSON text. */
export function parseJsonb(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return text.includes('\\u0001') ? mapStrings(value, unescapeString) : value;
}

/** A document read back as text (`body::text`): the text of its value. */
export const unescapedText = (text: string): string => (text.includes('\\u0001') ? JSON.stringify(parseJsonb(text)) : text);

const JSON_OIDS = new Set([114, 3802]); // json, jsonb

/** The type parsers of the document engine's queries: json and jsonb through parseJsonb, the others as pg's. */
export const jsonbTypes: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    JSON_OIDS.has(oid) && format !== 'binary' ? parseJsonb : requirePg().types.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
};
