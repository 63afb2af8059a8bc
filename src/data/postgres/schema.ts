/**
 * The layout of one instance in PostgreSQL: a schema `i_<storeId>` holding the same tables as the SQLite engine's
 * database (sqlite/db.ts), so that no table ever holds two instances' data. A doctype gets three tables named from a
 * number drawn from the schema's sequence (never from user text, never reused): d<N>_docs, d<N>_revs and d<N>_local.
 * The docs table is the contract with the Mango module: (id, rev, deleted, seq, body jsonb, tree jsonb); ids are text
 * COLLATE "C" (byte order, as SQLite's and CouchDB's _all_docs), whatever the database's collation.
 */
import { randomBytes } from 'node:crypto';
import { inTransaction, type PgPool, type Queryable } from '../../engines/postgres.js';
import { StaleLock, type Fence } from '../../common/locks.js';

export interface PgTables {
  doctype: string;
  num: number;
  epoch: string;
  /** Schema-qualified, quoted names. */
  docs: string;
  revs: string;
  local: string;
}

export function checkStoreId(storeId: string): void {
  if (!/^[0-9a-f]{32}$/.test(storeId)) throw new Error(`invalid store id ${storeId}`);
}

export const schemaOf = (storeId: string): string => `i_${storeId}`;

export function tablesFor(schema: string, doctype: string, num: number, epoch: string): PgTables {
  const q = (t: string) => `"${schema}"."d${num}_${t}"`;
  return { doctype, num, epoch, docs: q('docs'), revs: q('revs'), local: q('local') };
}

/** Two processes opening one instance at once: the second waits on this lock, then finds everything there. */
const lockOf = (schema: string) => `SELECT pg_advisory_xact_lock(hashtext('hearth docs ${schema}'))`;

/** Creates the instance's schema and shared tables if missing (one round trip; idempotent and safe to race). */
export async function ensureSchema(q: Queryable, schema: string): Promise<void> {
  const s = `"${schema}"`;
  // one simple query: PostgreSQL runs it as one transaction, which holds the advisory lock to its end
  await q.query(`${lockOf(schema)};
    CREATE SCHEMA IF NOT EXISTS ${s};
    CREATE SEQUENCE IF NOT EXISTS ${s}.doctype_num;
    CREATE TABLE IF NOT EXISTS ${s}.doctypes (name text PRIMARY KEY, num integer NOT NULL UNIQUE, seq bigint NOT NULL DEFAULT 0,
      epoch text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE IF NOT EXISTS ${s}.attachments (digest text PRIMARY KEY, data bytea NOT NULL);
    CREATE TABLE IF NOT EXISTS ${s}.att_refs (digest text NOT NULL, num integer NOT NULL, id text NOT NULL, rev text NOT NULL,
      PRIMARY KEY (num, id, rev, digest));
    DO $$ BEGIN -- CREATE INDEX IF NOT EXISTS would SHARE-lock att_refs (queued behind its writers) when the index is there
      IF to_regclass('${s}.att_refs_digest') IS NULL THEN CREATE INDEX att_refs_digest ON ${s}.att_refs (digest); END IF;
    END $$;
    CREATE TABLE IF NOT EXISTS ${s}.mango_indexes (num integer NOT NULL, ddoc text NOT NULL, name text NOT NULL, def jsonb NOT NULL,
      sql_name text NOT NULL UNIQUE, PRIMARY KEY (num, ddoc, name));
    CREATE TABLE IF NOT EXISTS ${s}.meta (key text PRIMARY KEY, value text NOT NULL);
    CREATE TABLE IF NOT EXISTS ${s}.fences (key text PRIMARY KEY, token bigint NOT NULL);`);
}

/**
 * The fence of a write made under a leased lock (common/locks.ts fencedLock), in the write's transaction: refused with
 * a StaleLock if a write of a later holder of the lock committed first, else its token becomes the key's highest. The
 * row stays locked to COMMIT: a later holder's write waits for this one, then sees its token. `table`: a table of the
 * same shape (key text PRIMARY KEY, token bigint), `fences` by default.
 */
export async function checkFence(q: Queryable, schema: string, fence: Fence, table = 'fences'): Promise<void> {
  const { rowCount } = await q.query(
    `INSERT INTO "${schema}".${table} AS f (key, token) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET token = excluded.token WHERE f.token <= excluded.token`,
    [fence.key, fence.token],
  );
  if (!rowCount) throw new StaleLock(fence.key);
}

export async function lookupDoctype(q: Queryable, schema: string, doctype: string): Promise<PgTables | null> {
  const res = await q.query<{ num: number; epoch: string }>({
    name: `doctype ${schema}`, text: `SELECT num, epoch FROM "${schema}".doctypes WHERE name = $1`, values: [doctype],
  });
  const row = res.rows[0];
  return row ? tablesFor(schema, doctype, row.num, row.epoch) : null;
}

/** Creates a doctype's tables if missing (in its own transaction, under the schema's lock); returns them. */
export function createDoctypeTables(pool: PgPool, schema: string, doctype: string): Promise<{ t: PgTables; created: boolean }> {
  return inTransaction(pool, async (c) => {
    await c.query(lockOf(schema));
    const existing = await lookupDoctype(c, schema, doctype);
    if (existing) return { t: existing, created: false };
    const epoch = randomBytes(4).toString('hex');
    const res = await c.query<{ num: number }>(
      `INSERT INTO "${schema}".doctypes (name, num, epoch) VALUES ($1, nextval('"${schema}".doctype_num'), $2) RETURNING num`, [doctype, epoch],
    );
    const t = tablesFor(schema, doctype, (res.rows[0] as { num: number }).num, epoch);
    await c.query(`
      CREATE TABLE ${t.docs} (id text COLLATE "C" PRIMARY KEY, rev text NOT NULL, deleted boolean NOT NULL, seq bigint NOT NULL UNIQUE,
        body jsonb NOT NULL, tree jsonb NOT NULL);
      CREATE TABLE ${t.revs} (id text COLLATE "C" NOT NULL, rev text NOT NULL, deleted boolean NOT NULL, body jsonb NOT NULL, PRIMARY KEY (id, rev));
      CREATE TABLE ${t.local} (id text COLLATE "C" PRIMARY KEY, rev text NOT NULL, body jsonb NOT NULL);`);
    return { t, created: true };
  });
}

/** Drops a doctype's tables, its Mango indexes' rows and the attachments no other revision refers to. */
export async function dropDoctypeTables(q: Queryable, schema: string, t: PgTables): Promise<void> {
  const s = `"${schema}"`;
  await q.query(`${lockOf(schema)};
    DROP TABLE IF EXISTS ${t.docs}; DROP TABLE IF EXISTS ${t.revs}; DROP TABLE IF EXISTS ${t.local};
    DELETE FROM ${s}.doctypes WHERE num = ${t.num};
    DELETE FROM ${s}.mango_indexes WHERE num = ${t.num};
    DELETE FROM ${s}.att_refs WHERE num = ${t.num};
    DELETE FROM ${s}.attachments a WHERE NOT EXISTS (SELECT 1 FROM ${s}.att_refs r WHERE r.digest = a.digest);`);
}

export async function dropSchema(q: Queryable, schema: string): Promise<void> {
  await q.query(`${lockOf(schema)}; DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

export const formatSeq = (t: PgTables | null, seq: number | string): string => (t ? `${seq}-${t.epoch}` : '0');
