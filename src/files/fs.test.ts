/** The file system core on a real SQLite store and real blob files: tree, uploads, quota, trash. */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../instances/types.js';
import type { LocalBlobStore } from './blobs/local.js';
import type { FileSystem } from './fs.js';
import type { FileTree } from './tree.js';
import { ROOT_DIR_ID, TRASH_DIR_ID, type FileDoc } from './types.js';
import { openTestVfs, type TestVfs } from '../../test/helpers/vfs.js';

let t: TestVfs;
let fs: FileSystem;
let tree: FileTree;
let blobs: LocalBlobStore;
let instance: Instance;
beforeAll(() => {
  t = openTestVfs('f');
  ({ blobs, instance } = t);
  ({ fs, tree } = t.vfs);
});
afterAll(() => t.close());

const body = (s: string | Buffer) => Readable.from([Buffer.from(s)]);
const md5 = (s: string) => createHash('md5').update(s).digest('base64');
const read = async (doc: FileDoc) => Buffer.concat(await (await fs.open(instance, doc)).toArray()).toString();
const upload = (dirId: string, name: string, content: string, extra: Record<string, unknown> = {}) =>
  fs.upload(instance, { dirId, name, body: body(content), size: Buffer.byteLength(content), ...extra });

describe('directories and files', () => {
  it('has a root and a trash, makes directories with their path, and uploads a file with cozy attributes', async () => {
    expect(await fs.stat(instance, ROOT_DIR_ID)).toMatchObject({ type: 'directory', path: '/' });
    expect(await fs.stat(instance, TRASH_DIR_ID)).toMatchObject({ type: 'directory', path: '/.cozy_trash', dir_id: ROOT_DIR_ID });
    const docs = await fs.createDir(instance, { dirId: ROOT_DIR_ID, name: 'Documents', tags: ['work'] });
    expect(docs).toMatchObject({ type: 'directory', name: 'Documents', path: '/Documents', dir_id: ROOT_DIR_ID, tags: ['work'] });
    const f = await upload(docs._id, 'note.txt', 'hello', { md5: md5('hello'), createdAt: '2020-01-02T03:04:05Z' });
    expect(f).toMatchObject({ type: 'file', name: 'note.txt', size: '5', md5sum: md5('hello'), mime: 'text/plain', class: 'text', trashed: false, created_at: '2020-01-02T03:04:05Z' });
    expect(await read(f)).toBe('hello');
    expect(await fs.pathOf(instance, f)).toBe('/Documents/note.txt');
    expect((await fs.statByPath(instance, '/Documents/note.txt'))._id).toBe(f._id);
    expect((await fs.statByPath(instance, '/Documents'))._id).toBe(docs._id);
    expect(await fs.lineage(instance, f)).toEqual([ROOT_DIR_ID, docs._id, f._id]);
  });

  it('refuses bad names (422), taken names (409), missing parents (404) and uploads into the trash', async () => {
    for (const name of ['', '.', '..', 'a/b', 'nul\u0000', 'line\nbreak', 'é'.repeat(128)]) {
      await expect(fs.createDir(instance, { dirId: ROOT_DIR_ID, name })).rejects.toMatchObject({ status: 422 });
    }
    await fs.createDir(instance, { dirId: ROOT_DIR_ID, name: 'Taken' });
    await expect(fs.createDir(instance, { dirId: ROOT_DIR_ID, name: 'Taken' })).rejects.toMatchObject({ status: 409 });
    await expect(upload(ROOT_DIR_ID, 'Taken', 'x')).rejects.toMatchObject({ status: 409 });
    await expect(upload('nope', 'x.txt', 'x')).rejects.toMatchObject({ status: 404 });
    await expect(upload(TRASH_DIR_ID, 'x.txt', 'x')).rejects.toMatchObject({ status: 422 });
    await expect(fs.statByPath(instance, '/Taken/../etc')).rejects.toMatchObject({ status: 422 });
    await expect(fs.statByPath(instance, 'relative')).rejects.toMatchObject({ status: 422 });
  });

  it('checks Content-MD5 and the size, and leaves no file or blob when they are wrong', async () => {
    await expect(upload(ROOT_DIR_ID, 'bad-md5.txt', 'abc', { md5: md5('abd') })).rejects.toMatchObject({ status: 412 });
    await expect(fs.upload(instance, { dirId: ROOT_DIR_ID, name: 'short.txt', body: body('abc'), size: 4 })).rejects.toMatchObject({ status: 412 });
    await expect(fs.statByPath(instance, '/bad-md5.txt')).rejects.toMatchObject({ status: 404 });
    await expect(fs.statByPath(instance, '/short.txt')).rejects.toMatchObject({ status: 404 });
  });

  it('lets one of two concurrent uploads of the same name win; the other gets 409 and leaves no blob', async () => {
    const before: string[] = [];
    for await (const k of blobs.keys(instance.id)) before.push(k);
    const results = await Promise.allSettled([upload(ROOT_DIR_ID, 'race.txt', 'one'), upload(ROOT_DIR_ID, 'race.txt', 'two')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.status)).toEqual([409]);
    const after: string[] = [];
    for await (const k of blobs.keys(instance.id)) after.push(k);
    expect(after.length).toBe(before.length + 1);
  });

  it('overwrites with If-Match, and refuses a stale revision (412)', async () => {
    const f = await upload(ROOT_DIR_ID, 'over.txt', 'v1');
    const v2 = await fs.overwrite(instance, f._id, { body: body('version 2'), ifMatch: f._rev });
    expect(v2).toMatchObject({ size: '9', md5sum: md5('version 2') });
    expect(await read(v2)).toBe('version 2');
    await expect(fs.overwrite(instance, f._id, { body: body('v3'), ifMatch: f._rev })).rejects.toMatchObject({ status: 412 });
    expect(await read(await fs.stat(instance, f._id))).toBe('version 2');
  });

  it('lets the lock go at the commits of an overwrite, so that concurrent overwrites share the fsyncs', async () => {
    const files = await Promise.all(Array.from({ length: 8 }, (_, i) => upload(ROOT_DIR_ID, `shared-sync-${i}.txt`, 'v1')));
    const before = t.walSyncs();
    const out = await Promise.all(files.map((f, i) => fs.overwrite(instance, f._id, { body: body(`v2 of ${i}`) })));
    out.forEach((f, i) => expect(f.md5sum).toBe(md5(`v2 of ${i}`)));
    // each overwrite commits a version and the file: held until durable, they would take 16 fsyncs one after the other
    expect(t.walSyncs() - before).toBeLessThan(8);
    for (const [i, f] of files.entries()) expect(await read(await fs.stat(instance, f._id))).toBe(`v2 of ${i}`);
  });

  it('lists children by name, page after page', async () => {
    const d = await fs.createDir(instance, { dirId: ROOT_DIR_ID, name: 'Many' });
    for (const n of ['c', 'a', 'e', 'b', 'd']) await upload(d._id, n, n);
    const p1 = await fs.children(instance, d._id, { limit: 2 });
    expect(p1.docs.map((x) => x.name)).toEqual(['a', 'b']);
    const p2 = await fs.children(instance, d._id, { limit: 2, cursor: p1.next! });
    expect(p2.docs.map((x) => x.name)).toEqual(['c', 'd']);
    const p3 = await fs.children(instance, d._id, { limit: 2, cursor: p2.next! });
    expect(p3).toEqual({ docs: [expect.objectContaining({ name: 'e' })], next: null });
  });
});

describe('a failed fsync of the WAL after the commit', () => {
  it('fails the upload or the overwrite, keeps the blob the committed document names, and takes no write until a restart', async () => {
    await expect(t.walSyncFailing(() => upload(ROOT_DIR_ID, 'unsynced.txt', 'kept'))).rejects.toMatchObject({ status: 503, reason: expect.stringMatching(/EBADF.*check the disk/) });
    const f = await fs.statByPath(instance, '/unsynced.txt');
    expect(await read(f)).toBe('kept');
    // the WAL can no longer be trusted to be on disk: no more writes until the store is opened again (a restart)
    await expect(upload(ROOT_DIR_ID, 'after.txt', 'x')).rejects.toMatchObject({ status: 503, reason: expect.stringMatching(/restarted/) });
    await expect(fs.statByPath(instance, '/after.txt')).rejects.toMatchObject({ status: 404 });
    await t.restartStore();
    expect(await read(await fs.statByPath(instance, '/unsynced.txt'))).toBe('kept');
    const g = await upload(ROOT_DIR_ID, 'unsynced-over.txt', 'v1');
    await fs.overwrite(instance, g._id, { body: body('v2') }); // v1 becomes a version; the next overwrite keeps none (15 minutes)
    await expect(t.walSyncFailing(() => fs.overwrite(instance, g._id, { body: body('v3') }))).rejects.toThrow(/EBADF/);
    await t.restartStore();
    expect(await read(await fs.stat(instance, g._id))).toBe('v3');
    const { fsck } = await import('./fsck.js');
    const log = await fsck(fs, instance);
    // no document lost its content; at most the replaced content (v2), which nothing names any more, is left for fsck's clean
    expect(log.filter((e) => e.type !== 'index_missing')).toEqual([]);
    expect(log.length).toBeLessThanOrEqual(1);
  });
});

describe('quota', () => {
  it('refuses a file over the quota before and while streaming (413), counting what is stored', async () => {
    const used = await fs.diskUsage(instance);
    const small: Instance = { ...instance, diskQuota: used + 100 };
    await expect(fs.upload(small, { dirId: ROOT_DIR_ID, name: 'big.bin', body: body(randomBytes(200)), size: 200 })).rejects.toMatchObject({ status: 413 });
    await expect(fs.upload(small, { dirId: ROOT_DIR_ID, name: 'big.bin', body: body(randomBytes(200)) })).rejects.toMatchObject({ status: 413 });
    const ok = await fs.upload(small, { dirId: ROOT_DIR_ID, name: 'fits.bin', body: body(randomBytes(60)) });
    expect(await fs.diskUsage(instance)).toBe(used + 60);
    await expect(fs.upload(small, { dirId: ROOT_DIR_ID, name: 'no-room.bin', body: body(randomBytes(60)) })).rejects.toMatchObject({ status: 413 });
    await tree.trash(instance, ok._id);
    await tree.destroy(instance, ok._id);
    expect(await fs.diskUsage(instance)).toBe(used);
  });

  it('holds concurrent uploads to the quota: the lock is let go at each commit, and no upload slips past what the others took', async () => {
    const used = await fs.diskUsage(instance);
    const keys = async () => { const out: string[] = []; for await (const k of blobs.keys(instance.id)) out.push(k); return out.length; };
    const blobsBefore = await keys();
    const small: Instance = { ...instance, diskQuota: used + 350 };
    // announced sizes each fit on their own, so every one streams its blob before the check under the lock
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) =>
      fs.upload(small, { dirId: ROOT_DIR_ID, name: `q-${i}.bin`, body: body(randomBytes(100)), size: 100 })));
    const ok = results.filter((r): r is PromiseFulfilledResult<FileDoc> => r.status === 'fulfilled').map((r) => r.value);
    expect(ok).toHaveLength(3);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.status)).toEqual([413, 413, 413, 413, 413]);
    expect(await fs.diskUsage(instance)).toBe(used + 300);
    expect(await keys()).toBe(blobsBefore + 3); // the refused ones removed their blobs
    for (const doc of ok) {
      await tree.trash(instance, doc._id);
      await tree.destroy(instance, doc._id);
    }
    expect(await fs.diskUsage(instance)).toBe(used);
  });
});

describe('moves and the trash', () => {
  it('moves a directory with its whole subtree, and refuses to move it into itself', async () => {
    const a = await fs.createDir(instance, { dirId: ROOT_DIR_ID, name: 'A' });
    const b = await fs.createDir(instance, { dirId: a._id, name: 'B' });
    const c = await fs.createDir(instance, { dirId: b._id, name: 'C' });
    const f = await upload(c._id, 'deep.txt', 'deep');
    const dest = await fs.createDir(instance, { dirId: ROOT_DIR_ID, name: 'Dest' });
    await expect(tree.patch(instance, a._id, { dirId: c._id })).rejects.toMatchObject({ status: 422 });
    await expect(tree.patch(instance, a._id, { dirId: a._id })).rejects.toMatchObject({ status: 422 });
    const movedA = await tree.patch(instance, a._id, { dirId: dest._id, name: 'A2' });
    expect(movedA).toMatchObject({ path: '/Dest/A2', dir_id: dest._id, name: 'A2' });
    expect((await fs.stat(instance, b._id)).path).toBe('/Dest/A2/B');
    expect((await fs.stat(instance, c._id)).path).toBe('/Dest/A2/B/C');
    expect(await fs.pathOf(instance, await fs.stat(instance, f._id))).toBe('/Dest/A2/B/C/deep.txt');
    await expect(tree.patch(instance, a._id, { name: 'A3', ifMatch: a._rev })).rejects.toMatchObject({ status: 412 });
    await expect(tree.patch(instance, ROOT_DIR_ID, { name: 'x' })).rejects.toMatchObject({ status: 403 });
    await fs.createDir(instance, { dirId: dest._id, name: 'Other' });
    await expect(tree.patch(instance, a._id, { name: 'Other' })).rejects.toMatchObject({ status: 409 });
  });

  it('trashes a directory (files below marked trashed), restores it to its place, renaming on conflict', async () => {
    const t = await fs.createDir(instance, { dirId: ROOT_DIR_ID, name: 'ToTrash' });
    const f = await upload(t._id, 'inside.txt', 'x');
    const trashed = await tree.trash(instance, t._id);
    expect(trashed).toMatchObject({ dir_id: TRASH_DIR_ID, path: '/.cozy_trash/ToTrash', restore_path: '/' });
    expect(await fs.stat(instance, f._id)).toMatchObject({ trashed: true });
    await expect(tree.trash(instance, t._id)).rejects.toMatchObject({ status: 400 });
    await fs.createDir(instance, { dirId: ROOT_DIR_ID, name: 'ToTrash' });
    const back = await tree.restore(instance, t._id);
    expect(back).toMatchObject({ dir_id: ROOT_DIR_ID, name: 'ToTrash (2)', path: '/ToTrash (2)' });
    expect(back.restore_path).toBeUndefined();
    expect(await fs.stat(instance, f._id)).toMatchObject({ trashed: false });
    expect(await fs.pathOf(instance, await fs.stat(instance, f._id))).toBe('/ToTrash (2)/inside.txt');
  });

  it('destroys only what is in the trash, with its blobs, and empties the trash', async () => {
    const f = await upload(ROOT_DIR_ID, 'gone.txt', 'bye');
    await expect(tree.destroy(instance, f._id)).rejects.toMatchObject({ status: 400 });
    const inTrash = await tree.trash(instance, f._id);
    expect(inTrash).toMatchObject({ trashed: true, dir_id: TRASH_DIR_ID });
    await tree.destroy(instance, f._id);
    await expect(fs.stat(instance, f._id)).rejects.toMatchObject({ status: 404 });
    expect(await blobs.size(instance.id, String(f.internal_vfs_id))).toBeNull();
    const d = await fs.createDir(instance, { dirId: ROOT_DIR_ID, name: 'EmptyMe' });
    await upload(d._id, 'a.txt', 'a');
    await tree.trash(instance, d._id);
    expect(await tree.emptyTrash(instance)).toBeGreaterThanOrEqual(1);
    expect((await fs.children(instance, TRASH_DIR_ID, { limit: 10 })).docs).toEqual([]);
  });
});

describe('MIME types', () => {
  it('come from the name, else from the content, else from a specific Content-Type', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
    const a = await fs.upload(instance, { dirId: ROOT_DIR_ID, name: 'noext-image', body: body(png), mime: 'application/octet-stream' });
    expect(a).toMatchObject({ mime: 'image/png', class: 'image' });
    const b = await fs.upload(instance, { dirId: ROOT_DIR_ID, name: 'photo.jpg', body: body('not really a jpeg'), mime: 'text/plain' });
    expect(b).toMatchObject({ mime: 'image/jpeg', class: 'image' });
    const c = await fs.upload(instance, { dirId: ROOT_DIR_ID, name: 'noext-json', body: body('{"a":1}'), mime: 'application/json; charset=utf-8' });
    expect(c.mime).toBe('application/json');
    const d = await fs.upload(instance, { dirId: ROOT_DIR_ID, name: 'noext-blob', body: body('????'), mime: 'not a mime' });
    expect(d).toMatchObject({ mime: 'application/octet-stream', class: 'files' });
  });
});
