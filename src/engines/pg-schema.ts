/**
 * The tables a part of the server keeps in the shared PostgreSQL schema `hearth` (the instance registry, sessions,
 * WebDAV locks…): created on first use, once per process, under an advisory lock so that processes starting together
 * do not race on the catalog. A failed attempt (the server was down) is tried again on the next use.
 */
import { inTransaction, type PgPool } from './postgres.js';

export const STATE_SCHEMA = 'hearth';

export class PgSchema {
  private done: Promise<void> | null = null;

  /** `ddl`: idempotent statements (CREATE … IF NOT EXISTS) on tables of the `hearth` schema. */
  constructor(private readonly pool: PgPool, private readonly ddl: string) {}

  ready(): Promise<void> {
    this.done ??= inTransaction(this.pool, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('hearth.schema'))");
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${STATE_SCHEMA}`);
      await client.query(this.ddl);
    }).catch((e: unknown) => {
      this.done = null;
      throw e;
    });
    return this.done;
  }
}

/** A unique constraint refused the row (SQLSTATE 23505): another writer, maybe in another process, took it first. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}
