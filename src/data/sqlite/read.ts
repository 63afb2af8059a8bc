/** Reading documents, revisions, _all_docs and the changes feed from one doctype's tables. */
import type Database from 'better-sqlite3';
import { BadRequest, NotFound } from '../../common/errors.js';
import type {
  AllDocsOptions, AllDocsResult, AllDocsRow, BulkGetRequestItem, BulkGetResultItem, ChangeRow, ChangesOptions, Doc, GetOptions,
  OpenRevResult,
} from '../store.js';
import { inlineAttachments, type AttStub } from './attachments.js';
import { formatSeq, prep, type DocRow, type DoctypeTables } from './db.js';
import {
  conflicts, deletedConflicts, latestLeaf, leaves, parseRev, revExists, revisionsOf, revsInfo, allRevs, type RevTree,
} from './revtree.js';


/** The revpos up to which attachments stay stubs (CouchDB's atts_since: the newest of those revs the tree knows). */
export function attsSincePos(tree: RevTree, attsSince: string[] | undefined): number {
  let since = 0;
  for (const r of attsSince ?? []) {
    const p = parseRev(r);
    if (p && revExists(tree, r)) since = Math.max(since, p.pos);
  }
  return since;
}

/** Adds to a revision's JSON what GET's options ask of its tree; `available`: whether a rev's body is kept. */
export function addTreeInfo(doc: Doc, tree: RevTree, rev: string, opts: GetOptions, available: (rev: string) => boolean): Doc {
  if (opts.conflicts) {
    const c = conflicts(tree);
    if (c.length) doc._conflicts = c;
  }
  if (opts.deleted_conflicts) {
    const c = deletedConflicts(tree);
    if (c.length) doc._deleted_conflicts = c;
  }
  if (opts.revs) {
    const r = revisionsOf(tree, rev);
    if (r) doc._revisions = r;
  }
  if (opts.revs_info) doc._revs_info = revsInfo(tree, rev, available);
  return doc;
}

/** What revs_diff answers for one document (`tree`: its tree, if any), or null when nothing is missing. */
export function revsDiffOf(tree: RevTree | null, revs: string[]): { missing: string[]; possible_ancestors?: string[] } | null {
  const known = tree ? allRevs(tree) : new Set<string>();
  const missing = revs.filter((r) => typeof r === 'string' && !known.has(r));
  if (missing.length === 0) return null;
  const out: { missing: string[]; possible_ancestors?: string[] } = { missing };
  if (tree) {
    const maxPos = Math.max(...missing.map((r) => parseRev(r)?.pos ?? 0));
    const anc = leaves(tree).map((l) => l.rev).filter((r) => (parseRev(r)?.pos ?? 0) < maxPos);
    if (anc.length) out.possible_ancestors = anc;
  }
  return out;
}

/** The revision that answers each rev asked of open_revs (with `latest`, its newest leaf), null if unknown; repeats dropped. */
export function openRevsTargets(tree: RevTree | null, revs: string[], latest: boolean | undefined): Array<{ asked: string; rev: string | null }> {
  const out: Array<{ asked: string; rev: string | null }> = [];
  const seen = new Set<string>();
  for (const asked of revs) {
    if (!tree || !parseRev(asked) || !revExists(tree, asked)) {
      out.push({ asked, rev: null });
      continue;
    }
    const rev = latest ? latestLeaf(tree, asked) : asked;
    if (seen.has(rev)) continue;
    seen.add(rev);
    out.push({ asked, rev });
  }
  return out;
}

export class Reader {
  constructor(
    private readonly db: Database.Database,
    private readonly t: DoctypeTables,
  ) {}

  row(id: string): DocRow | undefined {
    return prep(this.db, `SELECT * FROM ${this.t.docs} WHERE id = ?`).get(id) as DocRow | undefined;
  }

  private revBody(id: string, rev: string): { deleted: number; body: string } | undefined {
    return prep(this.db, `SELECT deleted, body FROM ${this.t.revs} WHERE id = ? AND rev = ?`).get(id, rev) as
      | { deleted: number; body: string }
      | undefined;
  }

  /**
   * Builds the JSON of one revision with the options CouchDB's GET understands. `tree`: the document's revision tree, or
   * its stored JSON, parsed only for the options that need it (a plain read by id does not).
   */
  private build(id: string, rev: string, body: string, deleted: boolean, tree: RevTree | string, opts: GetOptions): Doc {
    const doc: Doc = { _id: id, _rev: rev, ...(JSON.parse(body) as Doc) };
    if (deleted) doc._deleted = true;
    const atts = doc._attachments as unknown as Record<string, AttStub> | undefined;
    const inline = atts !== undefined && opts.attachments === true;
    if (!inline && !opts.conflicts && !opts.deleted_conflicts && !opts.revs && !opts.revs_info) return doc;
    const revTree = typeof tree === 'string' ? (JSON.parse(tree) as RevTree) : tree;
    if (inline) doc._attachments = inlineAttachments(this.db, atts, attsSincePos(revTree, opts.atts_since)) as Doc;
    return addTreeInfo(doc, revTree, rev, opts, (x) => this.revBody(id, x) !== undefined);
  }

  get(id: string, opts: GetOptions = {}): Doc {
    const row = this.row(id);
    if (!row) throw new NotFound('missing');
    if (opts.rev === undefined) {
      if (row.deleted) throw new NotFound('deleted');
      return this.build(id, row.rev, row.body, false, row.tree, opts);
    }
    const tree = JSON.parse(row.tree) as RevTree;
    let rev = opts.rev;
    if (!parseRev(rev)) throw new BadRequest(`invalid rev "${rev.slice(0, 80)}"`, 'bad_request');
    if (opts.latest && revExists(tree, rev)) rev = latestLeaf(tree, rev);
    const rb = this.revBody(id, rev);
    if (!rb) throw new NotFound('missing');
    return this.build(id, rev, rb.body, rb.deleted === 1, tree, opts);
  }

  openRevs(id: string, revs: string[] | 'all', opts: GetOptions): OpenRevResult[] {
    const row = this.row(id);
    if (revs === 'all') {
      if (!row) return [];
      const tree = JSON.parse(row.tree) as RevTree;
      return leaves(tree).flatMap((l) => {
        const rb = this.revBody(id, l.rev);
        return rb ? [{ ok: this.build(id, l.rev, rb.body, rb.deleted === 1, tree, opts) }] : [];
      });
    }
    const tree = row ? (JSON.parse(row.tree) as RevTree) : null;
    return openRevsTargets(tree, revs, opts.latest).map(({ asked, rev }) => {
      const rb = rev && tree ? this.revBody(id, rev) : undefined;
      return rb && rev && tree ? { ok: this.build(id, rev, rb.body, rb.deleted === 1, tree, opts) } : { missing: asked };
    });
  }

  bulkGet(items: BulkGetRequestItem[], opts: { revs?: boolean; latest?: boolean; attachments?: boolean }): BulkGetResultItem[] {
    return items.map((item) => {
      const base: GetOptions = { revs: opts.revs, latest: opts.latest, attachments: opts.attachments, atts_since: item.atts_since };
      const err = (rev: string, reason: string) => ({ error: { id: item.id, rev, error: 'not_found', reason } });
      if (typeof item.id !== 'string') return { id: String(item.id), docs: [err(item.rev ?? 'undefined', 'missing')] };
      if (item.rev === undefined) {
        const row = this.row(item.id);
        if (!row) return { id: item.id, docs: [err('undefined', 'missing')] };
        return { id: item.id, docs: [{ ok: this.build(item.id, row.rev, row.body, row.deleted === 1, row.tree, base) }] };
      }
      const results = this.openRevs(item.id, [item.rev], base);
      return {
        id: item.id,
        docs: results.map((r) => ('ok' in r ? r : err(r.missing, 'missing'))),
      };
    });
  }

  revsDiff(request: Record<string, string[]>): Record<string, { missing: string[]; possible_ancestors?: string[] }> {
    const out: Record<string, { missing: string[]; possible_ancestors?: string[] }> = {};
    for (const [id, revs] of Object.entries(request)) {
      if (!Array.isArray(revs)) throw new BadRequest(`_revs_diff: the value for "${id.slice(0, 80)}" must be an array of revs`);
      const row = this.row(id);
      const diff = revsDiffOf(row ? (JSON.parse(row.tree) as RevTree) : null, revs);
      if (diff) out[id] = diff;
    }
    return out;
  }

  allDocs(opts: AllDocsOptions): AllDocsResult {
    const total = prep(this.db, `SELECT count(*) FROM ${this.t.docs} WHERE deleted = 0`, true).get() as number;
    const toRow = (r: DocRow): AllDocsRow => {
      const row: AllDocsRow = { id: r.id, key: r.id, value: { rev: r.rev } };
      if (r.deleted) row.value = { rev: r.rev, deleted: true };
      if (opts.include_docs) {
        row.doc = r.deleted ? null : this.build(r.id, r.rev, r.body, false, r.tree, { conflicts: opts.conflicts });
      }
      return row;
    };
    if (opts.keys) {
      const rows = opts.keys.map((key): AllDocsRow => {
        const r = typeof key === 'string' ? this.row(key) : undefined;
        return r ? toRow(r) : { key, error: 'not_found' };
      });
      return { total_rows: total, offset: 0, rows };
    }
    const where = ['deleted = 0'];
    const params: unknown[] = [];
    const desc = opts.descending === true;
    if (opts.startkey !== undefined) {
      where.push(desc ? 'id <= ?' : 'id >= ?');
      params.push(opts.startkey);
    }
    if (opts.endkey !== undefined) {
      const incl = opts.inclusive_end !== false;
      where.push(desc ? (incl ? 'id >= ?' : 'id > ?') : incl ? 'id <= ?' : 'id < ?');
      params.push(opts.endkey);
    }
    if (opts.skipDesign) where.push(`NOT (id >= '_design/' AND id < '_design0')`);
    const limit = opts.limit ?? -1;
    const skip = opts.skip ?? 0;
    const rows = prep(this.db, `SELECT * FROM ${this.t.docs} WHERE ${where.join(' AND ')} ORDER BY id ${desc ? 'DESC' : 'ASC'} LIMIT ? OFFSET ?`)
      .all(...params, limit, skip) as DocRow[];
    return { total_rows: total, offset: skip, rows: rows.map(toRow) };
  }

  /** One page of changes after `since` (a number); filters are SQL so paging stays right. */
  changes(sinceNum: number, opts: ChangesOptions, filter: { sql: string; params: unknown[] } | null): { results: ChangeRow[]; last: number; pending: number } {
    const where: string[] = [opts.descending ? '1 = 1' : 'seq > ?'];
    const params: unknown[] = opts.descending ? [] : [sinceNum];
    if (opts.doc_ids) {
      where.push(`id IN (SELECT value FROM json_each(?))`);
      params.push(JSON.stringify(opts.doc_ids));
    }
    if (filter) {
      where.push(`(${filter.sql})`);
      params.push(...filter.params);
    }
    const limit = opts.limit ?? -1;
    const rows = prep(this.db, `SELECT * FROM ${this.t.docs} WHERE ${where.join(' AND ')} ORDER BY seq ${opts.descending ? 'DESC' : 'ASC'} LIMIT ?`)
      .all(...params, limit) as DocRow[];
    const results = rows.map((r): ChangeRow => {
      // the tree only for all_docs (or the options of include_docs that need it: build parses it then)
      const tree = opts.style === 'all_docs' ? (JSON.parse(r.tree) as RevTree) : r.tree;
      const revs = typeof tree === 'string' ? [{ rev: r.rev }] : leaves(tree).map((l) => ({ rev: l.rev }));
      const change: ChangeRow = { seq: formatSeq(this.t, r.seq), id: r.id, changes: revs };
      if (r.deleted) change.deleted = true;
      if (opts.include_docs) change.doc = this.build(r.id, r.rev, r.body, r.deleted === 1, tree, { conflicts: opts.conflicts });
      return change;
    });
    const last = rows.length ? (rows[rows.length - 1] as DocRow).seq : opts.descending ? 0 : sinceNum;
    let pending = 0;
    if (!opts.descending && rows.length && limit >= 0) {
      pending = prep(this.db, `SELECT count(*) FROM ${this.t.docs} WHERE seq > ?`, true).get(last) as number;
    }
    return { results, last, pending };
  }

  getLocal(id: string): Doc {
    const row = prep(this.db, `SELECT rev, body FROM ${this.t.local} WHERE id = ?`).get(id) as { rev: string; body: string } | undefined;
    if (!row) throw new NotFound('missing');
    return { _id: `_local/${id}`, _rev: row.rev, ...(JSON.parse(row.body) as Doc) };
  }
}
