/** Old versions on a real store and real blobs: kept, spaced, capped, reverted, destroyed, counted in the quota. */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../instances/types.js';
import type { LocalBlobStore } from './blobs/local.js';
import { fsck } from './fsck.js';
import type { Vfs } from './vfs.js';
import { openTestVfs, type TestVfs } from '../../test/helpers/vfs.js';
import { versionsOf } from './versions.js';
import { ROOT_DIR_ID, type FileDoc } from './types.js';

let clock = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;
let t: TestVfs;
let vfs: Vfs;
let blobs: LocalBlobStore;
let instance: Instance;
beforeAll(() => {
  t = openTestVfs('d', { versions: { max: 4, minDelayMs: 15 * MIN }, now: () => new Date(clock) });
  ({ vfs, blobs, instance } = t);
});
afterAll(() => t.close());

const write = (f: FileDoc, s: string) => vfs.fs.overwrite(instance, f._id, { body: Readable.from([Buffer.from(s)]) });
const content = async (key: string) => Buffer.concat(await (await blobs.read(instance.id, key)).toArray()).toString();
/** The usage a fresh process would compute from the documents. */
const freshUsage = () => t.reopen().fs.diskUsage(instance);

describe('versions', () => {
  let f: FileDoc;

  it('keeps the replaced content as a version, but not two versions less than 15 minutes apart', async () => {
    f = await vfs.fs.upload(instance, { dirId: ROOT_DIR_ID, name: 'doc.txt', body: Readable.from([Buffer.from('v1')]) });
    clock += 20 * MIN;
    f = await write(f, 'v2');
    let versions = await versionsOf(vfs.fs, instance, f._id);
    expect(versions.map((v) => v.size)).toEqual(['2']);
    expect(await content(versions[0]!.internal_vfs_id)).toBe('v1');
    expect(versions[0]!._id).toMatch(new RegExp(`^${f._id}/[0-9a-f]{16}$`));

    clock += 5 * MIN; // v2 was uploaded 20 minutes after v1: it becomes a version
    f = await write(f, 'v3');
    clock += 1 * MIN; // v3 was uploaded 5 minutes after the v2 version: not kept
    const v3blob = String(f.internal_vfs_id);
    f = await write(f, 'v4');
    versions = await versionsOf(vfs.fs, instance, f._id);
    expect(await Promise.all(versions.map((v) => content(v.internal_vfs_id)))).toEqual(['v1', 'v2']);
    expect(await blobs.size(instance.id, v3blob)).toBeNull();
    expect(await vfs.fs.diskUsage(instance)).toBe(await freshUsage());
  });

  it('keeps at most `max` contents, the current one included, dropping the oldest', async () => {
    // v4 was uploaded 6 minutes after v2 (the last version): replaced by v5, it is not kept;
    // v5 and v6 are kept, and keeping v5 drops v1 (4 contents at most, the current one included)
    for (const s of ['v5', 'v6', 'v7']) {
      clock += 20 * MIN;
      f = await write(f, s);
    }
    const versions = await versionsOf(vfs.fs, instance, f._id);
    expect(await Promise.all(versions.map((v) => content(v.internal_vfs_id)))).toEqual(['v2', 'v5', 'v6']);
    expect(await content(String(f.internal_vfs_id))).toBe('v7');
    expect(await vfs.fs.diskUsage(instance)).toBe(await freshUsage());
  });

  it('reverts to an old version: its content is current again, the replaced one becomes a version', async () => {
    const [oldest] = await versionsOf(vfs.fs, instance, f._id);
    clock += 20 * MIN;
    f = await vfs.fs.revert(instance, f._id, oldest!._id.split('/')[1]!);
    expect(await content(String(f.internal_vfs_id))).toBe('v2');
    const versions = await versionsOf(vfs.fs, instance, f._id);
    expect(await Promise.all(versions.map((v) => content(v.internal_vfs_id)))).toEqual(['v5', 'v6', 'v7']);
    await expect(vfs.fs.revert(instance, f._id, 'nope')).rejects.toMatchObject({ status: 404 });
    expect(await vfs.fs.diskUsage(instance)).toBe(await freshUsage());
    expect(await fsck(vfs.fs, instance)).toEqual([]);
  });

  it('goes with its file when the file is destroyed', async () => {
    const keys = (await versionsOf(vfs.fs, instance, f._id)).map((v) => v.internal_vfs_id);
    await vfs.tree.trash(instance, f._id);
    await vfs.tree.destroy(instance, f._id);
    expect(await versionsOf(vfs.fs, instance, f._id)).toEqual([]);
    for (const k of keys) expect(await blobs.size(instance.id, k)).toBeNull();
    expect(await fsck(vfs.fs, instance)).toEqual([]);
    expect(await vfs.fs.diskUsage(instance)).toBe(0);
    expect(await freshUsage()).toBe(0);
  });
});
