/**
 * The file system with its database and blobs on a disk that fills up (a real tmpfs of 4 MiB): an
 * upload whose blob fits but whose document cannot be committed gets 507, and nothing stored is
 * lost or left half done; once room is made, the same upload goes through.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestVfs, type TestVfs } from '../../test/helpers/vfs.js';
import { fsck } from './fsck.js';
import { ROOT_DIR_ID, type FileDoc } from './types.js';

let mnt = '';
let t: TestVfs;
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('this test mounts a 4 MiB tmpfs to fill it: run it as root (CI does)');
  mnt = mkdtempSync(join(tmpdir(), 'hearth-full-vfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]);
  t = openTestVfs('e', { root: mnt });
});
afterAll(async () => {
  await t?.close();
  if (mnt) {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});

/** Fills the disk: a file grown until nothing more fits. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const size of [64 * 1024, 4096, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

describe('a full disk', () => {
  it('answers 507 when the document cannot be committed, keeps what was stored, and takes the upload once room is made', async () => {
    const { fs } = t.vfs;
    const read = async (doc: FileDoc) => Buffer.concat(await (await fs.open(t.instance, doc)).toArray()).toString();
    const kept = await fs.upload(t.instance, { dirId: ROOT_DIR_ID, name: 'kept.txt', body: Readable.from([Buffer.from('kept')]), size: 4 });
    const filler = join(mnt, 'filler');
    fill(filler);
    // an empty file's blob takes no block; its document, with 200 kB of metadata, needs room in the WAL
    const big = { note: 'x'.repeat(200_000) };
    const attempt = () => fs.upload(t.instance, { dirId: ROOT_DIR_ID, name: 'empty.txt', body: Readable.from([]), size: 0, metadata: big });
    await expect(attempt()).rejects.toMatchObject({ status: 507, error: 'insufficient_storage' });
    await expect(fs.statByPath(t.instance, '/empty.txt')).rejects.toMatchObject({ status: 404 });
    expect(await read(await fs.stat(t.instance, kept._id))).toBe('kept');
    rmSync(filler);
    const done = await attempt();
    expect(done).toMatchObject({ name: 'empty.txt', size: '0' });
    expect((await fs.statByPath(t.instance, '/empty.txt'))._id).toBe(done._id);
    expect(await fsck(fs, t.instance)).toEqual([]);
  });
});
