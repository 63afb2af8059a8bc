/**
 * The index of the writes of every instance on one PostgreSQL database (the @event sweep reads it: jobs/event-sweep.ts):
 * `hearth.doc_writes` holds, per instance schema and doctype, the doctype's table number and its last seq, set by the
 * statement that writes the documents (write.ts flushStatement), in their transaction: a write is in the index exactly
 * when it is committed, and the sweep reads every instance's row in one query instead of visiting each schema.
 * The row is taken after the doctype's own row (whose lock already serialises the writers of a doctype): no new wait.
 */
import { applyDdl } from '../../engines/pg-schema.js';
import type { PgPool, Queryable } from '../../engines/postgres.js';

export const WRITES_TABLE = 'hearth.doc_writes';

/** Creates the table if missing (engines/pg-schema.ts: once per database, under the lock of every start-time DDL). */
export async function installWriteIndex(pool: PgPool): Promise<void> {
  await applyDdl(pool, `CREATE TABLE IF NOT EXISTS ${WRITES_TABLE} (schema text NOT NULL, doctype text NOT NULL, num integer NOT NULL, seq bigint NOT NULL,
      PRIMARY KEY (schema, doctype))`);
}

/** The CTE of the write statement that records its doctype's new seq (`s`: the CTE that returns it). */
export function recordWriteCte(schema: string, num: number, doctypeParam: string): string {
  return `w AS (
      INSERT INTO ${WRITES_TABLE} (schema, doctype, num, seq) SELECT '${schema}', ${doctypeParam}, ${num}, seq FROM s
      ON CONFLICT (schema, doctype) DO UPDATE SET num = excluded.num, seq = excluded.seq
    )`;
}

/**
 * Per schema asked, a stamp of its asked doctypes' writes: the table number and seq of each ('-' for a doctype never
 * written since the index exists). It changes with every committed write of one of them.
 */
export async function writeStamps(q: Queryable, asked: ReadonlyMap<string, readonly string[]>): Promise<Map<string, string>> {
  const { rows } = await q.query<{ schema: string; doctype: string; num: number; seq: string }>(
    `SELECT schema, doctype, num, seq FROM ${WRITES_TABLE} WHERE schema = ANY($1::text[])`, [[...asked.keys()]],
  );
  const seen = new Map<string, string>();
  for (const r of rows) seen.set(`${r.schema}\n${r.doctype}`, `${r.num}.${r.seq}`);
  const out = new Map<string, string>();
  for (const [schema, doctypes] of asked) out.set(schema, [...doctypes].sort().map((d) => seen.get(`${schema}\n${d}`) ?? '-').join(','));
  return out;
}
