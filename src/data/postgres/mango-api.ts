/**
 * The PostgreSQL Mango functions (module ./mango/, written beside this engine): the store reaches them only through
 * this file, which loads the module on first use. The types below are the contract between the two.
 */
import type { Queryable } from '../../engines/postgres.js';
import type { ExplainResult, FindRequest, FindResult, IndexDef } from '../mango/types.js';

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

// a variable specifier: the module may be absent from this build, and tsc must not resolve it
const specifier = './mango/index.js';
let loaded: Promise<PgMango> | null = null;

export function pgMango(): Promise<PgMango> {
  loaded ??= (import(specifier) as Promise<PgMango>).catch((err: unknown) => {
    loaded = null;
    throw new Error(`the PostgreSQL Mango module is missing (src/data/postgres/mango): ${(err as Error).message}`);
  });
  return loaded;
}
