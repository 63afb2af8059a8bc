/** Zips of a selection, streamed, read back by Python's zipfile (an independent reader). */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance } from '../instances/types.js';
import { zipOf } from './archive.js';
import type { Vfs } from './vfs.js';
import { openTestVfs, type TestVfs } from '../../test/helpers/vfs.js';
import { ROOT_DIR_ID } from './types.js';

let t: TestVfs;
let vfs: Vfs;
let instance: Instance;
let dir: string;
beforeAll(() => {
  t = openTestVfs('b');
  ({ vfs, instance, dir } = t);
});
afterAll(() => t.close());


const up = (dirId: string, name: string, s: string | Buffer) => vfs.fs.upload(instance, { dirId, name, body: Readable.from([Buffer.from(s)]) });

/** {path: content} of a zip, as Python's zipfile reads it (directories end with "/"; over 64 bytes, the length only). */
function unzip(bytes: Buffer): Record<string, string | number> {
  const file = join(dir, `z-${Date.now()}.zip`);
  writeFileSync(file, bytes);
  const py = 'import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nd={i.filename: z.read(i) for i in z.infolist()}\nprint(json.dumps({k: (v.decode("latin-1") if len(v) <= 64 else len(v)) for k, v in d.items()}))';
  return JSON.parse(execFileSync('python3', ['-c', py, file]).toString()) as Record<string, string | number>;
}

describe('zip of a selection', () => {
  it('streams files and directories with their subtrees, relative paths, odd names made safe, trashed files left out', async () => {
    const photos = await vfs.fs.createDir(instance, { dirId: ROOT_DIR_ID, name: 'Photos été' });
    const sub = await vfs.fs.createDir(instance, { dirId: photos._id, name: '2024' });
    await up(photos._id, 'a.jpg', 'jpeg a');
    await up(sub._id, 'b c.jpg', 'jpeg b');
    await up(sub._id, 'back\\slash.txt', 'bs');
    const gone = await up(sub._id, 'trashed.txt', 'no');
    await vfs.tree.trash(instance, gone._id);
    const note = await up(ROOT_DIR_ID, 'C:note.txt', 'note');
    const big = await up(ROOT_DIR_ID, 'big.bin', Buffer.alloc(3 * 1024 * 1024, 65));
    const stream = zipOf(vfs.fs, instance, [photos, note, big]);
    const bytes = Buffer.concat(await stream.toArray());
    const files = unzip(bytes);
    expect(Object.keys(files).sort()).toEqual(['C_note.txt', 'Photos été/', 'Photos été/2024/', 'Photos été/2024/b c.jpg', 'Photos été/2024/back_slash.txt', 'Photos été/a.jpg', 'big.bin']);
    expect(files['Photos été/2024/b c.jpg']).toBe('jpeg b');
    expect(files['big.bin']).toBe(3 * 1024 * 1024);
  });

  it('stores already-compressed types and deflates the rest', async () => {
    const many = await vfs.fs.createDir(instance, { dirId: ROOT_DIR_ID, name: 'many' });
    await up(many._id, 'photo.jpg', Buffer.alloc(4096, 1));
    await up(many._id, 'text.txt', Buffer.alloc(4096, 2));
    await Promise.all(Array.from({ length: 100 }, (_, i) => up(many._id, `n${i}.txt`, `note ${i}`)));
    const file = join(dir, 'methods.zip');
    writeFileSync(file, Buffer.concat(await zipOf(vfs.fs, instance, [many]).toArray()));
    const py = 'import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps({"n": len(z.infolist()), "m": {i.filename: i.compress_type for i in z.infolist() if not i.filename.startswith("many/n")}}))';
    const read = JSON.parse(execFileSync('python3', ['-c', py, file]).toString()) as { n: number; m: Record<string, number> };
    expect(read.n).toBe(103);
    // 0: stored, 8: deflated
    expect(read.m).toEqual({ 'many/': 0, 'many/photo.jpg': 0, 'many/text.txt': 8 });
  });

  it('ends the stream with an error when a blob is missing', async () => {
    const f = await up(ROOT_DIR_ID, 'lost.txt', 'x');
    await vfs.fs.blobs.remove(instance.id, String(f.internal_vfs_id));
    await expect(zipOf(vfs.fs, instance, [f]).toArray()).rejects.toMatchObject({ status: 404 });
  });
});
