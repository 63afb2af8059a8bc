/** The thumbnail worker on a real file system, real sharp and real images: sizes, orientation, failures, overwrite, destroy. */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentJobError } from '../../jobs/types.js';
import { openTestVfs, type TestVfs } from '../../../test/helpers/vfs.js';
import { corruptJpeg, jobContext, jpegWithExif, png, sizeOf, webp } from '../../../test/helpers/images.js';
import { ROOT_DIR_ID, type FileDoc } from '../types.js';
import { THUMB_FORMATS, thumbStateOf, type ThumbFormat } from './state.js';
import { createThumbnailWorker, type ThumbnailDeps } from './workers.js';

let t: TestVfs;
let deps: ThumbnailDeps;
const key = randomBytes(32);
beforeAll(() => {
  t = openTestVfs('c');
  deps = { vfs: t.vfs, linkSecret: async () => key };
});
afterAll(() => t.close());

const upload = (name: string, content: Buffer, extra: { createdAt?: string } = {}) =>
  t.vfs.fs.upload(t.instance, { dirId: ROOT_DIR_ID, name, body: Readable.from([content]), ...extra });
const run = (fileId: string) => createThumbnailWorker(deps).run(jobContext(t.instance, 'thumbnail', { file_id: fileId }).ctx);
const stat = (id: string) => t.vfs.fs.stat(t.instance, id);

async function sizes(doc: FileDoc): Promise<Record<ThumbFormat, { width: number; height: number; format: string }>> {
  const state = thumbStateOf(doc);
  expect(state?.md5sum).toBe(doc.md5sum);
  const out = {} as Record<ThumbFormat, { width: number; height: number; format: string }>;
  for (const f of THUMB_FORMATS) out[f] = await sizeOf(await buffer(await t.thumbs.read(t.instance.id, state!.keys[f])));
  return out;
}

const gone = async (keys: string[]) => (await Promise.all(keys.map((k) => t.thumbs.size(t.instance.id, k)))).every((s) => s === null);

describe('thumbnail worker', () => {
  it('makes the four JPEG sizes of a rotated photo, upright, and records them with the exact size', async () => {
    // stored 3000×2000, orientation 6 (rotate 90° clockwise to view): 2000×3000 upright
    const doc = await upload('portrait.jpg', await jpegWithExif(3000, 2000, { orientation: 6, taken: '2021:06:15 10:30:00', offset: '+02:00' }));
    expect(thumbStateOf(doc)).toBeNull();
    await run(doc._id);
    const after = await stat(doc._id);
    expect(await sizes(after)).toEqual({
      tiny: { width: 96, height: 96, format: 'jpeg' },
      small: { width: 320, height: 480, format: 'jpeg' },
      medium: { width: 480, height: 720, format: 'jpeg' },
      large: { width: 720, height: 1080, format: 'jpeg' },
    });
    expect(after.metadata).toMatchObject({ width: 3000, height: 2000, orientation: 6, datetime: '2021-06-15T08:30:00.000Z' });
    expect(after.md5sum).toBe(doc.md5sum);
    // a second run finds them fresh: nothing changes
    await run(doc._id);
    expect((await stat(doc._id))._rev).toBe(after._rev);
  });

  it('never enlarges a small PNG (its transparency flattened) and fits a wide WebP inside each box', async () => {
    const p = await upload('small.png', await png(800, 600));
    const w = await upload('wide.webp', await webp(2400, 1000));
    await run(p._id);
    await run(w._id);
    expect(await sizes(await stat(p._id))).toEqual({
      tiny: { width: 96, height: 96, format: 'jpeg' }, small: { width: 640, height: 480, format: 'jpeg' },
      medium: { width: 800, height: 600, format: 'jpeg' }, large: { width: 800, height: 600, format: 'jpeg' },
    });
    expect(await sizes(await stat(w._id))).toEqual({
      tiny: { width: 96, height: 96, format: 'jpeg' }, small: { width: 640, height: 267, format: 'jpeg' },
      medium: { width: 1280, height: 533, format: 'jpeg' }, large: { width: 1920, height: 800, format: 'jpeg' },
    });
    expect((await stat(w._id)).metadata).toMatchObject({ width: 2400, height: 1000 });
  });

  it('fails the job on a corrupt image, leaving the file as it was and its content intact', async () => {
    const bytes = corruptJpeg();
    const doc = await upload('broken.jpg', bytes);
    const err = await run(doc._id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentJobError);
    expect(String((err as Error).message)).toMatch(new RegExp(`no thumbnails for file ${doc._id}: the image cannot be decoded`));
    const after = await stat(doc._id);
    expect(after._rev).toBe(doc._rev);
    expect(thumbStateOf(after)).toBeNull();
    expect(Buffer.compare(await buffer(await t.vfs.fs.open(t.instance, after)), bytes)).toBe(0);
    const keys: string[] = [];
    for await (const k of t.thumbs.keys(t.instance.id)) keys.push(k);
    const named = new Set<string>();
    for (const d of (await t.store.find('io.cozy.files', { selector: { type: 'file' }, limit: 100, skip: 0 })).docs) for (const k of Object.values(thumbStateOf(d as FileDoc)?.keys ?? {})) named.add(k);
    expect(keys.filter((k) => !named.has(k))).toEqual([]); // no half-made thumbnail left behind
  });

  it('keeps the thumbnails the file names once committed, even if the fsync of that commit failed', async () => {
    const doc = await upload('unsynced.png', await png(300, 200));
    await expect(t.walSyncFailing(() => run(doc._id))).rejects.toThrow(/EBADF/);
    await t.restartStore();
    const after = await stat(doc._id);
    expect(Object.values(await sizes(after)).map((s) => s.width)).toEqual([96, 300, 300, 300]);
  });

  it('on an overwrite drops the old thumbnails at once; the next run makes those of the new content', async () => {
    const doc = await upload('changing.jpg', await jpegWithExif(1000, 1000));
    await run(doc._id);
    const old = Object.values(thumbStateOf(await stat(doc._id))!.keys);
    const next = await t.vfs.fs.overwrite(t.instance, doc._id, { body: Readable.from([await jpegWithExif(2000, 1000)]) });
    expect(thumbStateOf(next)).toBeNull();
    expect(next.metadata).toMatchObject({ width: 2000, height: 1000 });
    expect(await gone(old)).toBe(true);
    await run(doc._id);
    expect((await sizes(await stat(doc._id))).large).toEqual({ width: 1920, height: 960, format: 'jpeg' });
  });

  it('removes the thumbnails of a destroyed file, and of the files of an emptied trash', async () => {
    const a = await upload('a.jpg', await jpegWithExif(300, 200));
    const b = await upload('b.png', await png(300, 200));
    await run(a._id);
    await run(b._id);
    const keysOf = async (id: string) => Object.values(thumbStateOf(await stat(id))!.keys);
    const [ka, kb] = [await keysOf(a._id), await keysOf(b._id)];
    await t.vfs.tree.trash(t.instance, a._id);
    await t.vfs.tree.trash(t.instance, b._id);
    expect(await gone(ka)).toBe(false); // a trashed image keeps its thumbnails
    await t.vfs.tree.destroy(t.instance, a._id);
    expect(await gone(ka)).toBe(true);
    await t.vfs.tree.emptyTrash(t.instance);
    expect(await gone(kb)).toBe(true);
  });

  it("takes cozy-stack's {file: {...}} message and an @event trigger's event; refuses a bad format or no file", async () => {
    const doc = await upload('msg.jpg', await jpegWithExif(200, 100));
    const worker = createThumbnailWorker(deps);
    await worker.run(jobContext(t.instance, 'thumbnail', { file: { _id: doc._id, type: 'file' }, format: 'small' }).ctx);
    expect(thumbStateOf(await stat(doc._id))?.md5sum).toBe(doc.md5sum);
    const e = await upload('event.jpg', await jpegWithExif(200, 100));
    await worker.run(jobContext(t.instance, 'thumbnail', {}, { domain: t.instance.domain, doctype: 'io.cozy.files', verb: 'CREATED', doc: e }).ctx);
    expect(thumbStateOf(await stat(e._id))).not.toBeNull();
    await expect(worker.run(jobContext(t.instance, 'thumbnail', { file_id: doc._id, format: 'huge' }).ctx)).rejects.toThrow(/unknown thumbnail format "huge"/);
    await expect(worker.run(jobContext(t.instance, 'thumbnail', {}).ctx)).rejects.toBeInstanceOf(PermanentJobError);
    // a file that is gone, or not an image: nothing to do, no failure
    await worker.run(jobContext(t.instance, 'thumbnail', { file_id: 'f'.repeat(32) }).ctx);
    expect(worker).toMatchObject({ name: 'thumbnail', internal: true });
  });
});
