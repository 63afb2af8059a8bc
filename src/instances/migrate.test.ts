/**
 * Moving an instance between two real engines of each kind: two SQLite document factories in two folders, two local
 * blob stores in two roots (instances/migrate.ts only uses the interfaces, so any pair behaves the same way).
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBus } from '../common/bus.js';
import type { HearthError } from '../common/errors.js';
import { InProcessInvalidation } from '../common/invalidation.js';
import { SqliteDocStoreFactory } from '../data/sqlite/factory.js';
import type { Doc, DocStore, DocStoreFactory } from '../data/store.js';
import { LocalBlobStore } from '../files/blobs/local.js';
import type { BlobInfo, WriteOptions } from '../files/blobs/store.js';
import { SqliteInstanceEngines } from './engines-sqlite.js';
import { Migrations, type MigrationProgress } from './migrate.js';
import { EngineRouter, type BlobEngine } from './routing.js';
import type { Instance } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-migrate-'));
const bus = new InProcessBus();
const docs = new Map<string, DocStoreFactory>();
const blobs = new Map<string, BlobEngine>();
const engines = new SqliteInstanceEngines(join(dir, 'registry.sqlite'));
const router = new EngineRouter(engines, { docs, blobs }, new InProcessInvalidation());
const migrations = new Migrations(router);
for (const side of ['a', 'b']) {
  docs.set(`sqlite-${side}`, new SqliteDocStoreFactory(join(dir, side), router.busFor(`sqlite-${side}`, bus), { attachmentMaxBytes: 8 << 20, groupCommitMs: 0 }));
  blobs.set(`local-${side}`, { files: new LocalBlobStore(join(dir, side, 'blobs')), thumbs: new LocalBlobStore(join(dir, side, 'blobs'), 'thumbs') });
}
const instance = { id: randomUUID().replace(/-/g, ''), domain: 'alice.example.org' } as Instance;
const A = { docs: 'sqlite-a', blobs: 'local-a' };
const B = { docs: 'sqlite-b', blobs: 'local-b' };
const storeOn = (name: string): DocStore => docs.get(name)!.open(instance.domain, instance.id);

afterAll(async () => {
  for (const f of docs.values()) await f.close();
  for (const b of blobs.values()) await Promise.all([b.files.close(), b.thumbs.close()]);
  router.close();
  await engines.close();
  rmSync(dir, { recursive: true, force: true });
});

const CONTACTS = 'io.cozy.contacts';
const NOTES = 'io.cozy.notes';
const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');

/** A rich instance: 1,200 contacts (three pages), updates, deletions, conflicts, attachments, _local docs, indexes, blobs. */
async function fill(store: DocStore, engine: BlobEngine): Promise<void> {
  const contacts = Array.from({ length: 1200 }, (_, i) => ({ _id: `c${String(i).padStart(4, '0')}`, name: `Person ${i}`, n: i }));
  const written = await store.bulkDocs(CONTACTS, contacts, true);
  for (const [i, w] of written.slice(0, 100).entries()) await store.put(CONTACTS, { _id: w.id, _rev: w.rev!, name: `Renamed ${i}`, n: i });
  for (const w of written.slice(100, 150)) await store.put(CONTACTS, { _id: w.id, _rev: w.rev!, _deleted: true });
  // a conflict: two branches of one document, and a deleted conflict
  const conflicts = await store.bulkDocs(NOTES, [
    { _id: 'conflicted', _rev: '2-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', text: 'left', _revisions: { start: 2, ids: ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee'] } },
    { _id: 'conflicted', _rev: '2-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', text: 'right', _revisions: { start: 2, ids: ['bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee'] } },
    { _id: 'conflicted', _rev: '3-cccccccccccccccccccccccccccccccc', _deleted: true, _revisions: { start: 3, ids: ['cccccccccccccccccccccccccccccccc', 'dddddddddddddddddddddddddddddddd', 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee'] } },
  ], false);
  expect(conflicts.filter((r) => r.error)).toEqual([]);
  await store.put(NOTES, { _id: 'with-attachment', _attachments: { 'a.txt': { content_type: 'text/plain', data: Buffer.from('hello attachment').toString('base64') } } });
  await store.createIndex(CONTACTS, { fields: [{ field: 'name', dir: 'asc' }] } as never);
  await store.createIndex(NOTES, { fields: [{ field: 'text', dir: 'asc' }], ddoc: 'by-text', name: 'text' } as never);
  await store.putLocal(CONTACTS, 'checkpoint', { last_seq: '42' });
  await store.putLocal(NOTES, 'other', { x: 1 });
  for (let i = 0; i < 6; i++) await engine.files.write(instance.id, Readable.from([Buffer.alloc(100_000 + i * 1000, i)]), { maxBytes: 1e9 });
  for (let i = 0; i < 3; i++) await engine.thumbs.write(instance.id, Readable.from([Buffer.from(`thumb ${i}`)]), { maxBytes: 1e9 });
}

/** Everything a client could see: every leaf of every document with its history and attachments, conflicts, _local docs, indexes. */
async function snapshot(store: DocStore): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const doctype of await store.listDoctypes()) {
    const rows = (await store.changes(doctype, { since: '0', style: 'all_docs' })).results;
    const byId: Record<string, unknown> = {};
    for (const row of rows) {
      const leaves = (await store.openRevs(doctype, row.id, 'all', { revs: true, attachments: true })).map((l) => ('ok' in l ? l.ok : l));
      const winner = row.deleted ? null : await store.get(doctype, row.id, { conflicts: true, deleted_conflicts: true });
      byId[row.id] = { leaves: leaves.sort((x, y) => String((x as Doc)._rev).localeCompare(String((y as Doc)._rev))), winner, deleted: row.deleted ?? false };
    }
    const locals = (await store.localDocs!(doctype)).map((d) => ({ ...d, _rev: undefined }));
    out[doctype] = { docs: byId, count: Object.keys(byId).length, locals, indexes: (await store.listIndexes(doctype)).indexes };
  }
  return out;
}

async function blobSnapshot(engine: BlobEngine): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const area of ['files', 'thumbs'] as const) {
    for await (const key of engine[area].keys(instance.id)) out[`${area}/${key}`] = md5(await buffer(await engine[area].read(instance.id, key)));
  }
  return out;
}

/** A blob engine that writes every blob under a key of its own, as an engine that ignores WriteOptions.key would. */
class KeylessBlobStore extends LocalBlobStore {
  override write(ns: string, body: Readable, opts: WriteOptions): Promise<BlobInfo> {
    const { key: _ignored, ...rest } = opts;
    return super.write(ns, body, rest);
  }
}

const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error('not refused'); }, (e: unknown) => e as HearthError);

describe('moving an instance between two engines of each kind', () => {
  let before: Record<string, unknown>;
  let beforeBlobs: Record<string, string>;
  beforeAll(async () => {
    await engines.set(instance.id, A);
    await fill(storeOn(A.docs), blobs.get(A.blobs)!);
    before = await snapshot(storeOn(A.docs));
    beforeBlobs = await blobSnapshot(blobs.get(A.blobs)!);
  }, 120_000);

  it('refuses what it cannot do, before anything is written', async () => {
    expect((await refusal(migrations.migrate(instance, {}))).status).toBe(400);
    expect(await refusal(migrations.migrate(instance, { docs: 'postgres' }))).toMatchObject({ status: 422, reason: expect.stringMatching(/"postgres" is not configured on this server \(configured: sqlite-a, sqlite-b\)/) });
    expect(await refusal(migrations.migrate(instance, { docs: 'sqlite-a', blobs: 'local-a' }))).toMatchObject({ status: 422, reason: expect.stringMatching(/already on these engines/) });
    expect((await refusal(migrations.cleanup(instance))).status).toBe(404);
    expect(await engines.migration(instance.id)).toBeNull();
  });

  it('copies everything to B online, blocks the instance for the catch-up, verifies, switches; then back to A', async () => {
    const progress: MigrationProgress[] = [];
    const online: Array<Promise<unknown>> = [];
    let blockedAnswer: unknown = null;
    let second: unknown = null;
    const summary = await migrations.migrate(instance, { docs: B.docs, blobs: B.blobs }, (p) => {
      progress.push(p);
      // writes while the first pass runs, through the store the instance is served from: all must arrive
      if (p.step === 'copy' && online.length < 20) {
        const n = online.length;
        online.push(router.storeOf(instance).put(NOTES, { _id: `online-${n}`, n }));
        online.push(blobs.get(A.blobs)!.files.write(instance.id, Readable.from([Buffer.from(`online blob ${n}`)]), { maxBytes: 1e9 }));
      }
      if (p.step === 'blocked') {
        blockedAnswer = router.storeOf(instance).get(NOTES, 'with-attachment').catch((e: unknown) => e);
        second = migrations.migrate(instance, { docs: B.docs }).catch((e: unknown) => e);
      }
    });
    await Promise.all(online);
    expect(online.length).toBeGreaterThan(0);
    expect(await blockedAnswer).toMatchObject({ status: 503, headers: { 'Retry-After': '10' }, reason: expect.stringMatching(/being moved/) });
    expect(await second).toMatchObject({ status: 409, reason: expect.stringMatching(/already running/) });
    expect(progress.map((p) => p.step)).toEqual(expect.arrayContaining(['prepare', 'copy', 'blocked', 'catch-up', 'verify', 'switched']));
    expect(summary).toMatchObject({ from: A, to: B, docs: expect.any(Number), blobs: 6 + 3 + online.length / 2, source_dropped: false });
    expect(summary.docs).toBeGreaterThanOrEqual(1200 + 3);
    expect(await engines.get(instance.id)).toEqual(B);
    expect(await engines.migration(instance.id)).toMatchObject({ phase: 'switched', from: A, to: B });

    // identical on both sides, with the online writes; the instance is served from B now
    const onA = await snapshot(storeOn(A.docs));
    expect(await snapshot(storeOn(B.docs))).toEqual(onA);
    expect(await blobSnapshot(blobs.get(B.blobs)!)).toEqual(await blobSnapshot(blobs.get(A.blobs)!));
    expect(Object.keys((onA[NOTES] as { docs: object }).docs)).toEqual(expect.arrayContaining(['online-0', 'conflicted', 'with-attachment']));
    expect((await storeOn(B.docs).get(NOTES, 'conflicted', { conflicts: true }))._conflicts).toEqual(['2-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']);
    await router.storeOf(instance).put(NOTES, { _id: 'after-switch' });
    await expect(storeOn(B.docs).get(NOTES, 'after-switch')).resolves.toMatchObject({ _id: 'after-switch' });
    await expect(storeOn(A.docs).get(NOTES, 'after-switch')).rejects.toMatchObject({ status: 404 });
    await storeOn(B.docs).dropDoctype('io.cozy.scratch'); // nothing there: a no-op

    // back to A (its old copy is the target: dropped first), dropping B's copy at the end
    await router.storeOf(instance).put(NOTES, { _id: 'after-switch', _rev: (await storeOn(B.docs).get(NOTES, 'after-switch'))._rev!, v: 2 });
    const onB = await snapshot(storeOn(B.docs));
    const bBlobs = await blobSnapshot(blobs.get(B.blobs)!);
    const back = await migrations.migrate(instance, { docs: A.docs, blobs: A.blobs, dropSource: true });
    expect(back).toMatchObject({ from: B, to: A, source_dropped: true });
    expect(await snapshot(storeOn(A.docs))).toEqual(onB);
    expect(await blobSnapshot(blobs.get(A.blobs)!)).toEqual(bBlobs);
    expect(await storeOn(B.docs).listDoctypes()).toEqual([]);
    expect(await blobSnapshot(blobs.get(B.blobs)!)).toEqual({});
    expect(await engines.get(instance.id)).toEqual(A);
    expect(await engines.migration(instance.id)).toBeNull();
    // what was there at the start is still there, document for document, blob for blob
    const now = await snapshot(storeOn(A.docs));
    for (const doctype of Object.keys(before)) {
      const was = (before[doctype] as { docs: Record<string, unknown> }).docs;
      for (const [id, doc] of Object.entries(was)) expect((now[doctype] as { docs: Record<string, unknown> }).docs[id]).toEqual(doc);
    }
    expect(await blobSnapshot(blobs.get(A.blobs)!)).toMatchObject(beforeBlobs);
  }, 300_000);

  it('leaves the instance on its source when the copy fails, and a new run starts over cleanly', async () => {
    // a target whose blob store cannot keep the keys it is given: the copy fails after the documents are there
    const keyless = new KeylessBlobStore(join(dir, 'c', 'blobs'));
    const bad: BlobEngine = { files: keyless, thumbs: blobs.get('local-b')!.thumbs };
    blobs.set('keyless', bad);
    try {
      const err = await refusal(migrations.migrate(instance, { blobs: 'keyless' }));
      expect(err.message).toMatch(/does not keep the keys/);
      expect(await engines.get(instance.id)).toEqual(A);
      expect(await engines.migration(instance.id)).toBeNull();
      expect(router.isBlocked(instance.id)).toBe(false);
      await expect(router.storeOf(instance).get(NOTES, 'with-attachment')).resolves.toMatchObject({ _id: 'with-attachment' });
    } finally {
      blobs.delete('keyless');
      await keyless.close();
    }
    // a new run to B: what an earlier run left there is dropped first, the result is verified
    await storeOn(B.docs).put('io.cozy.leftover', { _id: 'stale' });
    // the copied documents are not news: no event reaches the bus (realtime, triggers) for them; a write after the switch does
    const events: string[] = [];
    const unsubscribe = bus.subscribe(instance.domain, null, (e) => events.push(`${e.doctype} ${e.verb}`));
    await migrations.migrate(instance, { docs: B.docs });
    expect(events).toEqual([]);
    await router.storeOf(instance).put(NOTES, { _id: 'news' });
    expect(events).toEqual([`${NOTES} CREATED`]);
    unsubscribe();
    expect(await storeOn(B.docs).listDoctypes()).not.toContain('io.cozy.leftover');
    expect(await engines.get(instance.id)).toEqual({ docs: B.docs, blobs: A.blobs });
    expect(await migrations.cleanup(instance)).toEqual(A);
    expect(await storeOn(A.docs).listDoctypes()).toEqual([]);
    expect(Object.keys(await blobSnapshot(blobs.get(A.blobs)!)).length).toBeGreaterThan(0);
  }, 300_000);
});
