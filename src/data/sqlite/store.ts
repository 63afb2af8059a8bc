/** The embedded DocStore: one SQLite database per instance (see db.ts for the layout). */
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { BadRequest, NotFound } from '../../common/errors.js';
import type { DocEvent, EventBus } from '../../common/bus.js';
import type {
  AllDocsOptions, AllDocsResult, Attachment, BulkGetRequestItem, BulkGetResultItem, ChangesOptions, ChangesResult, DbInfo, Doc,
  DocSnapshot, DocStore, GetOptions, OpenRevResult, WriteResult,
} from '../store.js';
import type { ExplainResult, FindRequest, FindResult, IndexDef, IndexRequest, IndexResult } from '../mango/types.js';
import { compileSelector, explainFind, indexSql, registerSqlFunctions, runCount, runFind } from '../mango/index.js';
import { readAttachment, type AttStub } from './attachments.js';
import {
  checkFence, createDoctypeTables, dropDoctypeTables, forgetStatements, formatSeq, lookupDoctype, openInstanceDb, prep, WriteQueue, type DoctypeTables,
} from './db.js';
import { currentFence } from '../../common/locks.js';
import { Reader } from './read.js';
import { SqliteSnapshot } from './snapshot.js';
import { WalSync } from './wal-sync.js';
import { writeLocal, writeNewEdit, writeReplicated, type WriteContext } from './write.js';
import { HearthError } from '../../common/errors.js';

export interface SqliteStoreOptions {
  attachmentMaxBytes: number;
  groupCommitMs: number;
  /** Closes the database off the event loop (closer.ts); without it, close() checkpoints on the event loop. */
  closer?: { close(db: Database.Database, file: string): Promise<void> };
}

export class SqliteDocStore implements DocStore {
  private readonly db: Database.Database;
  private readonly queue: WriteQueue;
  private readonly wal: WalSync;
  /** Doctype → its tables; filled on lookup, emptied on drop and on an aborted batch. */
  private readonly tableCache = new Map<string, DoctypeTables>();
  /** A doctype's Mango indexes (by table number), read once: every _find needs them; emptied when any changes. */
  private readonly indexCache = new Map<number, IndexDef[]>();

  constructor(
    readonly domain: string,
    private readonly file: string,
    bus: EventBus,
    private readonly opts: SqliteStoreOptions,
  ) {
    this.db = openInstanceDb(file, registerSqlFunctions);
    this.wal = new WalSync(`${file}-wal`, file);
    this.queue = new WriteQueue(
      this.db, (events: DocEvent[]) => events.forEach((e) => bus.publish(e)), opts.groupCommitMs, () => { this.tableCache.clear(); this.indexCache.clear(); }, 512, () => this.wal.sync(),
      () => this.wal.failure,
    );
  }

  private tables(doctype: string): DoctypeTables | null {
    const cached = this.tableCache.get(doctype);
    if (cached) return cached;
    const found = lookupDoctype(this.db, doctype);
    if (found) this.tableCache.set(doctype, found);
    return found;
  }

  private reader(doctype: string): Reader | null {
    const t = this.tables(doctype);
    return t ? new Reader(this.db, t) : null;
  }

  private write<T>(doctype: string, fn: (ctx: WriteContext) => T, onCommit?: () => void): Promise<T> {
    return this.fenced((events) => fn(this.context(doctype, events)), onCommit);
  }

  /** One write of the queue, refused when it comes from a holder of a lock whose fence has moved on (fencing.ts). */
  private fenced<T>(fn: (events: DocEvent[]) => T, onCommit?: () => void): Promise<T> {
    const fence = currentFence();
    return this.queue.run((events) => {
      checkFence(this.db, fence);
      return fn(events);
    }, onCommit);
  }

  private context(doctype: string, events: DocEvent[]): WriteContext {
    const t = this.tables(doctype) ?? createDoctypeTables(this.db, doctype);
    return {
      db: this.db,
      t,
      domain: this.domain,
      attachmentMaxBytes: this.opts.attachmentMaxBytes,
      events,
      onDesignDoc: (id, body) => this.syncIndexes(t, id, body),
    };
  }

  putInOrder(writes: Array<{ doctype: string; doc: Doc }>): Promise<Array<{ id: string; rev: string; doc: Doc }>> {
    // one savepoint for all (WriteQueue): the first failure rolls every one of them back
    return this.fenced((events) => writes.map((w) => writeNewEdit(this.context(w.doctype, events), w.doc)));
  }

  async snapshot(): Promise<DocSnapshot> {
    return new SqliteSnapshot(this.file);
  }

  async listDoctypes(): Promise<string[]> {
    return prep(this.db, 'SELECT name FROM doctypes ORDER BY name', true).all() as string[];
  }

  async info(doctype: string): Promise<DbInfo | null> {
    const t = this.tables(doctype);
    if (!t) return null;
    const counts = prep(this.db, `SELECT sum(deleted = 0) AS live, sum(deleted = 1) AS dead FROM ${t.docs}`).get() as { live: number | null; dead: number | null };
    return {
      db_name: doctype,
      doc_count: counts.live ?? 0,
      doc_del_count: counts.dead ?? 0,
      update_seq: await this.currentSeq(doctype),
      instance_start_time: '0',
    };
  }

  async createDoctype(doctype: string): Promise<boolean> {
    if (this.tables(doctype)) return false;
    await this.queue.run(() => createDoctypeTables(this.db, doctype));
    return true;
  }

  async dropDoctype(doctype: string): Promise<boolean> {
    const t = this.tables(doctype);
    if (!t) return false;
    await this.queue.run(() => dropDoctypeTables(this.db, t));
    this.tableCache.delete(doctype);
    this.indexCache.delete(t.num);
    forgetStatements(this.db);
    return true;
  }

  async get(doctype: string, id: string, opts: GetOptions = {}): Promise<Doc> {
    const r = this.reader(doctype);
    if (!r) throw new NotFound('missing');
    return r.get(id, opts);
  }

  async openRevs(doctype: string, id: string, revs: string[] | 'all', opts: GetOptions = {}): Promise<OpenRevResult[]> {
    const r = this.reader(doctype);
    if (!r) return revs === 'all' ? [] : revs.map((rev) => ({ missing: rev }));
    return r.openRevs(id, revs, opts);
  }

  put(doctype: string, doc: Doc, onCommit?: () => void): Promise<{ id: string; rev: string; doc: Doc }> {
    return this.write(doctype, (ctx) => writeNewEdit(ctx, doc), onCommit);
  }

  putAll(doctype: string, docs: Doc[], onCommit?: () => void): Promise<Array<{ id: string; rev: string; doc: Doc }>> {
    // one savepoint for all: the first failure rolls every one of them back
    return this.write(doctype, (ctx) => docs.map((doc) => writeNewEdit(ctx, doc)), onCommit);
  }

  async bulkDocs(doctype: string, docs: Doc[], newEdits: boolean): Promise<WriteResult[]> {
    // Each document is its own savepoint: one bad doc does not fail the others.
    const results = await Promise.all(
      docs.map((doc) =>
        this.write(doctype, (ctx) => (newEdits ? writeNewEdit(ctx, doc) : writeReplicated(ctx, doc))).then(
          (r): WriteResult => ({ ok: true, id: r.id, rev: r.rev }),
          (err: unknown): WriteResult => {
            if (!(err instanceof HearthError)) throw err;
            const id = typeof doc._id === 'string' ? doc._id : '';
            return { id, error: err.error, reason: err.reason };
          },
        ),
      ),
    );
    return newEdits ? results : results.filter((r) => r.error !== undefined);
  }

  async bulkGet(doctype: string, items: BulkGetRequestItem[], opts: { revs?: boolean; latest?: boolean; attachments?: boolean }): Promise<BulkGetResultItem[]> {
    const r = this.reader(doctype);
    if (!r) {
      return items.map((i) => ({ id: String(i.id), docs: [{ error: { id: String(i.id), rev: i.rev ?? 'undefined', error: 'not_found', reason: 'missing' } }] }));
    }
    return r.bulkGet(items, opts);
  }

  async revsDiff(doctype: string, request: Record<string, string[]>) {
    const r = this.reader(doctype);
    if (!r) {
      return Object.fromEntries(Object.entries(request).map(([id, revs]) => [id, { missing: Array.isArray(revs) ? revs : [] }]));
    }
    return r.revsDiff(request);
  }

  async allDocs(doctype: string, opts: AllDocsOptions): Promise<AllDocsResult> {
    const r = this.reader(doctype);
    if (!r) return { total_rows: 0, offset: 0, rows: opts.keys ? opts.keys.map((key) => ({ key, error: 'not_found' })) : [] };
    return r.allDocs(opts);
  }

  async currentSeq(doctype: string): Promise<string> {
    const t = this.tables(doctype);
    if (!t) return '0';
    const seq = prep(this.db, 'SELECT seq FROM doctypes WHERE num = ?', true).get(t.num) as number;
    return formatSeq(t, seq);
  }

  /** Parses an opaque seq; one from another epoch of the doctype (dropped and re-created) restarts at 0. */
  private parseSince(t: DoctypeTables, since: string | undefined): number {
    if (since === undefined || since === '0' || since === '') return 0;
    if (since === 'now') return prep(this.db, 'SELECT seq FROM doctypes WHERE num = ?', true).get(t.num) as number;
    const m = /^(\d{1,15})(?:-([0-9a-f]{8}))?$/.exec(since);
    if (!m) throw new BadRequest(`invalid since "${since.slice(0, 80)}": use a seq from a previous answer, 0 or now`, 'bad_request');
    if (m[2] !== undefined && m[2] !== t.epoch) return 0;
    return Number(m[1]);
  }

  async changes(doctype: string, opts: ChangesOptions): Promise<ChangesResult> {
    const t = this.tables(doctype);
    if (!t) return { results: [], last_seq: '0', pending: 0 };
    const since = this.parseSince(t, opts.since);
    const filter = opts.selector ? compileSelector(opts.selector) : null;
    const page = new Reader(this.db, t).changes(since, opts, filter);
    return { results: page.results, last_seq: formatSeq(t, page.last), pending: page.pending };
  }

  private indexes(t: DoctypeTables): IndexDef[] {
    const cached = this.indexCache.get(t.num);
    if (cached) return cached;
    const rows = prep(this.db, 'SELECT ddoc, name, def, sql_name FROM mango_indexes WHERE num = ? ORDER BY ddoc, name').all(t.num) as Array<{
      ddoc: string; name: string; def: string; sql_name: string;
    }>;
    const defs = rows.map((r) => ({ ddoc: r.ddoc, name: r.name, sqlName: r.sql_name, ...(JSON.parse(r.def) as Pick<IndexDef, 'fields' | 'partial_filter_selector'>) }));
    this.indexCache.set(t.num, defs);
    return defs;
  }

  async find(doctype: string, request: FindRequest): Promise<FindResult> {
    const t = this.tables(doctype);
    if (!t) return { docs: [], bookmark: 'nil' };
    return runFind(this.db, t.docs, request, this.indexes(t));
  }

  async count(doctype: string, selector: Record<string, unknown>): Promise<number> {
    const t = this.tables(doctype);
    if (!t) return 0;
    return runCount(this.db, t.docs, selector, this.indexes(t));
  }

  async explain(doctype: string, request: FindRequest): Promise<ExplainResult> {
    const t = this.tables(doctype) ?? (await this.write(doctype, (ctx) => ctx.t));
    return explainFind(this.db, t.docs, doctype, request, this.indexes(t));
  }

  /** Keeps SQL indexes in step with the "query" design documents (created by _index or replicated). */
  private syncIndexes(t: DoctypeTables, ddoc: string, body: Doc | null): void {
    // inside the write's transaction, which may still roll back: the next read refills from what is committed
    this.indexCache.delete(t.num);
    const old = prep(this.db, 'SELECT sql_name FROM mango_indexes WHERE num = ? AND ddoc = ?', true).all(t.num, ddoc) as string[];
    for (const name of old) this.db.exec(`DROP INDEX IF EXISTS ${name}`);
    prep(this.db, 'DELETE FROM mango_indexes WHERE num = ? AND ddoc = ?').run(t.num, ddoc);
    if (!body || body.language !== 'query' || !body.views || typeof body.views !== 'object') return;
    for (const [name, view] of Object.entries(body.views as Record<string, Doc>)) {
      const def = mangoDefOf(view);
      if (!def) continue;
      const sqlName = `ix${t.num}_${createHash('sha1').update(`${ddoc}\n${name}`).digest('hex').slice(0, 16)}`;
      const index: IndexDef = { ddoc, name, sqlName, ...def };
      for (const stmt of indexSql(t.docs, index)) this.db.exec(stmt);
      prep(this.db, 'INSERT INTO mango_indexes (num, ddoc, name, def, sql_name) VALUES (?, ?, ?, ?, ?)').run(t.num, ddoc, name, JSON.stringify(def), sqlName);
    }
  }

  async createIndex(doctype: string, request: IndexRequest): Promise<IndexResult> {
    return this.write(doctype, (ctx) => {
      const existing = prep(this.db, `SELECT rev, body, deleted FROM ${ctx.t.docs} WHERE id = ?`).get(indexDdocId(request)) as { rev: string; body: string; deleted: number } | undefined;
      const made = createIndexDoc(request, existing && { rev: existing.rev, body: existing.deleted ? null : (JSON.parse(existing.body) as Doc) });
      if (made.doc) writeNewEdit(ctx, made.doc);
      return made.result;
    });
  }

  async listIndexes(doctype: string): Promise<{ total_rows: number; indexes: unknown[] }> {
    const t = this.tables(doctype);
    return listedIndexes(t ? this.indexes(t) : []);
  }

  async deleteIndex(doctype: string, ddoc: string, name: string): Promise<void> {
    const id = ddoc.startsWith('_design/') ? ddoc : `_design/${ddoc}`;
    await this.write(doctype, (ctx) => {
      const row = prep(this.db, `SELECT rev, body FROM ${ctx.t.docs} WHERE id = ? AND deleted = 0`).get(id) as { rev: string; body: string } | undefined;
      writeNewEdit(ctx, deleteIndexDoc(id, name, row && { rev: row.rev, body: JSON.parse(row.body) as Doc }));
    });
  }

  async getLocal(doctype: string, id: string): Promise<Doc> {
    const r = this.reader(doctype);
    if (!r) throw new NotFound('missing');
    return r.getLocal(id);
  }

  async localDocs(doctype: string): Promise<Doc[]> {
    const t = this.tables(doctype);
    if (!t) return [];
    const rows = prep(this.db, `SELECT id, rev, body FROM ${t.local} ORDER BY id`).all() as Array<{ id: string; rev: string; body: string }>;
    return rows.map((r) => ({ _id: `_local/${r.id}`, _rev: r.rev, ...(JSON.parse(r.body) as Doc) }));
  }

  putLocal(doctype: string, id: string, doc: Doc): Promise<{ id: string; rev: string }> {
    return this.write(doctype, (ctx) => writeLocal(ctx, id, doc, false));
  }

  deleteLocal(doctype: string, id: string, rev: string | undefined): Promise<{ id: string; rev: string }> {
    return this.write(doctype, (ctx) => writeLocal(ctx, id, rev === undefined ? {} : { _rev: rev }, true));
  }

  async getAttachment(doctype: string, id: string, name: string, rev?: string): Promise<Attachment> {
    const doc = await this.get(doctype, id, rev ? { rev } : {});
    const stub = (doc._attachments as unknown as Record<string, AttStub> | undefined)?.[name];
    if (!stub) throw new NotFound('Document is missing attachment');
    const data = readAttachment(this.db, stub.digest);
    if (!data) throw new NotFound('Document is missing attachment');
    return { content_type: stub.content_type, digest: stub.digest, length: stub.length, data };
  }

  async ping(): Promise<number> {
    const start = performance.now();
    prep(this.db, 'SELECT 1').get();
    return performance.now() - start;
  }

  async close(): Promise<void> {
    // let queued writes finish (refused if an fsync failed: closing is then how the store starts anew)
    await this.queue.drain().catch(() => undefined);
    forgetStatements(this.db);
    this.wal.close();
    if (!this.db.open) return;
    if (this.opts.closer) await this.opts.closer.close(this.db, this.file);
    else this.db.close();
  }
}

/** The design doc id of an _index request, and the name and definition hash of its view. */
function indexTarget(request: IndexRequest): { ddoc: string; name: string; fieldsJson: string } {
  const fieldsJson = JSON.stringify(request.fields.map((f) => ({ [f.field]: f.dir })));
  const hash = createHash('sha1').update(fieldsJson + JSON.stringify(request.partial_filter_selector ?? null)).digest('hex');
  const ddoc = request.ddoc ? (request.ddoc.startsWith('_design/') ? request.ddoc : `_design/${request.ddoc}`) : `_design/${hash}`;
  return { ddoc, name: request.name ?? hash, fieldsJson };
}

export const indexDdocId = (request: IndexRequest): string => indexTarget(request).ddoc;

/**
 * What _index writes: the design doc with the index's view added (`existing`: the design doc now, its body null when
 * deleted), or no doc when the same view is there already.
 */
export function createIndexDoc(request: IndexRequest, existing: { rev: string; body: Doc | null } | undefined): { result: IndexResult; doc: Doc | null } {
  const { ddoc, name, fieldsJson } = indexTarget(request);
  const partial = request.partial_filter_selector;
  const body: Doc = existing?.body ?? {};
  const views = (body.views && typeof body.views === 'object' ? body.views : {}) as Record<string, Doc>;
  const map: Doc = { fields: Object.fromEntries(request.fields.map((f) => [f.field, f.dir])) };
  if (partial) map.partial_filter_selector = partial as Doc;
  const view: Doc = { map, reduce: '_count', options: { def: { fields: JSON.parse(fieldsJson) as Doc[], ...(partial ? { partial_filter_selector: partial as Doc } : {}) } } };
  if (body.language === 'query' && JSON.stringify(views[name]) === JSON.stringify(view)) return { result: { result: 'exists', id: ddoc, name }, doc: null };
  const doc: Doc = { ...body, _id: ddoc, language: 'query', views: { ...views, [name]: view } };
  if (existing) doc._rev = existing.rev;
  return { result: { result: 'created', id: ddoc, name }, doc };
}

/** What deleting an index writes: its design doc without the view, or deleted when it was the last one (404 if absent). */
export function deleteIndexDoc(id: string, name: string, row: { rev: string; body: Doc } | undefined): Doc {
  const views = (row?.body.views ?? {}) as Record<string, Doc>;
  if (!row || !(name in views)) throw new NotFound('Index not found');
  delete views[name];
  return Object.keys(views).length ? { ...row.body, _id: id, _rev: row.rev, views } : { _id: id, _rev: row.rev, _deleted: true };
}

/** The answer of GET _index: _all_docs, then each Mango index. */
export function listedIndexes(defs: IndexDef[]): { total_rows: number; indexes: unknown[] } {
  const all = { ddoc: null, name: '_all_docs', type: 'special', def: { fields: [{ _id: 'asc' }] } };
  const indexes = [
    all,
    ...defs.map((d) => ({
      ddoc: d.ddoc, name: d.name, type: 'json', partitioned: false,
      def: { fields: d.fields.map((f) => ({ [f.field]: f.dir })), ...(d.partial_filter_selector ? { partial_filter_selector: d.partial_filter_selector } : {}) },
    })),
  ];
  return { total_rows: indexes.length, indexes };
}

export function mangoDefOf(view: Doc): Pick<IndexDef, 'fields' | 'partial_filter_selector'> | null {
  const options = view.options as Doc | undefined;
  const def = (options?.def ?? null) as Doc | null;
  const map = view.map as Doc | undefined;
  const rawFields = def?.fields ?? (map && typeof map === 'object' ? Object.entries((map.fields ?? {}) as Doc).map(([k, v]) => ({ [k]: v })) : null);
  if (!Array.isArray(rawFields) || rawFields.length === 0) return null;
  const fields = rawFields.map((f) => {
    if (typeof f === 'string') return { field: f, dir: 'asc' as const };
    const [k, v] = Object.entries(f as Doc)[0] ?? [];
    return { field: String(k), dir: v === 'desc' ? ('desc' as const) : ('asc' as const) };
  });
  const partial = (def?.partial_filter_selector ?? map?.partial_filter_selector) as Record<string, unknown> | undefined;
  return partial && Object.keys(partial).length ? { fields, partial_filter_selector: partial } : { fields };
}
