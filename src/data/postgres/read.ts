/** Reading documents, revisions, _all_docs and the changes feed from one doctype's tables on PostgreSQL. */
import type { Queryable } from '../../engines/postgres.js';
import { BadRequest, NotFound } from '../../common/errors.js';
import type {
  AllDocsOptions, AllDocsResult, AllDocsRow, BulkGetRequestItem, BulkGetResultItem, ChangeRow, ChangesOptions, Doc, GetOptions,
  OpenRevResult,
} from '../store.js';
import type { AttStub } from '../sqlite/attachments.js';
import { addTreeInfo, attsSincePos, openRevsTargets, revsDiffOf } from '../sqlite/read.js';
import { latestLeaf, leaves, parseRev, revExists, type RevTree } from '../sqlite/revtree.js';
import { jsonbTypes } from './nul.js';
import { named, type PgDocRow } from './query.js';
import { formatSeq, type PgTables } from './schema.js';

const COLUMNS = 'id, rev, deleted, seq, body, tree';

/** LIMIT's parameter: null (no limit) for an absent or negative limit, as SQLite's LIMIT -1. */
const limitOf = (limit: number | undefined): number | null => (limit !== undefined && limit >= 0 ? limit : null);

/**
 * A bound on ids with a key PostgreSQL can take: text cannot hold NUL, and no id holds one, so a key `p\0…` compares
 * with every id as `p` does, except `p` itself, which is below it (byte order): `>= p\0…` is `> p`, `< p\0…` is `<= p`.
 */
export function idBound(op: '<' | '<=' | '>' | '>=', key: string): { op: string; key: string } {
  const nul = key.indexOf('\u0000');
  if (nul < 0) return { op, key };
  return { op: op.startsWith('>') ? '>' : '<=', key: key.slice(0, nul) };
}

export class PgReader {
  constructor(
    private readonly q: Queryable,
    private readonly schema: string,
    private readonly t: PgTables,
  ) {}

  async row(id: string): Promise<PgDocRow | undefined> {
    return (await this.q.query<PgDocRow>(named(`SELECT ${COLUMNS} FROM ${this.t.docs} WHERE id = $1`, [id]))).rows[0];
  }

  private async rows(ids: string[]): Promise<Map<string, PgDocRow>> {
    if (ids.length === 0) return new Map();
    const res = await this.q.query<PgDocRow>(named(`SELECT ${COLUMNS} FROM ${this.t.docs} WHERE id = ANY($1::text[])`, [ids]));
    return new Map(res.rows.map((r) => [r.id, r]));
  }

  private async revBody(id: string, rev: string): Promise<{ deleted: boolean; body: Doc } | undefined> {
    return (await this.q.query<{ deleted: boolean; body: Doc }>(named(`SELECT deleted, body FROM ${this.t.revs} WHERE id = $1 AND rev = $2`, [id, rev]))).rows[0];
  }

  private async storedRevs(id: string): Promise<Set<string>> {
    const res = await this.q.query<{ rev: string }>(named(`SELECT rev FROM ${this.t.revs} WHERE id = $1`, [id]));
    return new Set(res.rows.map((r) => r.rev));
  }

  /** Builds the JSON of one revision with the options CouchDB's GET understands. */
  private async build(id: string, rev: string, body: Doc, deleted: boolean, tree: RevTree, opts: GetOptions): Promise<Doc> {
    const doc: Doc = { _id: id, _rev: rev, ...body };
    if (deleted) doc._deleted = true;
    const atts = doc._attachments as unknown as Record<string, AttStub> | undefined;
    if (atts && opts.attachments) doc._attachments = await this.inline(atts, attsSincePos(tree, opts.atts_since));
    const stored = opts.revs_info ? await this.storedRevs(id) : null;
    return addTreeInfo(doc, tree, rev, opts, (x) => stored?.has(x) === true);
  }

  /** Inlines attachment bodies (attachments=true), keeping stubs for revpos <= since. */
  private async inline(atts: Record<string, AttStub>, since: number): Promise<Doc> {
    const wanted = Object.values(atts).filter((a) => a.revpos > since).map((a) => a.digest);
    const data = new Map<string, Buffer>();
    if (wanted.length) {
      const res = await this.q.query<{ digest: string; data: Buffer }>(
        named(`SELECT digest, data FROM "${this.schema}".attachments WHERE digest = ANY($1::text[])`, [wanted]),
      );
      for (const r of res.rows) data.set(r.digest, r.data);
    }
    const out: Doc = {};
    for (const [name, a] of Object.entries(atts)) {
      out[name] = a.revpos <= since
        ? (a as unknown as Doc)
        : { content_type: a.content_type, digest: a.digest, length: a.length, revpos: a.revpos, data: data.get(a.digest)?.toString('base64') ?? '' };
    }
    return out;
  }

  async get(id: string, opts: GetOptions = {}): Promise<Doc> {
    const row = await this.row(id);
    if (!row) throw new NotFound('missing');
    if (opts.rev === undefined) {
      if (row.deleted) throw new NotFound('deleted');
      return this.build(id, row.rev, row.body, false, row.tree, opts);
    }
    let rev = opts.rev;
    if (!parseRev(rev)) throw new BadRequest(`invalid rev "${rev.slice(0, 80)}"`, 'bad_request');
    if (opts.latest && revExists(row.tree, rev)) rev = latestLeaf(row.tree, rev);
    if (rev === row.rev) return this.build(id, rev, row.body, row.deleted, row.tree, opts);
    const rb = await this.revBody(id, rev);
    if (!rb) throw new NotFound('missing');
    return this.build(id, rev, rb.body, rb.deleted, row.tree, opts);
  }

  async openRevs(id: string, revs: string[] | 'all', opts: GetOptions, known?: PgDocRow | null): Promise<OpenRevResult[]> {
    const row = known === undefined ? await this.row(id) : (known ?? undefined);
    if (revs === 'all') {
      if (!row) return [];
      const out: OpenRevResult[] = [];
      for (const l of leaves(row.tree)) {
        const rb = await this.revBody(id, l.rev);
        if (rb) out.push({ ok: await this.build(id, l.rev, rb.body, rb.deleted, row.tree, opts) });
      }
      return out;
    }
    const out: OpenRevResult[] = [];
    for (const { asked, rev } of openRevsTargets(row?.tree ?? null, revs, opts.latest)) {
      const rb = !row || !rev ? undefined : rev === row.rev ? row : await this.revBody(id, rev);
      out.push(rb && row && rev ? { ok: await this.build(id, rev, rb.body, rb.deleted, row.tree, opts) } : { missing: asked });
    }
    return out;
  }

  async bulkGet(items: BulkGetRequestItem[], opts: { revs?: boolean; latest?: boolean; attachments?: boolean }): Promise<BulkGetResultItem[]> {
    const rows = await this.rows(items.flatMap((i) => (typeof i.id === 'string' ? [i.id] : [])));
    const out: BulkGetResultItem[] = [];
    for (const item of items) {
      const base: GetOptions = { revs: opts.revs, latest: opts.latest, attachments: opts.attachments, atts_since: item.atts_since };
      const err = (rev: string, reason: string) => ({ error: { id: item.id, rev, error: 'not_found', reason } });
      const row = typeof item.id === 'string' ? rows.get(item.id) : undefined;
      if (typeof item.id !== 'string') {
        out.push({ id: String(item.id), docs: [err(item.rev ?? 'undefined', 'missing')] });
      } else if (item.rev === undefined) {
        out.push({ id: item.id, docs: [row ? { ok: await this.build(item.id, row.rev, row.body, row.deleted, row.tree, base) } : err('undefined', 'missing')] });
      } else {
        const results = await this.openRevs(item.id, [item.rev], base, row ?? null);
        out.push({ id: item.id, docs: results.map((r) => ('ok' in r ? r : err(r.missing, 'missing'))) });
      }
    }
    return out;
  }

  async revsDiff(request: Record<string, string[]>): Promise<Record<string, { missing: string[]; possible_ancestors?: string[] }>> {
    for (const [id, revs] of Object.entries(request)) {
      if (!Array.isArray(revs)) throw new BadRequest(`_revs_diff: the value for "${id.slice(0, 80)}" must be an array of revs`);
    }
    const rows = await this.rows(Object.keys(request));
    const out: Record<string, { missing: string[]; possible_ancestors?: string[] }> = {};
    for (const [id, revs] of Object.entries(request)) {
      const diff = revsDiffOf(rows.get(id)?.tree ?? null, revs);
      if (diff) out[id] = diff;
    }
    return out;
  }

  async allDocs(opts: AllDocsOptions): Promise<AllDocsResult> {
    const countRes = await this.q.query<{ n: string }>(named(`SELECT count(*) AS n FROM ${this.t.docs} WHERE NOT deleted`, []));
    const total = Number(countRes.rows[0]?.n ?? 0);
    const toRow = async (r: PgDocRow): Promise<AllDocsRow> => {
      const row: AllDocsRow = { id: r.id, key: r.id, value: { rev: r.rev } };
      if (r.deleted) row.value = { rev: r.rev, deleted: true };
      if (opts.include_docs) row.doc = r.deleted ? null : await this.build(r.id, r.rev, r.body, false, r.tree, { conflicts: opts.conflicts });
      return row;
    };
    if (opts.keys) {
      const found = await this.rows(opts.keys.filter((k) => typeof k === 'string'));
      const rows: AllDocsRow[] = [];
      for (const key of opts.keys) {
        const r = typeof key === 'string' ? found.get(key) : undefined;
        rows.push(r ? await toRow(r) : { key, error: 'not_found' });
      }
      return { total_rows: total, offset: 0, rows };
    }
    const where = ['NOT deleted'];
    const params: unknown[] = [];
    const desc = opts.descending === true;
    const bound = (op: '<' | '<=' | '>' | '>=', key: string) => {
      const b = idBound(op, key);
      params.push(b.key);
      where.push(`id ${b.op} $${params.length}`);
    };
    if (opts.startkey !== undefined) bound(desc ? '<=' : '>=', opts.startkey);
    if (opts.endkey !== undefined) {
      const incl = opts.inclusive_end !== false;
      bound(desc ? (incl ? '>=' : '>') : incl ? '<=' : '<', opts.endkey);
    }
    if (opts.skipDesign) where.push(`NOT (id >= '_design/' AND id < '_design0')`);
    params.push(limitOf(opts.limit), opts.skip ?? 0);
    const res = await this.q.query<PgDocRow>(named(
      `SELECT ${COLUMNS} FROM ${this.t.docs} WHERE ${where.join(' AND ')} ORDER BY id ${desc ? 'DESC' : 'ASC'} LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    ));
    const rows: AllDocsRow[] = [];
    for (const r of res.rows) rows.push(await toRow(r));
    return { total_rows: total, offset: opts.skip ?? 0, rows };
  }

  /** One page of changes after `since` (a number); filters are SQL so paging stays right. */
  async changes(sinceNum: number, opts: ChangesOptions, filter: { sql: string; params: unknown[] } | null): Promise<{ results: ChangeRow[]; last: number; pending: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (!opts.descending) {
      params.push(sinceNum);
      where.push(`seq > $${params.length}`);
    }
    if (opts.doc_ids) {
      params.push(opts.doc_ids);
      where.push(`id = ANY($${params.length}::text[])`);
    }
    if (filter) {
      where.push(`(${filter.sql})`);
      params.push(...filter.params);
    }
    params.push(limitOf(opts.limit));
    const text = 
      `SELECT ${COLUMNS} FROM ${this.t.docs} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${opts.descending ? 'DESC' : 'ASC'} LIMIT $${params.length}`;
    // a selector makes a text of its own: not worth a prepared statement on every connection
    const res = await this.q.query<PgDocRow>(filter ? { text, values: params, types: jsonbTypes } : named(text, params));
    const results: ChangeRow[] = [];
    for (const r of res.rows) {
      const revs = opts.style === 'all_docs' ? leaves(r.tree).map((l) => ({ rev: l.rev })) : [{ rev: r.rev }];
      const change: ChangeRow = { seq: formatSeq(this.t, r.seq), id: r.id, changes: revs };
      if (r.deleted) change.deleted = true;
      if (opts.include_docs) change.doc = await this.build(r.id, r.rev, r.body, r.deleted, r.tree, { conflicts: opts.conflicts });
      results.push(change);
    }
    const lastRow = res.rows[res.rows.length - 1];
    const last = lastRow ? Number(lastRow.seq) : opts.descending ? 0 : sinceNum;
    let pending = 0;
    if (!opts.descending && lastRow && opts.limit !== undefined && opts.limit >= 0) {
      const p = await this.q.query<{ n: string }>(named(`SELECT count(*) AS n FROM ${this.t.docs} WHERE seq > $1`, [last]));
      pending = Number(p.rows[0]?.n ?? 0);
    }
    return { results, last, pending };
  }

  async getLocal(id: string): Promise<Doc> {
    const res = await this.q.query<{ rev: string; body: Doc }>(named(`SELECT rev, body FROM ${this.t.local} WHERE id = $1`, [id]));
    const row = res.rows[0];
    if (!row) throw new NotFound('missing');
    return { _id: `_local/${id}`, _rev: row.rev, ...row.body };
  }

  /** Every _local document of the doctype, by id (a move between engines copies them). */
  async localDocs(): Promise<Doc[]> {
    const res = await this.q.query<{ id: string; rev: string; body: Doc }>(named(`SELECT id, rev, body FROM ${this.t.local} ORDER BY id`, []));
    return res.rows.map((row) => ({ _id: `_local/${row.id}`, _rev: row.rev, ...row.body }));
  }
}
