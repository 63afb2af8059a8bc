/**
 * The PostgreSQL DocStore of one instance: its schema (schema.ts) on the process's pool. A write is one transaction:
 * its documents' rows are read FOR UPDATE, then its rows are sent in one statement that also takes the doctype's row
 * (`UPDATE doctypes SET seq = seq + n`), held to COMMIT, so that writers of a doctype, whatever process they run in,
 * get seqs in commit order. The promise resolves after COMMIT (synchronous_commit on), and the events are published
 * then, as the SQLite engine does.
 */
import { createHash } from 'node:crypto';
import type { DocEvent, EventBus } from '../../common/bus.js';
import { BadRequest, HearthError, NotFound } from '../../common/errors.js';
import { inTransaction, type PgClient, type PgPool } from '../../engines/postgres.js';
import type {
  AllDocsOptions, AllDocsResult, Attachment, BulkGetRequestItem, BulkGetResultItem, ChangesOptions, ChangesResult, DbInfo, Doc,
  DocSnapshot, DocStore, GetOptions, OpenRevResult, WriteResult,
} from '../store.js';
import type { ExplainResult, FindRequest, FindResult, IndexDef, IndexRequest, IndexResult } from '../mango/types.js';
import type { AttStub } from '../sqlite/attachments.js';
import { createIndexDoc, deleteIndexDoc, indexDdocId, listedIndexes, mangoDefOf } from '../sqlite/store.js';
import * as pgMango from './mango/index.js';
import { isMissingRelation, jsonb, named } from './query.js';
import { queuedPut, settle, type PutQueues, type PutResult, type QueuedPut } from './puts.js';
import { PgReader } from './read.js';
import { openPgSnapshot } from './snapshot.js';
import { checkFence, createDoctypeTables, dropDoctypeTables, ensureSchema, formatSeq, lookupDoctype, type PgTables } from './schema.js';
import { currentFence } from '../../common/locks.js';
import {
  CreatedMeanwhile, NeedsTransaction, StaleDoctype, flushWrites, noPendingWrites, pgWriteAlone, pgWriteLocal, pgWriteNewEdit, pgWriteReplicated, prefetchRows,
  type PgWriteContext, type PutOutcome,
} from './write.js';

export interface PgStoreOptions {
  attachmentMaxBytes: number;
  /** Benchmarks only: false leaves the index of the writes (write-index.ts) out of the writes, the reference of its cost. */
  writeIndex?: boolean;
}

/** What a store keeps between requests, shared by the handles of one instance (factory.ts). */
export interface PgInstanceState {
  readonly schema: string;
  /** The schema and its shared tables exist (created once per process). */
  ready: Promise<void> | null;
  /** Doctype → its tables; a doctype dropped by another process is found out by its missing table. */
  readonly tables: Map<string, PgTables>;
  /** A doctype's Mango indexes (by table number). */
  readonly indexes: Map<number, IndexDef[]>;
  /** The plain puts waiting for one of their doctype (puts.ts). */
  readonly puts: PutQueues;
}

export class PgDocStore implements DocStore {
  private readonly schema: string;

  constructor(
    readonly domain: string,
    private readonly pool: PgPool,
    private readonly state: PgInstanceState,
    private readonly bus: EventBus,
    private readonly opts: PgStoreOptions,
    /** Installs the Mango SQL functions once per pool. */
    private readonly mangoReady: () => Promise<void>,
    /** Creates the index of the writes (write-index.ts) once per pool, before the first write. */
    private readonly writesReady: () => Promise<void>,
  ) {
    this.schema = state.schema;
  }

  private ensureSchema(): Promise<void> {
    this.state.ready ??= ensureSchema(this.pool, this.schema).catch((err: unknown) => {
      this.state.ready = null;
      throw err;
    });
    return this.state.ready;
  }

  private forget(doctype: string): void {
    const t = this.state.tables.get(doctype);
    this.state.tables.delete(doctype);
    if (t) this.state.indexes.delete(t.num);
  }

  private async tables(doctype: string): Promise<PgTables | null> {
    const cached = this.state.tables.get(doctype);
    if (cached) return cached;
    try {
      const found = await lookupDoctype(this.pool, this.schema, doctype);
      if (found) this.state.tables.set(doctype, found);
      return found;
    } catch (err) {
      if (isMissingRelation(err)) return null; // no schema yet: nothing was ever written
      throw err;
    }
  }

  /** Runs a read on the doctype's tables (null if it has none); a table dropped meanwhile by another process: looked up again. */
  private async read<T>(doctype: string, fn: (r: PgReader, t: PgTables) => Promise<T>, absent: () => T): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const t = await this.tables(doctype);
      if (!t) return absent();
      try {
        return await fn(new PgReader(this.pool, this.schema, t), t);
      } catch (err) {
        if (!isMissingRelation(err) || attempt > 0) throw err;
        this.forget(doctype);
      }
    }
  }

  private async tablesOrCreate(doctype: string): Promise<PgTables> {
    const found = await this.tables(doctype);
    if (found) return found;
    await this.ensureSchema();
    const { t } = await createDoctypeTables(this.pool, this.schema, doctype);
    this.state.tables.set(doctype, t);
    return t;
  }

  /**
   * One write transaction on a doctype: its documents' rows locked as they are read, then the doctype's row when the
   * rows are sent (write.ts flushWrites), until COMMIT. `onCommit` runs right after COMMIT, then the events are published
   * and the promise resolves.
   */
  private write<T>(doctype: string, fn: (ctx: PgWriteContext) => Promise<T>, onCommit?: () => void): Promise<T> {
    return this.writeAcross([doctype], (ctxOf) => fn(ctxOf(doctype)), onCommit);
  }

  /**
   * One write transaction on several doctypes (write() for one): a context per doctype, each sending its rows at the
   * end, in the order of the doctypes' names (`doctypes` is sorted here).
   */
  private async writeAcross<T>(doctypes: string[], fn: (ctxOf: (doctype: string) => PgWriteContext) => Promise<T>, onCommit?: () => void): Promise<T> {
    await this.writesReady();
    const fence = currentFence();
    // the table of fences came with the schemas made since; older ones get it here
    if (fence) await this.ensureSchema();
    const names = [...doctypes].sort();
    for (let attempt = 0; ; attempt++) {
      const tables = new Map<string, PgTables>();
      for (const d of names) tables.set(d, await this.tablesOrCreate(d));
      const events: DocEvent[] = [];
      let value: T;
      try {
        value = await inTransaction(this.pool, async (c) => {
          if (fence) await checkFence(c, this.schema, fence);
          const ctxs = new Map([...tables].map(([d, t]) => [d, {
            c, t, schema: this.schema, domain: this.domain, attachmentMaxBytes: this.opts.attachmentMaxBytes, events, pending: noPendingWrites(),
            noWriteIndex: this.opts.writeIndex === false, onDesignDoc: (id: string, body: Doc | null) => this.syncIndexes(c, t, id, body),
          } satisfies PgWriteContext]));
          const result = await fn((d) => ctxs.get(d)!);
          for (const d of names) await flushWrites(ctxs.get(d)!);
          return result;
        });
      } catch (err) {
        // the design docs' indexes may have changed in the rolled back transaction
        for (const t of tables.values()) this.state.indexes.delete(t.num);
        if ((err instanceof StaleDoctype || isMissingRelation(err)) && attempt === 0) {
          for (const d of names) this.forget(d);
          continue;
        }
        if (err instanceof CreatedMeanwhile && attempt < 5) continue;
        throw err;
      }
      this.committed(events, onCommit);
      return value;
    }
  }

  /** After a COMMIT: the caller's hook, then the events. */
  private committed(events: DocEvent[], onCommit?: () => void): void {
    try {
      onCommit?.();
    } catch {
      // a caller's hook: its failure is not the write's
    }
    for (const e of events) this.bus.publish(e);
  }

  snapshot(): Promise<DocSnapshot> {
    return openPgSnapshot(this.pool, this.schema);
  }

  async listDoctypes(): Promise<string[]> {
    try {
      const res = await this.pool.query<{ name: string }>(named(`SELECT name FROM "${this.schema}".doctypes ORDER BY name COLLATE "C"`, []));
      return res.rows.map((r) => r.name);
    } catch (err) {
      if (isMissingRelation(err)) return [];
      throw err;
    }
  }

  info(doctype: string): Promise<DbInfo | null> {
    return this.read(doctype, async (_r, t) => {
      const res = await this.pool.query<{ live: string; dead: string; seq: string }>(named(
        `SELECT count(*) FILTER (WHERE NOT deleted) AS live, count(*) FILTER (WHERE deleted) AS dead,
          (SELECT seq FROM "${this.schema}".doctypes WHERE num = $1) AS seq FROM ${t.docs}`, [t.num]));
      const row = res.rows[0];
      return { db_name: doctype, doc_count: Number(row?.live ?? 0), doc_del_count: Number(row?.dead ?? 0), update_seq: formatSeq(t, row?.seq ?? 0), instance_start_time: '0' as const };
    }, () => null);
  }

  async createDoctype(doctype: string): Promise<boolean> {
    if (await this.tables(doctype)) return false;
    await this.ensureSchema();
    const { t, created } = await createDoctypeTables(this.pool, this.schema, doctype);
    this.state.tables.set(doctype, t);
    return created;
  }

  async dropDoctype(doctype: string): Promise<boolean> {
    const t = await this.tables(doctype);
    if (!t) return false;
    await dropDoctypeTables(this.pool, this.schema, t);
    this.forget(doctype);
    return true;
  }

  get(doctype: string, id: string, opts: GetOptions = {}): Promise<Doc> {
    return this.read(doctype, (r) => r.get(id, opts), () => { throw new NotFound('missing'); });
  }

  openRevs(doctype: string, id: string, revs: string[] | 'all', opts: GetOptions = {}): Promise<OpenRevResult[]> {
    return this.read(doctype, (r) => r.openRevs(id, revs, opts), () => (revs === 'all' ? [] : revs.map((rev) => ({ missing: rev }))));
  }

  put(doctype: string, doc: Doc, onCommit?: () => void): Promise<PutResult> {
    // attachments and design docs: a transaction of their own; the other puts of a doctype are grouped (puts.ts)
    // and a put under a leased lock, whose fence is checked in its own transaction
    if (doc._attachments !== undefined || String(doc._id ?? '').startsWith('_design/') || currentFence()) return this.write(doctype, (ctx) => pgWriteNewEdit(ctx, doc), onCommit);
    return queuedPut(this.state.puts, doctype, doc, onCommit, (batch) => this.putBatch(doctype, batch));
  }

  /**
   * Plain puts (one, or those that waited for their doctype): one statement outside a transaction (write.ts
   * pgWriteAlone) when the doctype's tables are known; otherwise, or when it lost a race, a transaction. Each put
   * settles with its own result or refusal.
   */
  private async putBatch(doctype: string, batch: QueuedPut[]): Promise<void> {
    await this.writesReady();
    const t = this.state.tables.get(doctype);
    if (t) {
      const events: DocEvent[] = [];
      const ctx = { t, schema: this.schema, domain: this.domain, attachmentMaxBytes: this.opts.attachmentMaxBytes, events, noWriteIndex: this.opts.writeIndex === false };
      const outcomes = await pgWriteAlone(this.pool, ctx, batch.map((q) => q.doc)).catch((err: unknown) => {
        if (err instanceof NeedsTransaction || isMissingRelation(err)) return null;
        throw err;
      });
      if (outcomes) {
        settle(batch, outcomes, (hook) => this.committed([], hook));
        this.committed(events);
        return;
      }
    }
    await this.putMany(doctype, batch);
  }

  /** Plain puts in one transaction; each settles with its own result or refusal. */
  private async putMany(doctype: string, batch: QueuedPut[]): Promise<void> {
    let outcomes: PutOutcome[] = [];
    await this.write(doctype, async (ctx) => {
      await prefetchRows(ctx, batch.flatMap((q) => (typeof q.doc._id === 'string' ? [q.doc._id] : [])));
      const out: PutOutcome[] = [];
      for (const q of batch) {
        // a refused document writes nothing (write.ts), the others go on
        out.push(await pgWriteNewEdit(ctx, q.doc).then((ok) => ({ ok }), (err: unknown) => {
          if (err instanceof HearthError) return { refused: err };
          throw err;
        }));
      }
      outcomes = out;
    }, () => settle(batch, outcomes, (hook) => this.committed([], hook)));
  }

  putAll(doctype: string, docs: Doc[], onCommit?: () => void): Promise<Array<{ id: string; rev: string; doc: Doc }>> {
    // one transaction: the first failure rolls every one of them back
    return this.write(doctype, async (ctx) => {
      await prefetchRows(ctx, docs.flatMap((d) => (typeof d._id === 'string' ? [d._id] : [])));
      const out: Array<{ id: string; rev: string; doc: Doc }> = [];
      for (const doc of docs) out.push(await pgWriteNewEdit(ctx, doc));
      return out;
    }, onCommit);
  }

  /**
   * One transaction across the doctypes, all or nothing (the first failure rolls every write back), one WAL flush at its
   * COMMIT. Each doctype's rows are sent and its row taken at the end, in the order of the doctypes' names, so that two
   * of these transactions take them in the same order.
   */
  putInOrder(writes: Array<{ doctype: string; doc: Doc }>): Promise<PutResult[]> {
    if (writes.length === 1) return this.put(writes[0]!.doctype, writes[0]!.doc).then((r) => [r]);
    return this.writeAcross([...new Set(writes.map((w) => w.doctype))], async (ctxOf) => {
      const out: PutResult[] = [];
      for (const w of writes) out.push(await pgWriteNewEdit(ctxOf(w.doctype), w.doc));
      return out;
    });
  }

  async bulkDocs(doctype: string, docs: Doc[], newEdits: boolean): Promise<WriteResult[]> {
    // One transaction; a refused document writes nothing (write.ts) and does not fail the others. A design doc, whose
    // indexes are made after its rows, gets a savepoint.
    const results = await this.write(doctype, async (ctx) => {
      await prefetchRows(ctx, docs.flatMap((d) => (typeof d._id === 'string' ? [d._id] : [])));
      const out: WriteResult[] = [];
      for (const doc of docs) {
        const design = typeof doc._id === 'string' && doc._id.startsWith('_design/');
        const eventsBefore = ctx.events.length;
        if (design) {
          await flushWrites(ctx);
          await ctx.c.query('SAVEPOINT d');
        }
        try {
          const r = newEdits ? await pgWriteNewEdit(ctx, doc) : await pgWriteReplicated(ctx, doc);
          if (design) {
            await flushWrites(ctx);
            await ctx.c.query('RELEASE d');
          }
          out.push({ ok: true, id: r.id, rev: r.rev });
        } catch (err) {
          if (!(err instanceof HearthError)) throw err;
          if (design) {
            // what this design doc wrote is undone: its rows, its event, what this transaction knew of it
            await ctx.c.query('ROLLBACK TO d');
            Object.assign(ctx.pending, noPendingWrites());
            ctx.events.length = eventsBefore;
          }
          out.push({ id: typeof doc._id === 'string' ? doc._id : '', error: err.error, reason: err.reason });
        }
      }
      return out;
    });
    return newEdits ? results : results.filter((r) => r.error !== undefined);
  }

  bulkGet(doctype: string, items: BulkGetRequestItem[], opts: { revs?: boolean; latest?: boolean; attachments?: boolean }): Promise<BulkGetResultItem[]> {
    return this.read(doctype, (r) => r.bulkGet(items, opts), () =>
      items.map((i) => ({ id: String(i.id), docs: [{ error: { id: String(i.id), rev: i.rev ?? 'undefined', error: 'not_found', reason: 'missing' } }] })));
  }

  revsDiff(doctype: string, request: Record<string, string[]>) {
    return this.read(doctype, (r) => r.revsDiff(request), () =>
      Object.fromEntries(Object.entries(request).map(([id, revs]) => [id, { missing: Array.isArray(revs) ? revs : [] }])));
  }

  allDocs(doctype: string, opts: AllDocsOptions): Promise<AllDocsResult> {
    return this.read<AllDocsResult>(doctype, (r) => r.allDocs(opts), () => ({ total_rows: 0, offset: 0, rows: opts.keys ? opts.keys.map((key) => ({ key, error: 'not_found' })) : [] }));
  }

  private async seqOf(t: PgTables): Promise<string> {
    const res = await this.pool.query<{ seq: string }>(named(`SELECT seq FROM "${this.schema}".doctypes WHERE num = $1`, [t.num]));
    return res.rows[0]?.seq ?? '0';
  }

  async currentSeq(doctype: string): Promise<string> {
    return this.read(doctype, async (_r, t) => formatSeq(t, await this.seqOf(t)), () => '0');
  }

  /** Parses an opaque seq; one from another epoch of the doctype (dropped and re-created) restarts at 0. */
  private async parseSince(t: PgTables, since: string | undefined): Promise<number> {
    if (since === undefined || since === '0' || since === '') return 0;
    if (since === 'now') return Number(await this.seqOf(t));
    const m = /^(\d{1,15})(?:-([0-9a-f]{8}))?$/.exec(since);
    if (!m) throw new BadRequest(`invalid since "${since.slice(0, 80)}": use a seq from a previous answer, 0 or now`, 'bad_request');
    if (m[2] !== undefined && m[2] !== t.epoch) return 0;
    return Number(m[1]);
  }

  changes(doctype: string, opts: ChangesOptions): Promise<ChangesResult> {
    return this.read(doctype, async (r, t) => {
      const since = await this.parseSince(t, opts.since);
      const filter = opts.selector ? await this.selectorFilter(opts.selector, opts.doc_ids ? 3 : 2) : null;
      const page = await r.changes(since, opts, filter);
      return { results: page.results, last_seq: formatSeq(t, page.last), pending: page.pending };
    }, () => ({ results: [], last_seq: '0', pending: 0 }));
  }

  private async selectorFilter(selector: Record<string, unknown>, firstParam: number): Promise<{ sql: string; params: unknown[] }> {
    await this.mangoReady();
    return pgMango.pgCompileSelector(selector, firstParam);
  }

  private async indexes(t: PgTables): Promise<IndexDef[]> {
    const cached = this.state.indexes.get(t.num);
    if (cached) return cached;
    const res = await this.pool.query<{ ddoc: string; name: string; def: Pick<IndexDef, 'fields' | 'partial_filter_selector'>; sql_name: string; stale: boolean }>(
      named(`SELECT m.ddoc, m.name, m.def, m.sql_name, (i.indexdef IS NULL OR i.indexdef NOT LIKE '%hearth_fn.ckb(%') AS stale
        FROM "${this.schema}".mango_indexes m LEFT JOIN pg_indexes i ON i.schemaname = $2 AND i.indexname = m.sql_name
        WHERE m.num = $1 ORDER BY m.ddoc COLLATE "C", m.name COLLATE "C"`, [t.num, this.schema]),
    );
    const defs = res.rows.map((r) => ({ ddoc: r.ddoc, name: r.name, sqlName: r.sql_name, ...r.def }));
    const stale = new Set(res.rows.filter((r) => r.stale).map((r) => r.sql_name));
    if (stale.size > 0) await this.rebuildIndexes(t, defs.filter((d) => stale.has(d.sqlName)));
    this.state.indexes.set(t.num, defs);
    return defs;
  }

  /**
   * Indexes made by an earlier version (on whole keys, which the queries no longer name, and which failed on values
   * over ~2.7 kB), or missing: made again as pgIndexSql makes them now.
   */
  private async rebuildIndexes(t: PgTables, defs: IndexDef[]): Promise<void> {
    await this.mangoReady();
    await inTransaction(this.pool, async (c) => {
      for (const def of defs) {
        await c.query(`DROP INDEX IF EXISTS "${this.schema}"."${def.sqlName}"`);
        for (const stmt of pgMango.pgIndexSql(t.docs, def)) await c.query(stmt);
      }
    });
  }

  /** Runs a Mango query on the doctype's docs table. */
  private async mango<T>(doctype: string, fn: (m: typeof pgMango, t: PgTables, indexes: IndexDef[]) => Promise<T>, absent: () => T): Promise<T> {
    await this.mangoReady();
    return this.read(doctype, async (_r, t) => fn(pgMango, t, await this.indexes(t)), absent);
  }

  find(doctype: string, request: FindRequest): Promise<FindResult> {
    return this.mango<FindResult>(doctype, (m, t, ix) => m.pgRunFind(this.pool, t.docs, request, ix), () => ({ docs: [], bookmark: 'nil' }));
  }

  count(doctype: string, selector: Record<string, unknown>): Promise<number> {
    return this.mango(doctype, (m, t, ix) => m.pgRunCount(this.pool, t.docs, selector, ix), () => 0);
  }

  async explain(doctype: string, request: FindRequest): Promise<ExplainResult> {
    await this.tablesOrCreate(doctype);
    return this.mango(doctype, (m, t, ix) => m.pgExplainFind(this.pool, t.docs, doctype, request, ix), () => {
      throw new NotFound('missing');
    });
  }

  /** Keeps the SQL indexes in step with the "query" design documents (created by _index or replicated), in the write's transaction. */
  private async syncIndexes(c: PgClient, t: PgTables, ddoc: string, body: Doc | null): Promise<void> {
    this.state.indexes.delete(t.num);
    const s = `"${this.schema}"`;
    const old = await c.query<{ sql_name: string }>(named(`DELETE FROM ${s}.mango_indexes WHERE num = $1 AND ddoc = $2 RETURNING sql_name`, [t.num, ddoc]));
    for (const r of old.rows) await c.query(`DROP INDEX IF EXISTS ${s}."${r.sql_name}"`);
    if (!body || body.language !== 'query' || !body.views || typeof body.views !== 'object') return;
    const views = Object.entries(body.views as Record<string, Doc>).flatMap(([name, view]) => {
      const def = mangoDefOf(view);
      return def ? [{ name, def }] : [];
    });
    if (views.length === 0) return;
    await this.mangoReady();
    for (const { name, def } of views) {
      const sqlName = `ix${t.num}_${createHash('sha1').update(`${ddoc}\n${name}`).digest('hex').slice(0, 16)}`;
      for (const stmt of pgMango.pgIndexSql(t.docs, { ddoc, name, sqlName, ...def })) await c.query(stmt);
      await c.query(named(`INSERT INTO ${s}.mango_indexes (num, ddoc, name, def, sql_name) VALUES ($1, $2, $3, $4, $5)`, [t.num, ddoc, name, jsonb(def), sqlName]));
    }
  }

  createIndex(doctype: string, request: IndexRequest): Promise<IndexResult> {
    return this.write(doctype, async (ctx) => {
      const existing = await ctx.c.query<{ rev: string; body: Doc; deleted: boolean }>(named(`SELECT rev, body, deleted FROM ${ctx.t.docs} WHERE id = $1 FOR UPDATE`, [indexDdocId(request)]));
      const row = existing.rows[0];
      const made = createIndexDoc(request, row ? { rev: row.rev, body: row.deleted ? null : row.body } : undefined);
      if (made.doc) await pgWriteNewEdit(ctx, made.doc);
      return made.result;
    });
  }

  async listIndexes(doctype: string): Promise<{ total_rows: number; indexes: unknown[] }> {
    return listedIndexes(await this.read(doctype, (_r, t) => this.indexes(t), () => []));
  }

  async deleteIndex(doctype: string, ddoc: string, name: string): Promise<void> {
    const id = ddoc.startsWith('_design/') ? ddoc : `_design/${ddoc}`;
    await this.write(doctype, async (ctx) => {
      const res = await ctx.c.query<{ rev: string; body: Doc }>(named(`SELECT rev, body FROM ${ctx.t.docs} WHERE id = $1 AND NOT deleted FOR UPDATE`, [id]));
      await pgWriteNewEdit(ctx, deleteIndexDoc(id, name, res.rows[0]));
    });
  }

  getLocal(doctype: string, id: string): Promise<Doc> {
    return this.read(doctype, (r) => r.getLocal(id), () => { throw new NotFound('missing'); });
  }
  localDocs(doctype: string): Promise<Doc[]> {
    return this.read(doctype, (r) => r.localDocs(), () => []);
  }


  putLocal(doctype: string, id: string, doc: Doc): Promise<{ id: string; rev: string }> {
    return this.write(doctype, (ctx) => pgWriteLocal(ctx, id, doc, false));
  }

  deleteLocal(doctype: string, id: string, rev: string | undefined): Promise<{ id: string; rev: string }> {
    return this.write(doctype, (ctx) => pgWriteLocal(ctx, id, rev === undefined ? {} : { _rev: rev }, true));
  }

  async getAttachment(doctype: string, id: string, name: string, rev?: string): Promise<Attachment> {
    const doc = await this.get(doctype, id, rev ? { rev } : {});
    const stub = (doc._attachments as unknown as Record<string, AttStub> | undefined)?.[name];
    if (!stub) throw new NotFound('Document is missing attachment');
    const res = await this.pool.query<{ data: Buffer }>(named(`SELECT data FROM "${this.schema}".attachments WHERE digest = $1`, [stub.digest]));
    const data = res.rows[0]?.data;
    if (!data) throw new NotFound('Document is missing attachment');
    return { content_type: stub.content_type, digest: stub.digest, length: stub.length, data };
  }

  async ping(): Promise<number> {
    const start = performance.now();
    await this.pool.query('SELECT 1');
    return performance.now() - start;
  }

  /** The pool belongs to the process: a store has nothing of its own to close. */
  async close(): Promise<void> {}
}
