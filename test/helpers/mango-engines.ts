/**
 * The Mango engines under one test interface, so that the same suites (mango-suite.ts, mango-property.ts) run against
 * the SQLite engine (src/data/mango) and the PostgreSQL one (src/data/postgres/mango), each on a real docs table of
 * its store's layout, filled with plain INSERTs of bodies as the stores write them (the winning revision without its
 * special members, `_id`/`_rev` in the id/rev columns).
 */
import pg from 'pg';
import type { Database } from 'better-sqlite3';
import { afterAll, beforeAll } from 'vitest';
import { compileSelector, explainFind, indexSql, runCount, runFind } from '../../src/data/mango/index.js';
import { openTestDb } from '../../src/data/mango/testing.js';
import type { ExplainResult, FindRequest, FindResult, IndexDef } from '../../src/data/mango/types.js';
import { installMangoFunctions, pgCompileSelector, pgExplainFind, pgIndexSql, pgRunCount, pgRunFind } from '../../src/data/postgres/mango/index.js';
import { jsonbOrder } from '../../src/data/postgres/mango/sql.js';
import { startPostgres, type PgServer } from './servers/postgres.js';

export interface DocRow {
  id: string;
  rev: string;
  deleted: boolean;
  body: Record<string, unknown>;
  tree: unknown;
}

export interface MangoEngine {
  name: string;
  /** Creates an empty docs table `table` (or empties it). */
  table(table: string): Promise<void>;
  insertRows(table: string, rows: DocRow[]): Promise<void>;
  deleteRow(table: string, id: string): Promise<void>;
  createIndex(table: string, def: IndexDef): Promise<void>;
  find(table: string, req: FindRequest, indexes: IndexDef[]): Promise<FindResult>;
  count(table: string, selector: unknown, indexes: IndexDef[]): Promise<number>;
  explain(table: string, req: FindRequest, indexes: IndexDef[]): Promise<ExplainResult>;
  /** Ids of the live rows that the changes-feed fragment of `selector` keeps, in byte order. */
  selectorIds(table: string, selector: unknown): Promise<string[]>;
  /** Does the plan of an _explain read through the SQL index `sqlName`, in its order (no sort step)? */
  readsIndexInOrder(plan: string[], sqlName: string): boolean;
  /** A JSON value as the engine gives it back (jsonb reorders object keys). */
  stored(v: unknown): unknown;
  /** Can strings hold U+0000 and lone surrogates (jsonb cannot)? */
  storesAnyString: boolean;
  close(): Promise<void>;
}

/** Rows for documents: `_rev` (default 1-abc) gives a one-revision tree. */
export function rowsOf(docs: Array<Record<string, unknown>>, opts: { deleted?: boolean } = {}): DocRow[] {
  return docs.map((d) => {
    const { _id, _rev, ...body } = d;
    const rev = typeof _rev === 'string' ? _rev : '1-abc';
    const [pos, hash] = rev.split('-');
    return { id: String(_id), rev, deleted: opts.deleted === true, body, tree: [{ pos: Number(pos), ids: [hash, { status: 'available' }, []] }] };
  });
}

export function sqliteMango(): MangoEngine {
  const dbs = new Map<string, Database>();
  const db = (t: string): Database => {
    const d = dbs.get(t);
    if (!d) throw new Error(`no table ${t}`);
    return d;
  };
  let seq = 0;
  return {
    name: 'SQLite',
    async table(t) {
      if (dbs.has(t)) db(t).exec(`DELETE FROM ${t}`);
      else dbs.set(t, openTestDb(t));
    },
    async insertRows(t, rows) {
      const st = db(t).prepare(`INSERT INTO ${t} (id, rev, deleted, seq, body, tree) VALUES (?, ?, ?, ?, ?, ?)`);
      db(t).transaction(() => {
        for (const r of rows) st.run(r.id, r.rev, r.deleted ? 1 : 0, ++seq, JSON.stringify(r.body), JSON.stringify(r.tree));
      })();
    },
    async deleteRow(t, id) {
      db(t).prepare(`DELETE FROM ${t} WHERE id = ?`).run(id);
    },
    async createIndex(t, def) {
      for (const s of indexSql(t, def)) db(t).exec(s);
    },
    find: async (t, req, indexes) => runFind(db(t), t, req, indexes),
    count: async (t, selector, indexes) => runCount(db(t), t, selector, indexes),
    explain: async (t, req, indexes) => explainFind(db(t), t, 'db', req, indexes),
    async selectorIds(t, selector) {
      const { sql, params } = compileSelector(selector);
      return (db(t).prepare(`SELECT id FROM ${t} WHERE deleted = 0 AND ${sql} ORDER BY id`).all(...params) as Array<{ id: string }>).map((r) => r.id);
    },
    readsIndexInOrder: (plan, sqlName) => plan.some((l) => l.includes(`USING INDEX ${sqlName}`)) && !plan.some((l) => /TEMP B-TREE/.test(l)),
    stored: (v) => v,
    storesAnyString: true,
    async close() {
      for (const d of dbs.values()) d.close();
    },
  };
}

/**
 * PostgreSQL: tables in schema `schema` of the database at `url`. `settings` are session settings of the pool
 * (the suite turns sequential scans off so that its 15-document tables show what the indexes can do; the planner's
 * own choice on a large table is tested apart, with default settings).
 */
export function pgMango(url: string, schema: string, settings = ''): MangoEngine & { pool: pg.Pool; qualified(table: string): string } {
  // no JIT: it compiles for 0.3 s any query whose estimated cost is high (a disabled seq scan, a large scan)
  const pool = new pg.Pool({ connectionString: url, max: 2, options: `-c jit=off ${settings}` });
  const q = (t: string): string => `"${schema}"."${t}"`;
  let installed: Promise<void> | null = null;
  let seq = 0;
  return {
    name: 'PostgreSQL',
    pool,
    qualified: q,
    async table(t) {
      installed ??= installMangoFunctions(pool).then(() => pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)).then(() => undefined);
      await installed;
      await pool.query(`DROP TABLE IF EXISTS ${q(t)}`);
      await pool.query(`CREATE TABLE ${q(t)} (id text PRIMARY KEY, rev text NOT NULL, deleted boolean NOT NULL, seq bigint NOT NULL UNIQUE, body jsonb NOT NULL, tree jsonb NOT NULL)`);
    },
    async insertRows(t, rows) {
      for (let i = 0; i < rows.length; i += 5000) {
        const chunk = rows.slice(i, i + 5000).map((r) => ({ ...r, seq: ++seq }));
        await pool.query(
          `INSERT INTO ${q(t)} (id, rev, deleted, seq, body, tree) SELECT x.id, x.rev, x.deleted, x.seq, x.body, x.tree FROM jsonb_to_recordset($1::jsonb) AS x(id text, rev text, deleted boolean, seq bigint, body jsonb, tree jsonb)`,
          [JSON.stringify(chunk)],
        );
      }
    },
    async deleteRow(t, id) {
      await pool.query(`DELETE FROM ${q(t)} WHERE id = $1`, [id]);
    },
    async createIndex(t, def) {
      for (const s of pgIndexSql(q(t), def)) await pool.query(s);
    },
    find: (t, req, indexes) => pgRunFind(pool, q(t), req, indexes),
    count: (t, selector, indexes) => pgRunCount(pool, q(t), selector, indexes),
    explain: (t, req, indexes) => pgExplainFind(pool, q(t), 'db', req, indexes),
    async selectorIds(t, selector) {
      const { sql, params } = pgCompileSelector(selector, 2); // $1 is taken, as in a changes query
      const r = await pool.query<{ id: string }>(`SELECT id FROM ${q(t)} WHERE NOT deleted AND seq > $1 AND ${sql} ORDER BY id COLLATE "C"`, [0, ...params]);
      return r.rows.map((x) => x.id);
    },
    readsIndexInOrder: (plan, sqlName) => plan.some((l) => new RegExp(`Index (Only )?Scan( Backward)? using ${sqlName} `).test(l)) && !plan.some((l) => /\bSort\b/.test(l)),
    stored: jsonbOrder,
    storesAnyString: false,
    async close() {
      await pool.end();
    },
  };
}

/** A private PostgreSQL server for the test file (started before its tests, removed after): its URL once started. */
export function postgresForFile(): () => string {
  let server: PgServer | undefined;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('the PostgreSQL server is not started yet');
    return server.url;
  };
}
