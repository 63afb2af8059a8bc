/**
 * Writing documents on PostgreSQL: the same rules as the SQLite engine (sqlite/write.ts, whose pure parts are shared),
 * inside a transaction of the store (store.ts); the rows are collected and sent in one statement (flushWrites), which
 * takes the doctype's row lock last, so that seqs follow commit order and no two writers wait on each other. Every
 * check that can refuse a document runs before its rows are collected: a refused document of a bulk write leaves
 * nothing behind, without a savepoint.
 */
import type { DocEvent } from '../../common/bus.js';
import { Conflict, HearthError } from '../../common/errors.js';
import type { QueryConfig } from 'pg';
import type { PgClient, Queryable } from '../../engines/postgres.js';
import type { Doc, Json } from '../store.js';
import { processAttachmentsWith, stubDigests, type AttStub } from '../sqlite/attachments.js';
import { allRevs, leaves, mergePath, pathFromRevisions, revExists, winningRev, type RevTree } from '../sqlite/revtree.js';
import { bodyOf, editParent, editTree, localRev, newEditId, replicatedRevision } from '../sqlite/write.js';
import { jsonb, named, type PgDocRow } from './query.js';
import type { PgTables } from './schema.js';
import { recordWriteCte } from './write-index.js';

/** The rows a transaction writes, sent in one statement by flushWrites (before COMMIT, or before a read that needs them). */
export interface PendingWrites {
  /** Leaf bodies to store, by `${id}\n${rev}`. */
  revs: Map<string, { id: string; rev: string; deleted: boolean; body: Doc }>;
  /** Bodies that are no leaf any more. */
  gone: Array<{ id: string; rev: string }>;
  /** Winner rows, by id (the last write of an id wins). */
  docs: Map<string, PgDocRow>;
  /** The docs rows as this transaction sees them (undefined: no such document), read FOR UPDATE or written. */
  known: Map<string, PgDocRow | undefined>;
  /** The ids this transaction creates (they had no row to lock). */
  created: Set<string>;
}

export const noPendingWrites = (): PendingWrites => ({ revs: new Map(), gone: [], docs: new Map(), known: new Map(), created: new Set() });

export interface PgWriteContext {
  c: PgClient;
  pending: PendingWrites;
  t: PgTables;
  schema: string;
  domain: string;
  attachmentMaxBytes: number;
  events: DocEvent[];
  /** Called when a design doc is written, to keep the Mango indexes in step. */
  onDesignDoc(id: string, body: Doc | null): Promise<void>;
  /** Benchmarks only (bench/write-index.bench.ts): the writes leave out the index of the writes (write-index.ts). */
  noWriteIndex?: boolean;
}

async function getRow(ctx: PgWriteContext, id: string): Promise<PgDocRow | undefined> {
  if (ctx.pending.known.has(id)) return ctx.pending.known.get(id);
  const res = await ctx.c.query<PgDocRow>(named(`SELECT id, rev, deleted, seq, body, tree FROM ${ctx.t.docs} WHERE id = $1 FOR UPDATE`, [id]));
  ctx.pending.known.set(id, res.rows[0]);
  return res.rows[0];
}

/** Reads (and locks) the rows of many documents in one query, before a bulk write. */
export async function prefetchRows(ctx: PgWriteContext, ids: string[]): Promise<void> {
  const wanted = [...new Set(ids)].filter((id) => !ctx.pending.known.has(id));
  if (wanted.length === 0) return;
  const res = await ctx.c.query<PgDocRow>(named(`SELECT id, rev, deleted, seq, body, tree FROM ${ctx.t.docs} WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, [wanted]));
  for (const id of wanted) ctx.pending.known.set(id, undefined);
  for (const row of res.rows) ctx.pending.known.set(row.id, row);
}

/**
 * The statement that sends the pending rows: the new leaf bodies, the bodies gone, the winner rows, and the doctype's
 * row. `alone`: the writes run as this one statement, outside any transaction (pgWriteAlone): the rows of the documents
 * it updates (`cas`) are locked first, and only if each is still the one the writes were computed from (its seq), and
 * the documents it creates must still have none; else the statement fails (LOST_RACE) and nothing of it is kept.
 */
function flushStatement(ctx: PgWriteContext, alone?: { cas: Array<{ id: string; seq: string }> }): { config: QueryConfig; count: number } {
  const { revs, gone, docs } = ctx.pending;
  const t = ctx.t;
  // the doctype's row gives the seqs (its lock, held to COMMIT, makes them follow commit order), in the order of the writes
  const rows = [...docs.values()].map((r, i) => ({ ...r, ord: i + 1 }));
  const doc = `SELECT x.id, x.rev, x.deleted, s.seq - $5 + x.ord, x.body, x.tree
    FROM jsonb_to_recordset($N::jsonb) AS x(id text, rev text, deleted boolean, ord bigint, body jsonb, tree jsonb), s`;
  // updates alone: their rows are locked before the doctype's, in id order, as a transaction's FOR UPDATE does (no deadlock between them)
  const cas = alone !== undefined && alone.cas.length > 0;
  const result = `(SELECT count(*) FROM s)::int AS locked, (SELECT count(*) FROM n)::int + (SELECT count(*) FROM u)::int AS written`;
  const text = `WITH ${cas ? `l AS (SELECT 1 FROM ${t.docs} WHERE (id, seq) IN (SELECT id, seq FROM jsonb_to_recordset($7::jsonb) AS x(id text, seq bigint))
      ORDER BY id FOR UPDATE), ` : ''}s AS (
      UPDATE "${ctx.schema}".doctypes SET seq = seq + $5 WHERE num = $6${cas ? ' AND (SELECT count(*) FROM l) = $8' : ''} RETURNING seq
    ), r AS (
      INSERT INTO ${t.revs} (id, rev, deleted, body) SELECT id, rev, deleted, body FROM jsonb_to_recordset($1::jsonb) AS x(id text, rev text, deleted boolean, body jsonb)
      ON CONFLICT (id, rev) DO UPDATE SET deleted = EXCLUDED.deleted, body = EXCLUDED.body
    ), g AS (
      DELETE FROM ${t.revs} WHERE (id, rev) IN (SELECT id, rev FROM jsonb_to_recordset($2::jsonb) AS x(id text, rev text))
    ), n AS (
      INSERT INTO ${t.docs} (id, rev, deleted, seq, body, tree) ${doc.replace('$N', '$3')}
      ON CONFLICT (id) DO NOTHING RETURNING 1
    ), u AS (
      INSERT INTO ${t.docs} (id, rev, deleted, seq, body, tree) ${doc.replace('$N', '$4')}
      ON CONFLICT (id) DO UPDATE SET rev = EXCLUDED.rev, deleted = EXCLUDED.deleted, seq = EXCLUDED.seq, body = EXCLUDED.body, tree = EXCLUDED.tree
      RETURNING 1
    ), ${ctx.noWriteIndex ? `w AS (SELECT ${cas ? '$9::text' : '$7::text'})` : recordWriteCte(ctx.schema, t.num, cas ? '$9::text' : '$7::text')}
    ${alone
    // not both counts as expected: a cast that cannot succeed fails the statement, so that it writes nothing
    ? `SELECT CASE WHEN c.locked = 1 AND c.written = $5 THEN 1 ELSE ('${LOST_RACE} ' || c.locked || ' ' || c.written)::int END AS ok FROM (SELECT ${result}) c`
    : `SELECT ${result}`}`;
  const created = ctx.pending.created;
  const values = [
    jsonb([...revs.values()]), jsonb(gone), jsonb(rows.filter((r) => created.has(r.id))), jsonb(rows.filter((r) => !created.has(r.id))), rows.length, t.num,
    ...(cas && alone ? [jsonb(alone.cas), alone.cas.length] : []), t.doctype,
  ];
  revs.clear();
  gone.length = 0;
  docs.clear();
  return { config: named(text, values), count: rows.length };
}

/** Sends the pending rows in one statement of the transaction (see flushStatement). */
export async function flushWrites(ctx: PgWriteContext): Promise<void> {
  const { revs, gone, docs } = ctx.pending;
  if (revs.size === 0 && gone.length === 0 && docs.size === 0) return;
  const { config, count } = flushStatement(ctx);
  const res = await ctx.c.query<{ locked: number; written: number }>(config);
  // the doctype was dropped meanwhile by another process: the store starts over
  if (res.rows[0]?.locked !== 1) throw new StaleDoctype();
  // a document this transaction created was created meanwhile by another one (no row to lock before): start over
  if (res.rows[0]?.written !== count) throw new CreatedMeanwhile();
}

/** The mark of a write alone's statement that found its document changed (or its doctype gone): it wrote nothing. */
const LOST_RACE = 'hearth: the write lost a race';

/** A write alone cannot be done so (it needs more than its one statement, or it lost a race): a transaction does it. */
export class NeedsTransaction extends Error {}

/** The `c` of a write computed outside a transaction: a write that would need any query of its own goes to a transaction. */
const NO_QUERIES = { query: () => Promise.reject(new NeedsTransaction()) } as unknown as PgClient;

/** What became of one put of a batch: written, or refused (and then nothing of it was written). */
export type PutOutcome = { ok: { id: string; rev: string; doc: Doc } } | { refused: HearthError };

const outcomeOf = (p: Promise<{ id: string; rev: string; doc: Doc }>): Promise<PutOutcome> => p.then((ok) => ({ ok }), (err: unknown) => {
  if (err instanceof HearthError) return { refused: err };
  throw err;
});

/**
 * Ordinary edits of documents as one statement, outside any transaction (acknowledged once it committed): creations
 * (no _rev) in one round trip, assuming there is no such document yet; updates in two, their rows read then written
 * only if unchanged. A refused edit (409, 400) writes nothing and does not stop the others. Throws NeedsTransaction
 * when an edit needs more (attachments, a design doc, conflicting leaves) or when a document changed meanwhile; the
 * caller then writes them in a transaction (pgWriteNewEdit).
 */
export async function pgWriteAlone(q: Queryable, ctx: Omit<PgWriteContext, 'c' | 'pending' | 'onDesignDoc'>, inputs: Doc[]): Promise<PutOutcome[]> {
  const updated = [...new Set(inputs.flatMap((d) => (d._rev !== undefined && typeof d._id === 'string' ? [d._id] : [])))];
  const read = updated.length === 0
    ? []
    : (await q.query<PgDocRow>(named(`SELECT id, rev, deleted, seq, body, tree FROM ${ctx.t.docs} WHERE id = ANY($1::text[])`, [updated]))).rows;
  const pending = noPendingWrites();
  for (const row of read) pending.known.set(row.id, row);
  const alone: PgWriteContext = { ...ctx, c: NO_QUERIES, pending, onDesignDoc: () => Promise.reject(new NeedsTransaction()) };
  const outcomes: PutOutcome[] = [];
  for (const input of inputs) {
    outcomes.push(await outcomeOf((async () => {
      const id = newEditId(input);
      if (!pending.known.has(id)) pending.known.set(id, undefined); // a creation, or an update of a document that is not there
      return pgWriteNewEdit(alone, { ...input, _id: id });
    })()));
  }
  if (pending.docs.size === 0) return outcomes; // all refused
  const { config } = flushStatement(alone, { cas: read.map((r) => ({ id: r.id, seq: r.seq })) });
  try {
    await q.query(config);
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    // lost its race (22P02: LOST_RACE's cast), or a deadlock with a transaction: the transaction path decides
    if ((e.code === '22P02' && String(e.message).includes(LOST_RACE)) || e.code === '40P01') throw new NeedsTransaction();
    throw err;
  }
  return outcomes;
}

/** The doctype's row was gone when the write came (dropped by another process): the write starts over. */
export class StaleDoctype extends Error {}

/** Two transactions created the same document: the one that finds the other's row starts over (store.ts), and then sees it. */
export class CreatedMeanwhile extends Error {}

async function parentAttachments(ctx: PgWriteContext, id: string, rev: string | null): Promise<Record<string, AttStub> | null> {
  if (!rev) return null;
  const pending = ctx.pending.revs.get(`${id}\n${rev}`);
  if (pending) return (pending.body._attachments as unknown as Record<string, AttStub> | undefined) ?? null;
  const res = await ctx.c.query<{ atts: Record<string, AttStub> | null }>(
    named(`SELECT body->'_attachments' AS atts FROM ${ctx.t.revs} WHERE id = $1 AND rev = $2`, [id, rev]),
  );
  return res.rows[0]?.atts ?? null;
}

/** Turns the incoming `_attachments` into stubs (sqlite/attachments.ts's rules); the new bodies are returned to store. */
async function attachments(ctx: PgWriteContext, id: string, body: Doc, parent: string | null, revpos: number, replicated: boolean): Promise<Array<[string, Buffer]>> {
  const incoming = body._attachments;
  if (incoming === undefined || incoming === null) {
    delete body._attachments;
    return [];
  }
  const digests = stubDigests(incoming);
  const stored = new Map<string, number>();
  if (digests.length) {
    const res = await ctx.c.query<{ digest: string; len: number }>(
      named(`SELECT digest, length(data) AS len FROM "${ctx.schema}".attachments WHERE digest = ANY($1)`, [digests]),
    );
    for (const r of res.rows) stored.set(r.digest, r.len);
  }
  const fresh: Array<[string, Buffer]> = [];
  const bodies = { length: (d: string) => stored.get(d), store: (d: string, data: Buffer) => void fresh.push([d, data]) };
  const parentAtts = typeof incoming === 'object' ? await parentAttachments(ctx, id, parent) : null;
  const atts = processAttachmentsWith(bodies, incoming, parentAtts, revpos, ctx.attachmentMaxBytes, replicated);
  if (atts) body._attachments = atts as unknown as Json;
  else delete body._attachments;
  return fresh;
}

/** Stores a new tree: the new leaf's body (and attachments), the bodies that are no leaf any more go, the winner row, the event. */
async function save(ctx: PgWriteContext, id: string, prev: PgDocRow | undefined, tree: RevTree, newRev: string, body: Doc, deleted: boolean, fresh: Array<[string, Buffer]>): Promise<void> {
  const { c, t, schema } = ctx;
  const s = `"${schema}"`;
  for (const [digest, data] of fresh) {
    await c.query(named(`INSERT INTO ${s}.attachments (digest, data) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [digest, data]));
  }
  const atts = body._attachments as unknown as Record<string, AttStub> | undefined;
  if (atts) {
    const digests = [...new Set(Object.values(atts).map((a) => a.digest))];
    await c.query(named(`INSERT INTO ${s}.att_refs (digest, num, id, rev) SELECT d, $2, $3, $4 FROM unnest($1::text[]) AS d ON CONFLICT DO NOTHING`, [digests, t.num, id, newRev]));
  }
  // keep bodies of leaves only (CouchDB keeps them after compaction; we compact at once)
  const { pending } = ctx;
  pending.revs.set(`${id}\n${newRev}`, { id, rev: newRev, deleted, body });
  const leafRevs = new Set(leaves(tree).map((l) => l.rev));
  const gone = prev ? leaves(prev.tree).map((l) => l.rev).filter((r) => !leafRevs.has(r)) : [];
  for (const rev of gone) {
    // a body written earlier in this transaction is simply not sent
    if (!pending.revs.delete(`${id}\n${rev}`)) pending.gone.push({ id, rev });
  }
  const win = winningRev(tree);
  let winBody = body;
  let winDeleted = deleted;
  if (win !== newRev) {
    const row = pending.revs.get(`${id}\n${win}`)
      ?? (await c.query<{ deleted: boolean; body: Doc }>(named(`SELECT deleted, body FROM ${t.revs} WHERE id = $1 AND rev = $2`, [id, win]))).rows[0];
    winBody = row?.body ?? {};
    winDeleted = row ? row.deleted : leaves(tree).find((l) => l.rev === win)?.opts.deleted === true;
  }
  // its seq comes when the rows are sent (flushWrites), in the order of the writes: a document written again moves last
  const written: PgDocRow = { id, rev: win, deleted: winDeleted, seq: '0', body: winBody, tree };
  pending.docs.delete(id);
  pending.docs.set(id, written);
  if (prev === undefined) pending.created.add(id);
  pending.known.set(id, written);
  // the references of the revisions gone, and the bodies nobody refers to any more (a winner without attachments had none)
  const mayHaveRefs = gone.some((r) => r !== prev?.rev || prev.body._attachments !== undefined);
  if (mayHaveRefs) {
    await c.query(named(`WITH g AS (DELETE FROM ${s}.att_refs WHERE num = $1 AND id = $2 AND rev = ANY($3::text[]) RETURNING digest)
      DELETE FROM ${s}.attachments a WHERE a.digest IN (SELECT digest FROM g)
        AND NOT EXISTS (SELECT 1 FROM ${s}.att_refs r WHERE r.digest = a.digest AND NOT (r.num = $1 AND r.id = $2 AND r.rev = ANY($3::text[])))`,
    [t.num, id, gone]));
  }

  const wasLive = prev !== undefined && !prev.deleted;
  const verb = winDeleted ? 'DELETED' : wasLive ? 'UPDATED' : 'CREATED';
  const doc: Record<string, unknown> = { _id: id, _rev: win, ...winBody };
  if (winDeleted) doc._deleted = true;
  if (!(winDeleted && !wasLive && prev === undefined)) {
    const event: DocEvent = { domain: ctx.domain, doctype: t.doctype, id, verb, doc };
    if (wasLive) Object.assign(event, { old: { _id: id, _rev: prev.rev, ...prev.body } });
    ctx.events.push(event);
  }
  if (id.startsWith('_design/')) await ctx.onDesignDoc(id, winDeleted ? null : winBody);
}

/** An ordinary edit: returns the new rev, or throws Conflict. */
export async function pgWriteNewEdit(ctx: PgWriteContext, input: Doc): Promise<{ id: string; rev: string; doc: Doc }> {
  const id = newEditId(input);
  const deleted = input._deleted === true;
  const body = bodyOf(input);
  const prev = await getRow(ctx, id);
  const { parent, pos } = editParent(input, prev);
  const fresh = await attachments(ctx, id, body, parent, pos, false);
  const edit = editTree(prev?.tree ?? null, parent, pos, body, deleted);
  await save(ctx, id, prev, edit.tree, edit.rev, body, deleted, fresh);
  return { id, rev: edit.rev, doc: { ...body, _id: id, _rev: edit.rev } };
}

/** A replicated revision (new_edits=false): merged into the tree, never a conflict. */
export async function pgWriteReplicated(ctx: PgWriteContext, input: Doc): Promise<{ id: string; rev: string }> {
  const { id, rev, pos, start, ids, deleted } = replicatedRevision(input);
  const prev = await getRow(ctx, id);
  const tree = prev?.tree ?? null;
  if (tree && revExists(tree, rev)) return { id, rev }; // already known (as a leaf or an ancestor)
  const body = bodyOf(input);
  const fresh = await attachments(ctx, id, body, ids.length > 1 ? `${start - 1}-${ids[1]}` : null, pos, true);
  const merged = mergePath(tree, pathFromRevisions(start, ids, deleted));
  if (tree && !allRevs(merged.tree).has(rev)) return { id, rev }; // stemmed away: older than what we keep
  await save(ctx, id, prev, merged.tree, rev, body, deleted, fresh);
  return { id, rev };
}

/** _local documents: not replicated, not in changes; rev "0-N". */
export async function pgWriteLocal(ctx: PgWriteContext, id: string, input: Doc, remove: boolean): Promise<{ id: string; rev: string }> {
  const { c, t } = ctx;
  const res = await c.query<{ rev: string }>(named(`SELECT rev FROM ${t.local} WHERE id = $1 FOR UPDATE`, [id]));
  const current = res.rows[0]?.rev;
  const rev = localRev(current, input._rev, remove);
  if (remove) {
    await c.query(named(`DELETE FROM ${t.local} WHERE id = $1`, [id]));
    return { id: `_local/${id}`, rev: '0-0' };
  }
  const body = { ...input };
  delete body._id;
  delete body._rev;
  const written = current === undefined
    // no row to lock: of two writers creating it, the second finds the first's row and gets the same 409 as on a stale rev
    ? await c.query(named(`INSERT INTO ${t.local} (id, rev, body) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`, [id, rev, jsonb(body)]))
    : await c.query(named(`UPDATE ${t.local} SET rev = $2, body = $3 WHERE id = $1`, [id, rev, jsonb(body)]));
  if (written.rowCount !== 1) throw new Conflict();
  return { id: `_local/${id}`, rev };
}
