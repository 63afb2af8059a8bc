/**
 * Writing revisions (inside a WriteQueue transaction). `writeNewEdit` is an
 * ordinary edit (new rev from a parent, 409 on a stale parent); `writeReplicated`
 * inserts a revision with its history as a replicator sends it (new_edits=false).
 */
import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { BadRequest, Conflict } from '../../common/errors.js';
import type { DocEvent } from '../../common/bus.js';
import { validateDocId } from '../doctype.js';
import type { Doc, Json } from '../store.js';
import { addRefs, dropRefs, processAttachments, type AttStub } from './attachments.js';
import { nextSeq, prep, type DocRow, type DoctypeTables } from './db.js';
import {
  allRevs, leaves, mergePath, newRevHash, parseRev, pathFromRevisions, revExists, winningRev, type RevNode, type RevTree,
} from './revtree.js';


export interface WriteContext {
  db: Database.Database;
  t: DoctypeTables;
  domain: string;
  attachmentMaxBytes: number;
  events: DocEvent[];
  /** Called when a design doc is written, to keep SQL indexes in step. */
  onDesignDoc?: (id: string, body: Doc | null) => void;
}

const ALLOWED_SPECIAL = new Set(['_id', '_rev', '_deleted', '_attachments', '_revisions', '_conflicts', '_deleted_conflicts', '_revs_info', '_local_seq', '_type']);

const MAX_DEPTH = 100;

function depthOf(v: unknown, limit: number): number {
  if (limit < 0 || v === null || typeof v !== 'object') return 0;
  let max = 0;
  for (const x of Array.isArray(v) ? v : Object.values(v)) max = Math.max(max, depthOf(x, limit - 1));
  return max + 1;
}

/** The stored body of a revision: the document without its special members. */
export function bodyOf(doc: Doc): Doc {
  if (depthOf(doc, MAX_DEPTH) > MAX_DEPTH) throw new BadRequest(`the document is nested deeper than ${MAX_DEPTH} levels`, 'doc_validation');
  const body: Doc = {};
  for (const [k, v] of Object.entries(doc)) {
    if (k.startsWith('_')) {
      if (!ALLOWED_SPECIAL.has(k)) throw new BadRequest(`Bad special document member: ${k}`, 'doc_validation');
      if (k !== '_attachments') continue;
    }
    body[k] = v;
  }
  return body;
}

// randomUUID draws from Node's cached entropy pool (randomBytes per id showed in profiles); 32 hex as cozy
export const generateId = (): string => randomUUID().replace(/-/g, '');

function getRow(ctx: WriteContext, id: string): DocRow | undefined {
  return prep(ctx.db, `SELECT * FROM ${ctx.t.docs} WHERE id = ?`).get(id) as DocRow | undefined;
}

function parentAttachments(ctx: WriteContext, id: string, rev: string | null): Record<string, AttStub> | null {
  if (!rev) return null;
  const body = prep(ctx.db, `SELECT body FROM ${ctx.t.revs} WHERE id = ? AND rev = ?`, true).get(id, rev) as string | undefined;
  if (!body) return null;
  return ((JSON.parse(body) as Doc)._attachments as unknown as Record<string, AttStub> | undefined) ?? null;
}

/** Stores a new tree: leaf bodies, the winner row, the seq, and the event. */
function save(ctx: WriteContext, id: string, prev: DocRow | undefined, tree: RevTree, newRev: string, body: Doc, deleted: boolean): void {
  const { db, t } = ctx;
  const bodyJson = JSON.stringify(body);
  prep(db, `INSERT OR REPLACE INTO ${t.revs} (id, rev, deleted, body) VALUES (?, ?, ?, ?)`).run(id, newRev, deleted ? 1 : 0, bodyJson);
  addRefs(db, t.num, id, newRev, body._attachments as unknown as Record<string, AttStub> | undefined);
  // keep bodies of leaves only (CouchDB keeps them after compaction; we compact at once)
  const leafRevs = new Set(leaves(tree).map((l) => l.rev));
  const stored = prep(db, `SELECT rev FROM ${t.revs} WHERE id = ?`, true).all(id) as string[];
  const gone = stored.filter((r) => !leafRevs.has(r));
  const delRev = prep(db, `DELETE FROM ${t.revs} WHERE id = ? AND rev = ?`);
  for (const r of gone) delRev.run(id, r);
  dropRefs(db, t.num, id, gone);

  const win = winningRev(tree);
  // the new revision usually wins: its row was just written, no need to read it back
  const winRow = win === newRev
    ? { deleted: deleted ? 1 : 0, body: bodyJson }
    : (prep(db, `SELECT deleted, body FROM ${t.revs} WHERE id = ? AND rev = ?`).get(id, win) as { deleted: number; body: string } | undefined);
  const winBody = winRow?.body ?? '{}';
  const winDeleted = winRow ? winRow.deleted === 1 : leaves(tree).find((l) => l.rev === win)?.opts.deleted === true;
  const seq = nextSeq(db, t);
  prep(db, `INSERT OR REPLACE INTO ${t.docs} (id, rev, deleted, seq, body, tree) VALUES (?, ?, ?, ?, ?, ?)`)
    .run(id, win, winDeleted ? 1 : 0, seq, winBody, JSON.stringify(tree));

  const wasLive = prev !== undefined && prev.deleted === 0;
  const verb = winDeleted ? 'DELETED' : wasLive ? 'UPDATED' : 'CREATED';
  const doc: Record<string, unknown> = { _id: id, _rev: win, ...(JSON.parse(winBody) as Doc) };
  if (winDeleted) doc._deleted = true;
  if (!(winDeleted && !wasLive && prev === undefined)) ctx.events.push(docEvent(ctx.domain, t.doctype, id, verb, doc, wasLive ? prev : undefined));
  if (id.startsWith('_design/') && ctx.onDesignDoc) ctx.onDesignDoc(id, winDeleted ? null : (JSON.parse(winBody) as Doc));
}

/** The bus event of a write; the previous winner (for `@event … !=` triggers) is parsed only if a listener reads it. */
function docEvent(domain: string, doctype: string, id: string, verb: DocEvent['verb'], doc: Record<string, unknown>, prev: DocRow | undefined): DocEvent {
  const event: DocEvent = { domain, doctype, id, verb, doc };
  if (!prev) return event;
  let old: Record<string, unknown> | undefined;
  return Object.defineProperty(event, 'old', {
    enumerable: true,
    get: () => (old ??= { _id: id, _rev: prev.rev, ...(JSON.parse(prev.body) as Doc) }),
  });
}

/** The id of an ordinary edit (generated when absent). */
export function newEditId(input: Doc): string {
  const id = input._id === undefined ? generateId() : validateDocId(input._id);
  if (id.startsWith('_local/')) throw new BadRequest('_local documents are written with PUT /_local/:id', 'illegal_docid');
  return id;
}

/** What an edit needs of the document's current state. */
export interface CurrentDoc {
  rev: string;
  deleted: boolean;
  tree: RevTree;
}

/** The parent revision and the position of an ordinary edit: Conflict when its _rev is stale or missing. */
export function editParent(input: Doc, prev: CurrentDoc | undefined): { parent: string | null; pos: number } {
  let parent: string | null = null;
  if (input._rev !== undefined) {
    if (!parseRev(input._rev)) throw new BadRequest(`invalid _rev "${String(input._rev).slice(0, 80)}": expected N-<32 hex>`, 'bad_request');
    parent = input._rev as string;
  }
  if (prev) {
    if (parent === null) {
      if (!prev.deleted) throw new Conflict();
      parent = prev.rev; // re-creating a deleted document extends its tombstone
    } else if (!leaves(prev.tree).some((l) => l.rev === parent)) {
      throw new Conflict();
    }
  } else if (parent !== null) {
    throw new Conflict();
  }
  return { parent, pos: parent ? (parseRev(parent)?.pos ?? 0) + 1 : 1 };
}

/** The new revision of an edit (its body's attachments already stubs) and the tree holding it: Conflict if it is no new leaf. */
export function editTree(tree: RevTree | null, parent: string | null, pos: number, body: Doc, deleted: boolean): { rev: string; tree: RevTree } {
  const hash = newRevHash(parent, body, deleted);
  const leaf: RevNode = [hash, { status: 'available', deleted }, []];
  const path = parent
    ? { pos: pos - 1, ids: [parseRev(parent)?.hash as string, { status: 'missing' }, [leaf]] as RevNode }
    : { pos: 1, ids: leaf };
  const merged = mergePath(tree, path);
  if (tree && merged.conflicts !== 'new_leaf') throw new Conflict();
  return { rev: `${pos}-${hash}`, tree: merged.tree };
}

/** An ordinary edit: returns the new rev, or throws Conflict. */
export function writeNewEdit(ctx: WriteContext, input: Doc): { id: string; rev: string; doc: Doc } {
  const id = newEditId(input);
  const deleted = input._deleted === true;
  const body = bodyOf(input);
  const prev = getRow(ctx, id);
  const tree = prev ? (JSON.parse(prev.tree) as RevTree) : null;
  const { parent, pos } = editParent(input, prev && tree ? { rev: prev.rev, deleted: prev.deleted !== 0, tree } : undefined);
  const atts = processAttachments(ctx.db, body._attachments, parentAttachments(ctx, id, parent), pos, ctx.attachmentMaxBytes);
  if (atts) body._attachments = atts as unknown as Json;
  else delete body._attachments;
  const edit = editTree(tree, parent, pos, body, deleted);
  save(ctx, id, prev, edit.tree, edit.rev, body, deleted);
  return { id, rev: edit.rev, doc: { ...body, _id: id, _rev: edit.rev } };
}

/** A replicated revision's id, rev and ancestry (newest first), from its _rev and _revisions. */
export function replicatedRevision(input: Doc): { id: string; rev: string; pos: number; start: number; ids: string[]; deleted: boolean } {
  const id = validateDocId(input._id);
  const parsed = parseRev(input._rev);
  if (!parsed) throw new BadRequest('new_edits=false needs a valid _rev on every document', 'bad_request');
  let start = parsed.pos;
  let ids = [parsed.hash];
  const revisions = input._revisions as { start?: unknown; ids?: unknown } | undefined;
  if (revisions !== undefined) {
    const okIds = Array.isArray(revisions.ids) && revisions.ids.length > 0 && revisions.ids.every((h) => typeof h === 'string' && /^[0-9a-f]{32}$/.test(h));
    if (!okIds || revisions.start !== parsed.pos || (revisions.ids as string[])[0] !== parsed.hash) {
      throw new BadRequest('_revisions does not match _rev', 'bad_request');
    }
    start = revisions.start as number;
    ids = (revisions.ids as string[]).slice(0, 1000);
  }
  return { id, rev: `${parsed.pos}-${parsed.hash}`, pos: parsed.pos, start, ids, deleted: input._deleted === true };
}

/** A replicated revision (new_edits=false): merged into the tree, never a conflict. */
export function writeReplicated(ctx: WriteContext, input: Doc): { id: string; rev: string } {
  const { id, rev, pos, start, ids, deleted } = replicatedRevision(input);
  const prev = getRow(ctx, id);
  const tree = prev ? (JSON.parse(prev.tree) as RevTree) : null;
  if (tree && revExists(tree, rev)) return { id, rev }; // already known (as a leaf or an ancestor)
  const body = bodyOf(input);
  const parentRev = ids.length > 1 ? `${start - 1}-${ids[1]}` : null;
  const atts = processAttachments(ctx.db, body._attachments, parentAttachments(ctx, id, parentRev), pos, ctx.attachmentMaxBytes, true);
  if (atts) body._attachments = atts as unknown as Json;
  else delete body._attachments;
  const merged = mergePath(tree, pathFromRevisions(start, ids, deleted));
  if (tree && !allRevs(merged.tree).has(rev)) return { id, rev }; // stemmed away: older than what we keep
  save(ctx, id, prev, merged.tree, rev, body, deleted);
  return { id, rev };
}

/** The next rev of a _local document, or Conflict (`current`: its stored rev, if any). */
export function localRev(current: string | undefined, given: Json | undefined, remove: boolean): string {
  if (current && given !== current) throw new Conflict();
  if (!current && remove) throw new Conflict();
  if (!current && given !== undefined && given !== null && given !== '0-0') throw new Conflict();
  return `0-${current ? Number(current.split('-')[1]) + 1 : 1}`;
}

/** _local documents: not replicated, not in changes; rev "0-N". */
export function writeLocal(ctx: WriteContext, id: string, input: Doc, remove: boolean): { id: string; rev: string } {
  const { db, t } = ctx;
  const row = prep(db, `SELECT rev FROM ${t.local} WHERE id = ?`).get(id) as { rev: string } | undefined;
  const rev = localRev(row?.rev, input._rev, remove);
  if (remove) {
    prep(db, `DELETE FROM ${t.local} WHERE id = ?`).run(id);
    return { id: `_local/${id}`, rev: '0-0' };
  }
  const body = { ...input };
  delete body._id;
  delete body._rev;
  prep(db, `INSERT OR REPLACE INTO ${t.local} (id, rev, body) VALUES (?, ?, ?)`).run(id, rev, JSON.stringify(body));
  return { id: `_local/${id}`, rev };
}
