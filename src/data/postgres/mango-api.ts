/**
 * The PostgreSQL Mango functions (module ./mango/), as the store reaches them. The interface is the contract between
 * the two; `satisfies` checks the module against it.
 */
import type { Queryable } from '../../engines/postgres.js';
import type { ExplainResult, FindRequest, FindResult, IndexDef } from '../mango/types.js';
import * as mango from './mango/index.js';

export interface PgMango {
  /** Creates the SQL functions in the shared schema hearth_fn (idempotent); once per pool before the first query. */
  installMangoFunctions(q: Queryable): Promise<void>;
  /** The CREATE INDEX statements of an index on `table` (the schema-qualified, quoted docs table). */
  pgIndexSql(table: string, def: IndexDef): string[];
  pgRunFind(q: Queryable, table: string, req: FindRequest, indexes: IndexDef[]): Promise<FindResult>;
  pgRunCount(q: Queryable, table: string, selector: Record<string, unknown>, indexes: IndexDef[]): Promise<number>;
  pgExplainFind(q: Queryable, table: string, dbname: string, req: FindRequest, indexes: IndexDef[]): Promise<ExplainResult>;
  /** A WHERE fragment over the docs table's columns, with $n placeholders from `firstParam`. */
  pgCompileSelector(selector: unknown, firstParam: number): { sql: string; params: unknown[] };
}

const module: PgMango = mango satisfies PgMango;

/** Kept async for its callers (the module was loaded lazily while the two were written apart). */
export function pgMango(): Promise<PgMango> {
  return Promise.resolve(module);
}
