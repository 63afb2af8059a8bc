/** fsck on a real store and real blobs: a sound tree reports nothing; orphans and missing blobs are found. */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteDocStore } from '../data/sqlite/store.js';
import type { Instance } from '../instances/types.js';
import type { LocalBlobStore } from './blobs/local.js';
import { fsck } from './fsck.js';
import type { Vfs } from './vfs.js';
import { openTestVfs, type TestVfs } from '../../test/helpers/vfs.js';
import { FILES_DOCTYPE, ROOT_DIR_ID } from './types.js';

let t: TestVfs;
let vfs: Vfs;
let store: SqliteDocStore;
let blobs: LocalBlobStore;
let instance: Instance;
beforeAll(() => {
  t = openTestVfs('e');
  ({ vfs, store, blobs, instance } = t);
});
afterAll(() => t.close());


const body = (s: string) => Readable.from([Buffer.from(s)]);

describe('fsck', () => {
  it('reports nothing for a sound tree', async () => {
    const d = await vfs.fs.createDir(instance, { dirId: ROOT_DIR_ID, name: 'Photos' });
    await vfs.fs.upload(instance, { dirId: d._id, name: 'a.jpg', body: body('jpeg') });
    await vfs.tree.trash(instance, (await vfs.fs.upload(instance, { dirId: ROOT_DIR_ID, name: 't.txt', body: body('t') }))._id);
    expect(await fsck(vfs.fs, instance)).toEqual([]);
  });

  it('finds an orphan blob (a crash after the bytes, before the document) and removes it with clean', async () => {
    const orphan = await blobs.write(instance.id, body('half-committed upload'), { maxBytes: 1e6 });
    const log = await fsck(vfs.fs, instance);
    expect(log).toEqual([{ type: 'index_missing', is_file: true, blob: { key: orphan.key, size: 21, removed: false } }]);
    expect((await fsck(vfs.fs, instance, { clean: true }))[0]?.blob?.removed).toBe(true);
    expect(await blobs.size(instance.id, orphan.key)).toBeNull();
    expect(await fsck(vfs.fs, instance)).toEqual([]);
  });

  it('finds a file whose blob is gone or has another size, an orphan tree and a bad path', async () => {
    const lost = await vfs.fs.upload(instance, { dirId: ROOT_DIR_ID, name: 'lost.txt', body: body('lost') });
    await blobs.remove(instance.id, String(lost.internal_vfs_id));
    const bent = await vfs.fs.upload(instance, { dirId: ROOT_DIR_ID, name: 'bent.txt', body: body('bent') });
    await store.put(FILES_DOCTYPE, { ...bent, size: '999' });
    await store.put(FILES_DOCTYPE, { _id: 'lonely', type: 'directory', name: 'Lonely', dir_id: 'no-such-dir', path: '/Nowhere/Lonely', created_at: '', updated_at: '', tags: [] });
    const d = await vfs.fs.createDir(instance, { dirId: ROOT_DIR_ID, name: 'Music' });
    await store.put(FILES_DOCTYPE, { ...d, path: '/Wrong' });
    const log = await fsck(vfs.fs, instance);
    expect(log.map((e) => [e.type, (e.file_doc ?? e.dir_doc)?._id])).toEqual(expect.arrayContaining([
      ['filesystem_missing', lost._id], ['content_mismatch', bent._id], ['index_orphan_tree', 'lonely'], ['index_bad_fullpath', d._id],
    ]));
    expect(log).toHaveLength(4);
    expect(JSON.stringify(log)).not.toContain('internal_vfs_id');
  });
});
