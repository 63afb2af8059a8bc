/**
 * The document store that every /data route depends on. One DocStore serves one
 * instance; documents are grouped by doctype, each doctype with its own update
 * sequence. The semantics are CouchDB's (revision trees, deterministic winner,
 * conflicts, tombstones, _local docs). The SQLite engine (data/sqlite) is the
 * first implementation; a PostgreSQL engine implements the same interface.
 */
import type { FindRequest, FindResult, IndexRequest, IndexResult, ExplainResult } from './mango/types.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Doc = { [key: string]: Json };

export interface DbInfo {
  db_name: string;
  doc_count: number;
  doc_del_count: number;
  update_seq: string;
  instance_start_time: '0';
  disk_size?: number;
}

export interface GetOptions {
  rev?: string;
  revs?: boolean;
  revs_info?: boolean;
  conflicts?: boolean;
  deleted_conflicts?: boolean;
  latest?: boolean;
  /** Inline attachment bodies as base64 instead of stubs. */
  attachments?: boolean;
  /** Only inline attachments changed since these revs (CouchDB's atts_since). */
  atts_since?: string[];
}

/** One entry of an open_revs answer, CouchDB-shaped. */
export type OpenRevResult = { ok: Doc } | { missing: string };

export interface WriteResult {
  ok?: true;
  id: string;
  rev?: string;
  error?: string;
  reason?: string;
}

export interface BulkGetRequestItem {
  id: string;
  rev?: string;
  atts_since?: string[];
}
export interface BulkGetResultItem {
  id: string;
  docs: Array<{ ok: Doc } | { error: { id: string; rev: string; error: string; reason: string } }>;
}

export interface AllDocsOptions {
  keys?: string[];
  startkey?: string;
  endkey?: string;
  inclusive_end?: boolean;
  descending?: boolean;
  limit?: number;
  skip?: number;
  include_docs?: boolean;
  conflicts?: boolean;
  /** Leave out design documents (cozy-stack's DesignDocs=false, and _normal_docs). */
  skipDesign?: boolean;
}
export interface AllDocsRow {
  id?: string;
  key: string;
  value?: { rev: string; deleted?: true };
  doc?: Doc | null;
  error?: string;
}
export interface AllDocsResult {
  total_rows: number;
  offset: number;
  rows: AllDocsRow[];
}

export interface ChangesOptions {
  since?: string;
  limit?: number;
  descending?: boolean;
  include_docs?: boolean;
  conflicts?: boolean;
  style?: 'main_only' | 'all_docs';
  /** Filters, applied inside the store so that paging stays correct. */
  doc_ids?: string[];
  selector?: Record<string, unknown>;
}
export interface ChangeRow {
  seq: string;
  id: string;
  changes: Array<{ rev: string }>;
  deleted?: true;
  doc?: Doc | null;
}
export interface ChangesResult {
  results: ChangeRow[];
  last_seq: string;
  pending: number;
}

export interface Attachment {
  content_type: string;
  digest: string;
  length: number;
  data: Buffer;
}

/**
 * A read-only view of every doctype of a store at one moment (one sequence of each doctype), until closed: what an export
 * copies (move/export). Writes go on meanwhile and are not seen. Keep it short-lived: it holds a read transaction.
 */
export interface DocSnapshot {
  listDoctypes(): Promise<string[]>;
  allDocs(doctype: string, opts: AllDocsOptions): Promise<AllDocsResult>;
  get(doctype: string, id: string, opts?: GetOptions): Promise<Doc>;
  close(): Promise<void>;
}

export interface DocStore {
  readonly domain: string;
  /** Opens a DocSnapshot of the store as it is now. */
  snapshot(): Promise<DocSnapshot>;
  listDoctypes(): Promise<string[]>;
  /** Null when the doctype holds no document and was never created. */
  info(doctype: string): Promise<DbInfo | null>;
  createDoctype(doctype: string): Promise<boolean>;
  dropDoctype(doctype: string): Promise<boolean>;

  get(doctype: string, id: string, opts?: GetOptions): Promise<Doc>;
  openRevs(doctype: string, id: string, revs: string[] | 'all', opts?: GetOptions): Promise<OpenRevResult[]>;
  /**
   * Writes one document (new_edits=true): 409 on a stale or missing _rev. The promise resolves once
   * the write is durable; `onCommit`, if given, is called as soon as it is committed, i.e. visible to
   * every later read of this store, which can be a little earlier (see files/fs.ts for its use).
   */
  put(doctype: string, doc: Doc, onCommit?: () => void): Promise<{ id: string; rev: string; doc: Doc }>;
  bulkDocs(doctype: string, docs: Doc[], newEdits: boolean): Promise<WriteResult[]>;
  /** Writes several documents all or nothing, in one transaction: a stale `_rev` on any of them (409) writes none. */
  putAll(doctype: string, docs: Doc[], onCommit?: () => void): Promise<Array<{ id: string; rev: string; doc: Doc }>>;
  /**
   * Writes documents of several doctypes (new_edits=true), each visible no later than the next: in one transaction, all
   * or nothing (a stale `_rev` on any of them writes none), with one fsync (SQLite) or one WAL flush (PostgreSQL).
   */
  putInOrder(writes: Array<{ doctype: string; doc: Doc }>): Promise<Array<{ id: string; rev: string; doc: Doc }>>;
  bulkGet(doctype: string, items: BulkGetRequestItem[], opts: { revs?: boolean; latest?: boolean; attachments?: boolean }): Promise<BulkGetResultItem[]>;
  revsDiff(doctype: string, request: Record<string, string[]>): Promise<Record<string, { missing: string[]; possible_ancestors?: string[] }>>;
  allDocs(doctype: string, opts: AllDocsOptions): Promise<AllDocsResult>;
  /** Returns at once; longpoll waiting is done by the caller with the event bus. */
  changes(doctype: string, opts: ChangesOptions): Promise<ChangesResult>;
  currentSeq(doctype: string): Promise<string>;

  find(doctype: string, request: FindRequest): Promise<FindResult>;
  /** How many live documents match a Mango selector (an index is used as for find). */
  count(doctype: string, selector: Record<string, unknown>): Promise<number>;
  explain(doctype: string, request: FindRequest): Promise<ExplainResult>;
  createIndex(doctype: string, request: IndexRequest): Promise<IndexResult>;
  listIndexes(doctype: string): Promise<{ total_rows: number; indexes: unknown[] }>;
  deleteIndex(doctype: string, ddoc: string, name: string): Promise<void>;

  getLocal(doctype: string, id: string): Promise<Doc>;
  /** Every `_local` document of the doctype (`_id` with its `_local/` prefix, `_rev`): for moving an instance between engines. */
  localDocs?(doctype: string): Promise<Doc[]>;
  putLocal(doctype: string, id: string, doc: Doc): Promise<{ id: string; rev: string }>;
  deleteLocal(doctype: string, id: string, rev: string | undefined): Promise<{ id: string; rev: string }>;

  getAttachment(doctype: string, id: string, name: string, rev?: string): Promise<Attachment>;

  /** Checks the storage for /status: returns the latency in ms or throws. */
  ping(): Promise<number>;
  close(): Promise<void>;
}

/** Opens the per-instance stores; the composition root picks the engine. */
export interface DocStoreFactory {
  open(domain: string, storeId: string): DocStore;
  /**
   * The index of the writes, for the @event sweep (jobs/event-sweep.ts): for each asked instance (store id → doctypes),
   * a stamp read for all of them at once, without opening their databases. Contract: once a write of one of the asked
   * doctypes has committed, every stamp read after it differs from every stamp read before it (a stamp may also change
   * without a write). Engines without it get their instances visited at every sweep.
   */
  writeStamps?(asked: ReadonlyMap<string, readonly string[]>): Promise<Map<string, string>>;
  destroy(storeId: string): Promise<void>;
  close(): Promise<void>;
}
