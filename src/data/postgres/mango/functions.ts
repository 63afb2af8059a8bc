/**
 * The SQL functions of Mango on PostgreSQL, in the shared schema `hearth_fn`, all IMMUTABLE PARALLEL SAFE so that
 * expression indexes can use them:
 * - `ck(jsonb) → bytea`: the collation key of a JSON value, byte for byte the key that src/data/mango/collate-key.ts
 *   `encodeKey` gives for the same value (objects in jsonb's key order, the order PostgreSQL stores them in); SQL NULL
 *   (a missing field) gets null's key, as in the SQLite engine. bytea compares as memcmp, so `ORDER BY ck(x)` is
 *   CouchDB's collation order.
 * - `ckb(jsonb) → bytea`: what an index holds of a value: its `ck`, cut to its first INDEX_KEY_BYTES bytes when longer
 *   (a B-tree entry must fit in a third of a page, ~2.7 kB). It keeps the order (a ≤ b ⇒ ckb(a) ≤ ckb(b)) and is `ck`
 *   itself for every key within the bound (keys are prefix-free: a cut key never equals a whole one), so a comparison
 *   with such a key is exact on `ckb`; one with a longer key is bounded on `ckb` and checked on `ck` (sql.ts).
 * - `strk(text) → bytea`: the key of a string (the tie-break on the id column).
 * - `get(jsonb, text[]) → jsonb`: a field path with CouchDB's semantics, for the rare segments that `#>` would read
 *   otherwise (integer-looking segments such as "01" or "-1").
 * - `mod(jsonb, bigint, bigint) → boolean`: `$mod` as pouchdb-selector-core (integers only, JS remainder).
 */
import { SCHEMA_LOCK } from '../../../engines/pg-schema.js';
import type { Queryable } from '../../../engines/postgres.js';
/** Bumped whenever a definition below changes: an installed set with this mark is left alone. */
const VERSION = 'hearth mango functions 2';
const MARKED = `hearth_fn.mod(jsonb, bigint, bigint)`;

const STRK = `
CREATE OR REPLACE FUNCTION hearth_fn.strk(s text) RETURNS bytea LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $f$
BEGIN
  IF s ~ '^[\\x01-\\xff]*$' THEN -- Latin-1: one UTF-16 unit 00XX per character, written 00 FF XX
    RETURN '\\x05'::bytea || decode(regexp_replace(encode(convert_to(s, 'LATIN1'), 'hex'), '(..)', '00ff\\1', 'g'), 'hex') || '\\x0001'::bytea;
  END IF;
  RETURN '\\x05'::bytea || decode(coalesce((
    SELECT string_agg(
      CASE WHEN u >> 8 = 0 THEN '00ff' ELSE lpad(to_hex(u >> 8), 2, '0') END ||
      CASE WHEN u & 255 = 0 THEN '00ff' ELSE lpad(to_hex(u & 255), 2, '0') END, '' ORDER BY i, j)
    FROM (SELECT ascii(ch) AS c, i FROM unnest(string_to_array(s, NULL)) WITH ORDINALITY AS t(ch, i)) AS chars,
    LATERAL (SELECT c AS u, 1 AS j WHERE c < 65536
             UNION ALL SELECT 55296 + ((c - 65536) >> 10), 1 WHERE c >= 65536
             UNION ALL SELECT 56320 + ((c - 65536) & 1023), 2 WHERE c >= 65536) AS units
  ), ''), 'hex') || '\\x0001'::bytea;
END
$f$`;

const CK = `
CREATE OR REPLACE FUNCTION hearth_fn.ck(v jsonb) RETURNS bytea LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $f$
DECLARE
  n float8;
BEGIN
  CASE jsonb_typeof(v)
    WHEN 'string' THEN RETURN hearth_fn.strk(v #>> '{}');
    WHEN 'number' THEN
      n := v::float8;
      RETURN '\\x04'::bytea || int8send((('x' || encode(float8send(n + 0.0), 'hex'))::bit(64)::bigint)
        # CASE WHEN n < 0 THEN -1::bigint ELSE (-9223372036854775807 - 1)::bigint END);
    WHEN 'boolean' THEN RETURN CASE WHEN v = 'true'::jsonb THEN '\\x03'::bytea ELSE '\\x02'::bytea END;
    WHEN 'array' THEN
      RETURN '\\x06'::bytea || coalesce((SELECT string_agg(hearth_fn.ck(e), ''::bytea ORDER BY i)
        FROM jsonb_array_elements(v) WITH ORDINALITY AS t(e, i)), ''::bytea) || '\\x00'::bytea;
    WHEN 'object' THEN
      RETURN '\\x07'::bytea || coalesce((SELECT string_agg(hearth_fn.strk(k) || hearth_fn.ck(e), ''::bytea ORDER BY i)
        FROM jsonb_each(v) WITH ORDINALITY AS t(k, e, i)), ''::bytea) || '\\x00'::bytea;
    ELSE RETURN '\\x01'::bytea; -- JSON null, and SQL NULL (a missing field)
  END CASE;
END
$f$`;

/** The longest key an index holds whole (sql.ts, plan.ts): 4 fields and an id of ~600 bytes still fit a B-tree entry. */
export const INDEX_KEY_BYTES = 512;

const CKB = `
CREATE OR REPLACE FUNCTION hearth_fn.ckb(v jsonb) RETURNS bytea LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $f$
DECLARE
  k bytea := hearth_fn.ck(v);
BEGIN
  IF octet_length(k) > ${INDEX_KEY_BYTES} THEN RETURN substring(k FROM 1 FOR ${INDEX_KEY_BYTES}); END IF;
  RETURN k;
END
$f$`;

const GET = `
CREATE OR REPLACE FUNCTION hearth_fn.get(v jsonb, path text[]) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $f$
DECLARE
  seg text;
BEGIN
  FOREACH seg IN ARRAY path LOOP
    CASE jsonb_typeof(v)
      WHEN 'object' THEN v := v -> seg;
      WHEN 'array' THEN
        IF seg !~ '^(0|[1-9][0-9]{0,8})$' THEN RETURN NULL; END IF;
        v := v -> seg::int;
      ELSE RETURN NULL;
    END CASE;
  END LOOP;
  RETURN v;
END
$f$`;

const MOD = `
CREATE OR REPLACE FUNCTION hearth_fn.mod(v jsonb, d bigint, r bigint) RETURNS boolean LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $f$
DECLARE
  n numeric;
  x float8;
  bits bigint;
BEGIN
  IF jsonb_typeof(v) IS DISTINCT FROM 'number' THEN RETURN false; END IF;
  n := v::numeric;
  -- pouchdb-selector-core: parseInt(String(v), 10) === v, i.e. an integer written without an exponent (below 1e21)
  IF n <> trunc(n) OR abs(n) >= 1e21 THEN RETURN false; END IF;
  x := v::float8;
  IF abs(x) >= 9007199254740992 THEN -- the exact value of the double, not its shortest decimal
    bits := ('x' || encode(float8send(abs(x)), 'hex'))::bit(64)::bigint;
    n := ((bits & 4503599627370495) | 4503599627370496)::numeric * (1::bigint << ((bits >> 52) - 1075)::int);
    IF x < 0 THEN n := -n; END IF;
  END IF;
  RETURN mod(n, d) = r;
END
$f$`;

/**
 * Creates (or replaces) the functions; safe when several processes call it at once. When this version is already
 * installed it only reads (no lock, no DDL: a process may run as a role without CREATE rights once they exist).
 */
export async function installMangoFunctions(q: Queryable): Promise<void> {
  const { rows } = await q.query<{ v: string | null }>(`SELECT obj_description(to_regprocedure('${MARKED}'), 'pg_proc') AS v`);
  if (rows[0]?.v === VERSION) return;
  // one simple-protocol query: the statements run on one connection as one implicit transaction, under the lock
  const sql = [
    // the lock of every start-time DDL (engines/pg-schema.ts says why one lock), first
    SCHEMA_LOCK,
    'CREATE SCHEMA IF NOT EXISTS hearth_fn',
    STRK,
    CK,
    CKB,
    GET,
    MOD,
    `COMMENT ON FUNCTION ${MARKED} IS '${VERSION}'`,
  ].join(';\n');
  await q.query(sql);
}
