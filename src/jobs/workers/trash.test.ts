import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../config/schema.js';
import { ROOT_DIR_ID, TRASH_DIR_ID } from '../../files/types.js';
import { jobContext } from '../../../test/helpers/job-context.js';
import { openTestVfs, type TestVfs } from '../../../test/helpers/vfs.js';
import { PermanentJobError } from '../types.js';
import { cleanOldTrashedWorker, trashFilesWorker } from './trash.js';

let t: TestVfs | undefined;
afterEach(() => t?.close());

const up = (tv: TestVfs, dirId: string, name: string, s: string) => tv.vfs.fs.upload(tv.instance, { dirId, name, body: Readable.from([Buffer.from(s)]) });
const gone = (tv: TestVfs, id: string) => tv.vfs.fs.stat(tv.instance, id).then(() => false, (e: { status?: number }) => e.status === 404);
async function blobCount(tv: TestVfs): Promise<number> {
  let n = 0;
  for await (const _key of tv.blobs.keys(tv.instance.id)) n++;
  return n;
}
const config = (days: number) => ({ files: { ...structuredClone(DEFAULTS.files), trashRetentionDays: days } });

describe('trash-files worker', () => {
  it('destroys the given trashed items (a directory with its content), refuses what is not trashed', async () => {
    const tv = (t = openTestVfs('d'));
    const { vfs, instance } = tv;
    const dir = await vfs.fs.createDir(instance, { dirId: ROOT_DIR_ID, name: 'old' });
    const inDir = await up(tv, dir._id, 'in.txt', 'inside');
    const a = await up(tv, ROOT_DIR_ID, 'a.txt', 'aaaa');
    const keep = await up(tv, ROOT_DIR_ID, 'keep.txt', 'kept in trash');
    const live = await up(tv, ROOT_DIR_ID, 'live.txt', 'not trashed');
    for (const d of [dir, a, keep]) await vfs.tree.trash(instance, d._id);
    const before = await vfs.fs.diskUsage(instance);
    const w = trashFilesWorker({ vfs });
    expect(w).toMatchObject({ name: 'trash-files', internal: true, maxExecCount: 2, timeoutSeconds: 7200 });
    await w.run(jobContext(instance, 'trash-files', { file_ids: [dir._id, a._id, 'already-gone'] }).ctx);
    for (const id of [dir._id, inDir._id, a._id]) expect(await gone(tv, id)).toBe(true);
    expect(await gone(tv, keep._id)).toBe(false);
    expect(await vfs.fs.diskUsage(instance)).toBe(before - 'inside'.length - 'aaaa'.length);
    expect(await blobCount(tv)).toBe(2);
    const e = await w.run(jobContext(instance, 'trash-files', { file_ids: [live._id, keep._id] }).ctx).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PermanentJobError);
    expect((e as Error).message).toContain(live._id);
    expect(await gone(tv, keep._id)).toBe(true);
    expect(await gone(tv, live._id)).toBe(false);
    await expect(w.run(jobContext(instance, 'trash-files', { file_ids: 'x' }).ctx)).rejects.toBeInstanceOf(PermanentJobError);
  });

  it('without ids, empties the whole trash (more items than a page)', async () => {
    const tv = (t = openTestVfs('e'));
    const { vfs, instance } = tv;
    for (let i = 0; i < 230; i++) await vfs.tree.trash(instance, (await up(tv, ROOT_DIR_ID, `f${i}.txt`, `${i}`))._id);
    const live = await up(tv, ROOT_DIR_ID, 'live.txt', 'stays');
    await trashFilesWorker({ vfs }).run(jobContext(instance, 'trash-files', {}).ctx);
    expect((await vfs.fs.children(instance, TRASH_DIR_ID, { limit: 10 })).docs).toEqual([]);
    expect(await gone(tv, live._id)).toBe(false);
    expect(await blobCount(tv)).toBe(1);
  });
});

describe('clean-old-trashed worker', () => {
  it('destroys what was trashed more than trashRetentionDays ago; 0 disables it', async () => {
    let clock = new Date('2024-01-01T00:00:00Z');
    const tv = (t = openTestVfs('f', { now: () => clock }));
    const { vfs, instance } = tv;
    const oldDir = await vfs.fs.createDir(instance, { dirId: ROOT_DIR_ID, name: 'old dir' });
    const oldInside = await up(tv, oldDir._id, 'x.txt', 'x');
    const oldFile = await up(tv, ROOT_DIR_ID, 'old.txt', 'old');
    await vfs.tree.trash(instance, oldDir._id);
    await vfs.tree.trash(instance, oldFile._id);
    expect((await vfs.fs.stat(instance, oldFile._id)).cozyMetadata).toMatchObject({ trashedAt: '2024-01-01T00:00:00.000Z' });
    clock = new Date('2024-01-25T00:00:00Z');
    const recent = await up(tv, ROOT_DIR_ID, 'recent.txt', 'recent');
    await vfs.tree.trash(instance, recent._id);
    clock = new Date('2024-02-05T00:00:00Z'); // 35 days after the first, 11 after the second
    await cleanOldTrashedWorker({ vfs, config: config(0) }).run(jobContext(instance, 'clean-old-trashed', null).ctx);
    expect(await gone(tv, oldFile._id)).toBe(false);
    const w = cleanOldTrashedWorker({ vfs, config: config(30) });
    expect(w).toMatchObject({ name: 'clean-old-trashed', internal: true });
    await w.run(jobContext(instance, 'clean-old-trashed', null).ctx);
    for (const id of [oldDir._id, oldInside._id, oldFile._id]) expect(await gone(tv, id)).toBe(true);
    expect(await gone(tv, recent._id)).toBe(false);
    // an injected clock of its own: 31 days after the second
    await cleanOldTrashedWorker({ vfs, config: config(30), now: () => new Date('2024-02-25T00:00:00Z') }).run(jobContext(instance, 'clean-old-trashed', null).ctx);
    expect(await gone(tv, recent._id)).toBe(true);
  });
});
