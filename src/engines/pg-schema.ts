/**
 * The tables a part of the server keeps in PostgreSQL outside the instances' schemas (the instance registry, sessions,
 * jobs, WebDAV locks…), created on first use, once per process. A failed attempt (the server was down) is tried again
 * on the next use.
 *
 * The rule that keeps processes starting together (and a process starting beside running ones) free of deadlocks:
 * - every such DDL runs through `applyDdl`, in a transaction whose FIRST statement takes the one advisory lock
 *   SCHEMA_LOCK: the DDL transactions run one after the other, and since no transaction holds a table lock when it asks
 *   for SCHEMA_LOCK (and only DDL transactions ask for it), that lock is never part of a wait cycle;
 * - a DDL text is applied once per database, not once per process start: its hash is recorded in `hearth.ddl_applied`
 *   in the same transaction, and a process that finds it there runs nothing (first without the lock, then again under
 *   it). `CREATE INDEX IF NOT EXISTS` takes a SHARE lock on its table, `ALTER TABLE … ADD COLUMN IF NOT EXISTS` an
 *   ACCESS EXCLUSIVE one and `CREATE OR REPLACE TRIGGER` a SHARE ROW EXCLUSIVE one even when there is nothing to do:
 *   run on every start, they queued behind the writes of the processes already serving and, taken on two tables in
 *   the order opposite to a write's, deadlocked with it. Now they run only while their tables are new (invisible to the
 *   other processes until COMMIT) or when a new version changes a DDL text (an upgrade: once, by one process).
 * The DDL texts must stay idempotent (IF NOT EXISTS…): a database made before `hearth.ddl_applied` runs them once more.
 */
import { createHash } from 'node:crypto';
import { inTransaction, type PgPool } from './postgres.js';

export const STATE_SCHEMA = 'hearth';

/** The one advisory lock of every start-time DDL transaction (its first statement). */
export const SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(hashtext('hearth.schema'))";

const LEDGER = `CREATE SCHEMA IF NOT EXISTS ${STATE_SCHEMA};
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.ddl_applied (hash text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`;

const hashOf = (ddl: string): string => createHash('sha256').update(ddl).digest('hex').slice(0, 32);

/** Whether this DDL text was applied to the database (false while the ledger itself is missing: SQLSTATE 42P01, 3F000). */
async function applied(pool: PgPool, hash: string): Promise<boolean> {
  try {
    return (await pool.query(`SELECT 1 FROM ${STATE_SCHEMA}.ddl_applied WHERE hash = $1`, [hash])).rowCount === 1;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === '42P01' || code === '3F000') return false;
    throw e;
  }
}

/** Applies `ddl` (idempotent statements) to the database once, under SCHEMA_LOCK; a no-op read when it was. */
export async function applyDdl(pool: PgPool, ddl: string): Promise<void> {
  const hash = hashOf(ddl);
  if (await applied(pool, hash)) return;
  await inTransaction(pool, async (c) => {
    await c.query(SCHEMA_LOCK);
    await c.query(LEDGER);
    // the process that held the lock before may have applied it: READ COMMITTED, this statement sees its commit
    if ((await c.query(`SELECT 1 FROM ${STATE_SCHEMA}.ddl_applied WHERE hash = $1`, [hash])).rowCount === 1) return;
    await c.query(ddl);
    await c.query(`INSERT INTO ${STATE_SCHEMA}.ddl_applied (hash) VALUES ($1)`, [hash]);
  });
}

/** Once per process: `applyDdl` on first use, tried again after a failure. */
export function once(apply: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => {
    done ??= apply().catch((e: unknown) => {
      done = null;
      throw e;
    });
    return done;
  };
}

export class PgSchema {
  readonly ready: () => Promise<void>;

  /** `ddl`: idempotent statements (CREATE … IF NOT EXISTS) on tables of the `hearth` schema. */
  constructor(pool: PgPool, ddl: string) {
    this.ready = once(() => applyDdl(pool, ddl));
  }
}

/** A unique constraint refused the row (SQLSTATE 23505): another writer, maybe in another process, took it first. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}
