/** thumbnailck back-fills every image, thumbnailJobFor reads real bus events, fsck finds orphan thumbnails. */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DocEvent } from '../../common/bus.js';
import { fsck } from '../fsck.js';
import { openTestVfs, type TestVfs } from '../../../test/helpers/vfs.js';
import { corruptJpeg, jobContext, jpegWithExif, png } from '../../../test/helpers/images.js';
import { ROOT_DIR_ID } from '../types.js';
import { currentThumbs, thumbStateOf } from './state.js';
import { createThumbnailCheckWorker, createThumbnailWorker, thumbnailJobFor, type ThumbnailDeps } from './workers.js';

let t: TestVfs;
let deps: ThumbnailDeps;
beforeAll(() => {
  t = openTestVfs('d');
  const key = randomBytes(32);
  deps = { vfs: t.vfs, linkSecret: async () => key };
});
afterAll(() => t.close());

const upload = (name: string, content: Buffer | string) => t.vfs.fs.upload(t.instance, { dirId: ROOT_DIR_ID, name, body: Readable.from([Buffer.from(content)]) });
const stat = (id: string) => t.vfs.fs.stat(t.instance, id);

describe('thumbnailck', () => {
  it('makes the missing thumbnails of every image, reports the undecodable ones, and finds nothing to do the second time', async () => {
    const a = await upload('one.jpg', await jpegWithExif(400, 300));
    const b = await upload('two.png', await png(300, 400));
    const bad = await upload('bad.jpg', corruptJpeg());
    const text = await upload('notes.txt', 'not an image');
    const ck = createThumbnailCheckWorker(deps);
    expect(ck).toMatchObject({ name: 'thumbnailck', internal: true });
    await expect(ck.run(jobContext(t.instance, 'thumbnailck', {}).ctx)).rejects.toThrow(new RegExp(`thumbnails of 1 image\\(s\\) could not be made: ${bad._id} \\(bad.jpg\\)`));
    expect(currentThumbs(await stat(a._id))).not.toBeNull();
    expect(currentThumbs(await stat(b._id))).not.toBeNull();
    expect(thumbStateOf(await stat(bad._id))).toBeNull();
    expect(thumbStateOf(await stat(text._id))).toBeNull();
    await t.vfs.tree.trash(t.instance, bad._id);
    const revs = [(await stat(a._id))._rev, (await stat(b._id))._rev];
    await ck.run(jobContext(t.instance, 'thumbnailck', {}).ctx);
    expect([(await stat(a._id))._rev, (await stat(b._id))._rev]).toEqual(revs);
  });
});

describe('thumbnailJobFor', () => {
  it('asks for a job on a created image and on a new content, not on other changes nor for other files', async () => {
    const events: DocEvent[] = [];
    const stop = t.bus.subscribe(t.instance.domain, 'io.cozy.files', (e) => events.push(e));
    const img = await upload('photo.jpg', await jpegWithExif(300, 200));
    const txt = await upload('readme.txt', 'text');
    await t.vfs.tree.patch(t.instance, img._id, { name: 'renamed.jpg' });
    await t.vfs.fs.overwrite(t.instance, img._id, { body: Readable.from([await png(200, 300)]) });
    await createThumbnailWorker(deps).run(jobContext(t.instance, 'thumbnail', { file_id: img._id }).ctx);
    await t.vfs.tree.trash(t.instance, img._id);
    await t.vfs.tree.destroy(t.instance, img._id);
    stop();
    const jobs = events.map((e) => [e.verb, e.id === img._id ? 'img' : e.id === txt._id ? 'txt' : 'other', thumbnailJobFor(e)]);
    expect(jobs).toEqual([
      ['CREATED', 'img', { worker: 'thumbnail', message: { file_id: img._id } }],
      ['CREATED', 'txt', null],
      ['UPDATED', 'img', null], // renamed: same content
      ['UPDATED', 'img', { worker: 'thumbnail', message: { file_id: img._id } }], // overwritten
      ['UPDATED', 'img', null], // the worker recorded the thumbnails
      ['UPDATED', 'img', null], // trashed
      ['DELETED', 'img', null],
    ]);
  });
});

describe('fsck and thumbnails', () => {
  it('reports a thumbnail blob that no file names, and removes it with clean', async () => {
    const before = await fsck(t.vfs.fs, t.instance);
    const orphan = await t.thumbs.write(t.instance.id, Readable.from([Buffer.from('left by a crash')]), { maxBytes: 100 });
    const log = await fsck(t.vfs.fs, t.instance);
    expect(log.slice(before.length)).toEqual([{ type: 'index_missing', is_file: true, is_thumbnail: true, blob: { key: orphan.key, size: 15, removed: false } }]);
    await fsck(t.vfs.fs, t.instance, { clean: true });
    expect(await t.thumbs.size(t.instance.id, orphan.key)).toBeNull();
    expect(await fsck(t.vfs.fs, t.instance)).toEqual(before);
  });
});
