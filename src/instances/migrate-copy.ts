/**
 * The engine-neutral copy of one instance's state from one engine to another, through the interfaces only
 * (DocStore, BlobStore), and its verification. Used by ./migrate.ts, which orders the passes.
 *
 * Documents: each doctype's changes feed, from a sequence on (the first pass from the start, the catch-up from where
 * the previous one stopped), every changed document with all its leaves, their revision histories and attachments
 * (one `bulkGet` per page of every leaf the `all_docs` feed lists, with `revs` and `attachments`), written with
 * `bulkDocs(new_edits=false)` as CouchDB's replicator does: the revision trees, conflicts and tombstones arrive as they
 * are; design documents too (the Mango indexes follow them).
 * `_local` documents are copied by the final pass (their revisions restart at 0-1: they are per-engine counters).
 * Blobs: every key of the namespace missing in the target is streamed across under the same key, its MD5 computed
 * on the way out and compared with the target's; keys removed meanwhile are removed from the target. The blobs an
 * export keeps (files/blobs/held.ts: no document names them any more) are keys of the namespace like the others, so
 * they move too and the export's later parts still find them (move/export/held.test.ts).
 */
import { createHash, hash } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Doc, DocStore } from '../data/store.js';
import type { BlobStore } from '../files/blobs/store.js';

const PAGE = 500;

export interface CopyCounters {
  docs: number;
  blobs: number;
  bytes: number;
}

export class MigrationFailed extends Error {}

/** Copies the doctype's changes after `since` ('0': all); returns the sequence to start the next pass from. */
export async function copyDoctype(src: DocStore, dst: DocStore, doctype: string, since: string, counters: CopyCounters, onPage: () => Promise<void>): Promise<string> {
  await dst.createDoctype(doctype);
  let seq = since;
  for (;;) {
    const page = await src.changes(doctype, { since: seq, limit: PAGE, style: 'all_docs' });
    if (page.results.length === 0) return seq;
    // every leaf of the page in one read, with its history and attachments
    const items = page.results.flatMap((row) => row.changes.map((c) => ({ id: row.id, rev: c.rev })));
    const docs: Doc[] = [];
    for (const item of await src.bulkGet(doctype, items, { revs: true, attachments: true })) {
      for (const leaf of item.docs) {
        // a leaf gone since the feed was read (compacted by a newer write): the next pass brings the newer one
        if ('ok' in leaf) docs.push(leaf.ok);
      }
    }
    const failed = (await dst.bulkDocs(doctype, docs, false)).filter((r) => r.error);
    if (failed[0]) throw new MigrationFailed(`${doctype}: the target refused ${failed.length} document(s), the first ${failed[0].id}: ${failed[0].error} ${failed[0].reason ?? ''}`);
    counters.docs += page.results.length;
    seq = page.last_seq;
    await onPage();
  }
}

/** Makes the target's `_local` documents of the doctype those of the source (ids and bodies). */
export async function copyLocalDocs(src: DocStore, dst: DocStore, doctype: string): Promise<void> {
  if (!src.localDocs || !dst.localDocs) throw new MigrationFailed('a document engine here cannot list _local documents (DocStore.localDocs)');
  const wanted = new Map((await src.localDocs(doctype)).map((d) => [localId(d), d]));
  for (const have of await dst.localDocs(doctype)) {
    if (!wanted.has(localId(have))) await dst.deleteLocal(doctype, localId(have), String(have._rev));
  }
  const current = new Map((await dst.localDocs(doctype)).map((d) => [localId(d), String(d._rev)]));
  for (const [id, doc] of wanted) {
    const body: Doc = { ...doc };
    delete body._id;
    const rev = current.get(id);
    if (rev === undefined) delete body._rev;
    else body._rev = rev;
    await dst.putLocal(doctype, id, body);
  }
}

const localId = (d: Doc): string => String(d._id).replace(/^_local\//, '');

/** Removes every document of the store (a target's partial copy, or a source's copy after the switch). */
export async function dropAllDocs(store: DocStore): Promise<void> {
  for (const doctype of await store.listDoctypes()) await store.dropDoctype(doctype);
}

/** What two engines must agree on for one doctype. */
export interface DoctypeDigest {
  doc_count: number;
  doc_del_count: number;
  /** Rows of the changes feed (one per document, deleted ones included). */
  rows: number;
  /** XOR of md5(id, sorted leaf revs) and of md5(id, winning rev, deleted) over every document: order-free. */
  checksum: string;
  local: string;
  indexes: string;
}

export async function digestDoctype(store: DocStore, doctype: string): Promise<DoctypeDigest> {
  const info = await store.info(doctype);
  const sum = Buffer.alloc(16);
  const mix = (text: string) => {
    const h = hash('md5', text, 'buffer');
    for (let i = 0; i < 16; i++) sum[i]! ^= h[i]!;
  };
  // one pass over every document's leaves; a document with one leaf has it as its winner, the others' winners are
  // read by id afterwards (few: the conflicted ones)
  let rows = 0;
  const several: string[] = [];
  let seq = '0';
  for (;;) {
    const page = await store.changes(doctype, { since: seq, limit: PAGE * 4, style: 'all_docs' });
    if (page.results.length === 0) break;
    for (const row of page.results) {
      rows++;
      const revs = row.changes.map((c) => c.rev).sort();
      mix(`${row.id}\n${revs.join(',')}`);
      if (revs.length === 1) mix(`w\n${row.id}\n${revs[0]}\n${row.deleted ? 1 : 0}`);
      else several.push(row.id);
    }
    seq = page.last_seq;
  }
  for (let i = 0; i < several.length; i += PAGE) {
    for (const row of (await store.changes(doctype, { since: '0', doc_ids: several.slice(i, i + PAGE), style: 'main_only' })).results) {
      mix(`w\n${row.id}\n${row.changes[0]?.rev ?? ''}\n${row.deleted ? 1 : 0}`);
    }
  }
  const locals = store.localDocs ? (await store.localDocs(doctype)).map((d) => canonical({ ...d, _rev: null })).sort() : [];
  const indexes = (await store.listIndexes(doctype)).indexes.map(canonical).sort();
  return {
    doc_count: info?.doc_count ?? 0, doc_del_count: info?.doc_del_count ?? 0, rows, checksum: sum.toString('hex'),
    local: sha(locals.join('\n')), indexes: sha(indexes.join('\n')),
  };
}

const sha = (s: string) => hash('sha256', s);

/** JSON with sorted keys: two engines may keep a document's keys in different orders. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export async function keySet(store: BlobStore, ns: string): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const key of store.keys(ns)) keys.add(key);
  return keys;
}

/**
 * Makes the target namespace hold the keys of the source's: copies the missing ones (streamed, MD5 compared),
 * removes those the source no longer has. `md5s` collects the MD5 (base64) of each blob copied.
 */
export async function syncBlobs(src: BlobStore, dst: BlobStore, ns: string, counters: CopyCounters, md5s: Map<string, string>, onBlob: () => Promise<void>): Promise<void> {
  const want = await keySet(src, ns);
  const have = await keySet(dst, ns);
  for (const key of have) if (!want.has(key)) await dst.remove(ns, key);
  const todo = [...want].filter((key) => !have.has(key));
  // a few at a time: each blob is made durable on its own (fsyncs), and their waits overlap
  const worker = async () => {
    try {
      for (let key = todo.pop(); key !== undefined; key = todo.pop()) await copyBlob(src, dst, ns, key, counters, md5s, onBlob);
    } catch (e) {
      todo.length = 0; // the other copies stop after the blob they are on
      throw e;
    }
  };
  const failed = (await Promise.allSettled(Array.from({ length: BLOB_COPIES }, worker))).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

const BLOB_COPIES = 4;

async function copyBlob(src: BlobStore, dst: BlobStore, ns: string, key: string, counters: CopyCounters, md5s: Map<string, string>, onBlob: () => Promise<void>): Promise<void> {
  const size = await src.size(ns, key);
  if (size === null) return; // removed since the listing
  const running = createHash('md5');
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      running.update(chunk);
      done(null, chunk);
    },
  });
  const write = dst.write(ns, tap, { maxBytes: Number.MAX_SAFE_INTEGER, expectedSize: size, key }).catch((e: unknown) => {
    tap.destroy(e instanceof Error ? e : new Error(String(e)));
    throw e;
  });
  const [info] = await Promise.all([write, pipeline(await src.read(ns, key), tap)]);
  const md5 = running.digest('base64');
  if (info.key !== key) {
    await dst.remove(ns, info.key);
    throw new MigrationFailed('the target blob engine does not keep the keys it is given (WriteOptions.key): it cannot receive a migration');
  }
  if (info.md5 !== md5 || info.size !== size) throw new MigrationFailed(`blob ${key}: the target stored ${info.size} bytes of MD5 ${info.md5}, the source has ${size} bytes of MD5 ${md5}`);
  md5s.set(key, md5);
  counters.blobs++;
  counters.bytes += size;
  await onBlob();
}

/** What two blob engines must agree on for one namespace: the keys and each one's size. */
export async function digestBlobs(store: BlobStore, ns: string): Promise<{ count: number; bytes: number; checksum: string }> {
  const keys = [...(await keySet(store, ns))].sort();
  const sizes = await Promise.all(keys.map((k) => store.size(ns, k)));
  return { count: keys.length, bytes: sizes.reduce<number>((n, s) => n + (s ?? 0), 0), checksum: sha(keys.map((k, i) => `${k} ${sizes[i]}`).join('\n')) };
}
