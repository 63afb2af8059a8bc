/**
 * Document attachments: bodies are stored once per digest (md5, CouchDB's
 * "md5-<base64>") in the instance database; revisions hold stubs and a reference
 * row each, and a body is deleted when no revision refers to it any more.
 */
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { BadRequest, PayloadTooLarge, PreconditionFailed } from '../../common/errors.js';
import type { Json } from '../store.js';
import { prep } from './db.js';

export interface AttStub {
  content_type: string;
  digest: string;
  length: number;
  revpos: number;
  stub: true;
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** What processing attachments needs of a store: the length of a stored body (undefined if absent), and storing one. */
export interface AttachmentBodies {
  length(digest: string): number | undefined;
  store(digest: string, data: Buffer): void;
}

/**
 * Turns the `_attachments` of an incoming revision into stubs, storing new bodies.
 * `parentAtts` are the stubs of the parent revision (for `stub: true` entries).
 */
export function processAttachments(
  db: Database.Database,
  incoming: Json | undefined,
  parentAtts: Record<string, AttStub> | null,
  revpos: number,
  maxBytes: number,
  /** Replicated revisions keep the revpos they come with. */
  keepRevpos = false,
): Record<string, AttStub> | undefined {
  const bodies: AttachmentBodies = {
    length: (digest) => prep(db, 'SELECT length(data) FROM attachments WHERE digest = ?', true).get(digest) as number | undefined,
    store: (digest, data) => { prep(db, 'INSERT OR IGNORE INTO attachments (digest, data) VALUES (?, ?)').run(digest, data); },
  };
  return processAttachmentsWith(bodies, incoming, parentAtts, revpos, maxBytes, keepRevpos);
}

/** The digests of the stubs of an incoming `_attachments` (what `length` will be asked about). */
export function stubDigests(incoming: Json | undefined): string[] {
  if (!incoming || typeof incoming !== 'object' || Array.isArray(incoming)) return [];
  return Object.values(incoming).flatMap((a) => (a && typeof a === 'object' && !Array.isArray(a) && typeof a.digest === 'string' ? [a.digest] : []));
}

/** processAttachments on any store of bodies (the PostgreSQL engine's reads them beforehand). */
export function processAttachmentsWith(
  bodies: AttachmentBodies,
  incoming: Json | undefined,
  parentAtts: Record<string, AttStub> | null,
  revpos: number,
  maxBytes: number,
  keepRevpos = false,
): Record<string, AttStub> | undefined {
  if (incoming === undefined || incoming === null) return undefined;
  if (typeof incoming !== 'object' || Array.isArray(incoming)) throw new BadRequest('_attachments must be an object', 'doc_validation');
  const out: Record<string, AttStub> = {};
  let total = 0;
  for (const [name, raw] of Object.entries(incoming)) {
    if (!name || name.startsWith('_')) throw new BadRequest(`invalid attachment name "${name}"`, 'doc_validation');
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new BadRequest(`attachment "${name}" must be an object`, 'doc_validation');
    const att = raw as Record<string, Json>;
    const contentType = typeof att.content_type === 'string' ? att.content_type : 'application/octet-stream';
    if (typeof att.data === 'string') {
      if (!B64.test(att.data) || att.data.length % 4 !== 0) throw new BadRequest(`attachment "${name}": data is not valid base64`, 'bad_request');
      const data = Buffer.from(att.data, 'base64');
      total += data.length;
      if (total > maxBytes) throw new PayloadTooLarge(`the attachments of this document are larger than the limit of ${maxBytes} bytes`);
      const digest = 'md5-' + createHash('md5').update(data).digest('base64');
      bodies.store(digest, data);
      out[name] = { content_type: contentType, digest, length: data.length, revpos: keepRevpos && typeof att.revpos === 'number' ? att.revpos : revpos, stub: true };
    } else if (att.stub === true) {
      const prev = parentAtts?.[name];
      const digest = typeof att.digest === 'string' ? att.digest : prev?.digest;
      // the parent's own attachment needs no look-up
      const stored = !digest || prev?.digest === digest ? undefined : bodies.length(digest);
      if (!digest || (prev?.digest !== digest && stored === undefined)) {
        throw new PreconditionFailed(`Invalid attachment stub in ${name}: no such attachment in the parent revision`, 'missing_stub');
      }
      const length = prev?.digest === digest ? prev.length : (stored ?? 0);
      total += length;
      if (total > maxBytes) throw new PayloadTooLarge(`the attachments of this document are larger than the limit of ${maxBytes} bytes`);
      out[name] = {
        content_type: typeof att.content_type === 'string' ? att.content_type : (prev?.content_type ?? contentType),
        digest,
        length,
        revpos: prev?.digest === digest ? prev.revpos : typeof att.revpos === 'number' ? att.revpos : revpos,
        stub: true,
      };
    } else {
      throw new BadRequest(`attachment "${name}" needs "data" (base64) or "stub": true`, 'doc_validation');
    }
  }
  return out;
}

export function addRefs(db: Database.Database, num: number, id: string, rev: string, atts: Record<string, AttStub> | undefined): void {
  if (!atts) return;
  const stmt = prep(db, 'INSERT OR IGNORE INTO att_refs (digest, num, id, rev) VALUES (?, ?, ?, ?)');
  for (const a of Object.values(atts)) stmt.run(a.digest, num, id, rev);
}

/** Drops the references of revisions whose bodies are gone, and bodies nobody refers to. */
export function dropRefs(db: Database.Database, num: number, id: string, revs: string[]): void {
  if (revs.length === 0) return;
  const digests = new Set<string>();
  const sel = prep(db, 'SELECT digest FROM att_refs WHERE num = ? AND id = ? AND rev = ?', true);
  const del = prep(db, 'DELETE FROM att_refs WHERE num = ? AND id = ? AND rev = ?');
  for (const rev of revs) {
    for (const d of sel.all(num, id, rev) as string[]) digests.add(d);
    del.run(num, id, rev);
  }
  const gc = prep(db, 'DELETE FROM attachments WHERE digest = ? AND NOT EXISTS (SELECT 1 FROM att_refs WHERE digest = ?)');
  for (const d of digests) gc.run(d, d);
}

export function readAttachment(db: Database.Database, digest: string): Buffer | null {
  return (prep(db, 'SELECT data FROM attachments WHERE digest = ?', true).get(digest) as Buffer | undefined) ?? null;
}

/** Inlines attachment bodies (attachments=true), keeping stubs for revpos <= since. */
export function inlineAttachments(db: Database.Database, atts: Record<string, AttStub>, sinceRevpos = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(atts)) {
    if (a.revpos <= sinceRevpos) {
      out[name] = a;
      continue;
    }
    const data = readAttachment(db, a.digest);
    out[name] = { content_type: a.content_type, digest: a.digest, length: a.length, revpos: a.revpos, data: data ? data.toString('base64') : '' };
  }
  return out;
}
