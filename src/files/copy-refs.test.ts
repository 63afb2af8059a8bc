/** Copies and references on a real store and real blobs. */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../instances/types.js';
import { copyFile } from './copy.js';
import { addReferences, referencedFiles, referencesOf, removeReferences } from './references.js';
import type { Vfs } from './vfs.js';
import { openTestVfs, type TestVfs } from '../../test/helpers/vfs.js';
import { ROOT_DIR_ID } from './types.js';

let t: TestVfs;
let vfs: Vfs;
let instance: Instance;
beforeAll(() => {
  t = openTestVfs('c');
  ({ vfs, instance } = t);
});
afterAll(() => t.close());


const up = (name: string, s: string, dirId = ROOT_DIR_ID) => vfs.fs.upload(instance, { dirId, name, body: Readable.from([Buffer.from(s)]), tags: ['t'] });
const text = async (id: string) => Buffer.concat(await (await vfs.fs.open(instance, await vfs.fs.stat(instance, id))).toArray()).toString();

describe('copy', () => {
  it('copies a file next to itself as "name (copy).ext", then "(copy 2)", with its bytes, tags and own blob', async () => {
    const f = await up('report.pdf', '%PDF-1.4 report');
    const c1 = await copyFile(vfs.fs, instance, f._id);
    const c2 = await copyFile(vfs.fs, instance, f._id);
    expect([c1.name, c2.name]).toEqual(['report (copy).pdf', 'report (copy 2).pdf']);
    expect(c1).toMatchObject({ md5sum: f.md5sum, size: f.size, mime: 'application/pdf', tags: ['t'], dir_id: ROOT_DIR_ID });
    expect(c1.internal_vfs_id).not.toBe(f.internal_vfs_id);
    expect(await text(c1._id)).toBe('%PDF-1.4 report');
  });

  it('copies into another directory under a chosen name; 409 if taken, 422 for a directory, 413 over the quota', async () => {
    const f = await up('a.txt', 'aaa');
    const d = await vfs.fs.createDir(instance, { dirId: ROOT_DIR_ID, name: 'Copies' });
    const c = await copyFile(vfs.fs, instance, f._id, { dirId: d._id, name: 'b.txt' });
    expect(await vfs.fs.pathOf(instance, c)).toBe('/Copies/b.txt');
    await expect(copyFile(vfs.fs, instance, f._id, { dirId: d._id, name: 'b.txt' })).rejects.toMatchObject({ status: 409 });
    await expect(copyFile(vfs.fs, instance, d._id)).rejects.toMatchObject({ status: 422 });
    const full: Instance = { ...instance, diskQuota: await vfs.fs.diskUsage(instance) };
    await expect(copyFile(vfs.fs, full, f._id, { name: 'no-room.txt' })).rejects.toMatchObject({ status: 413 });
  });
});

describe('references', () => {
  it('adds references once, finds the files of a document page by page, and removes them', async () => {
    const files = await Promise.all(['p1.jpg', 'p2.jpg', 'p3.jpg'].map((n) => up(n, n)));
    const album = { type: 'io.cozy.photos.albums', id: 'album-1' };
    for (const f of files) await addReferences(vfs.fs, instance, f._id, [album, album, { type: 'io.cozy.playlists', id: 'x' }]);
    expect((await vfs.fs.stat(instance, files[0]!._id)).referenced_by).toEqual([album, { type: 'io.cozy.playlists', id: 'x' }]);
    const p1 = await referencedFiles(vfs.fs, instance, album, { limit: 2 });
    const p2 = await referencedFiles(vfs.fs, instance, album, { limit: 2, cursor: p1.next! });
    expect([...p1.docs, ...p2.docs].map((d) => d._id).sort()).toEqual(files.map((f) => f._id).sort());
    expect(p2.next).toBeNull();
    await removeReferences(vfs.fs, instance, files[0]!._id, [album]);
    expect((await referencedFiles(vfs.fs, instance, album, { limit: 10 })).docs).toHaveLength(2);
    expect(() => referencesOf([{ type: 'io.cozy.albums' }])).toThrow(/type.*id/);
    expect(referencesOf({ type: 'a', id: 'b' })).toEqual([{ type: 'a', id: 'b' }]);
  });
});
