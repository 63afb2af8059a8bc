/** zip then unzip through the VFS, and what unzip refuses (escaping names, too many entries, bombs, corrupt archives). */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import { afterAll, describe, expect, it } from 'vitest';
import type { FileDoc } from '../../files/types.js';
import { ROOT_DIR_ID } from '../../files/types.js';
import { jobContext } from '../../../test/helpers/job-context.js';
import { openTestVfs, type TestVfs } from '../../../test/helpers/vfs.js';
import { PermanentJobError } from '../types.js';
import { unzipWorker } from './unzip.js';
import { zipWorker } from './zip.js';

const t: TestVfs = openTestVfs('a');
afterAll(() => t.close());

const up = (dirId: string, name: string, s: string | Buffer) => t.vfs.fs.upload(t.instance, { dirId, name, body: Readable.from([Buffer.from(s)]) });
const mkdir = (name: string, dirId = ROOT_DIR_ID) => t.vfs.fs.createDir(t.instance, { dirId, name });
const read = async (doc: FileDoc) => Buffer.concat(await (await t.vfs.fs.open(t.instance, doc)).toArray());
const run = (w: ReturnType<typeof zipWorker>, args: unknown, instance = t.instance) => w.run(jobContext(instance, w.name, args).ctx);
const zip = zipWorker({ vfs: t.vfs });
const unzip = () => unzipWorker({ vfs: t.vfs });

/** Every file under a directory: {relative path: content}. */
async function tree(dirId: string, prefix = ''): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const d of (await t.vfs.fs.children(t.instance, dirId, { limit: 1000 })).docs) {
    if (d.type === 'directory') Object.assign(out, await tree(d._id, `${prefix}${d.name}/`));
    else out[prefix + d.name] = await read(d);
  }
  return out;
}

async function makeZip(entries: Array<[string, Buffer]>): Promise<Buffer> {
  const z = new ZipFile();
  for (const [name, data] of entries) z.addBuffer(data, name);
  z.end();
  return Buffer.concat(await (z.outputStream as Readable).toArray());
}

/** Rewrites each entry's uncompressed size (local header and central directory), as a lying archive does. */
function declareSize(zipBytes: Buffer, size: number): Buffer {
  const b = Buffer.from(zipBytes);
  for (let i = 0; i + 4 <= b.length; i++) {
    const sig = b.readUInt32LE(i);
    if (sig === 0x04034b50) b.writeUInt32LE(size, i + 22);
    if (sig === 0x02014b50) b.writeUInt32LE(size, i + 24);
  }
  return b;
}

async function blobCount(): Promise<number> {
  let n = 0;
  for await (const _key of t.blobs.keys(t.instance.id)) n++;
  return n;
}

async function refused(w: ReturnType<typeof unzipWorker>, args: unknown, instance = t.instance): Promise<string> {
  const e = await run(w, args, instance).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(PermanentJobError);
  return (e as Error).message;
}

describe('zip and unzip workers', () => {
  it('zips files at the given paths into the VFS, then unzips them back, byte for byte', async () => {
    expect(zip).toMatchObject({ name: 'zip', maxExecCount: 2, timeoutSeconds: 600 });
    expect(zip.internal).toBeFalsy();
    const src = await mkdir('src');
    const bin = randomBytes(1_500_000);
    const a = await up(src._id, 'a.txt', 'alpha été');
    const b = await up(src._id, 'b.bin', bin);
    const c = await up(ROOT_DIR_ID, 'c.txt', '');
    await run(zip, { files: { 'docs/a.txt': a._id, 'b.bin': b._id, 'deep/er/c.txt': { id: c._id } }, dir_id: src._id, filename: 'selection.zip' });
    const archive = (await t.vfs.fs.child(t.instance, src._id, 'selection.zip'))!;
    expect(archive).toMatchObject({ mime: 'application/zip', class: 'zip' });
    const out = await mkdir('out');
    await run(unzip(), { zip: archive._id, destination: out._id });
    const got = await tree(out._id);
    expect(Object.keys(got).sort()).toEqual(['b.bin', 'deep/er/c.txt', 'docs/a.txt']);
    expect(got['docs/a.txt']!.toString()).toBe('alpha été');
    expect(Buffer.compare(got['b.bin']!, bin)).toBe(0);
    expect(got['deep/er/c.txt']!.length).toBe(0);
    // again into the same place: cozy-stack's conflict names, nothing overwritten
    await run(unzip(), { zip: archive._id, destination: out._id });
    const names = (await t.vfs.fs.children(t.instance, out._id, { limit: 100 })).docs.map((d) => d.name);
    expect(names).toContain('b.bin');
    expect(names.some((n) => /^b\.bin - conflict - \d+$/.test(n))).toBe(true);
    expect(Object.keys(await tree(out._id)).filter((p) => p.startsWith('docs/a.txt')).length).toBe(2);
  });

  it('zip fails for good on a name taken, a trashed or missing file, a bad path', async () => {
    const f = await up(ROOT_DIR_ID, 'z.txt', 'z');
    await up(ROOT_DIR_ID, 'taken.zip', 'x');
    const gone = await up(ROOT_DIR_ID, 'gone.txt', 'g');
    await t.vfs.tree.trash(t.instance, gone._id);
    const fails = async (args: unknown, re: RegExp) => {
      const e = await run(zip, args).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(PermanentJobError);
      expect((e as Error).message).toMatch(re);
    };
    await fails({ files: { 'z.txt': f._id }, dir_id: ROOT_DIR_ID, filename: 'taken.zip' }, /"taken.zip" already exists/);
    await fails({ files: { 'g.txt': gone._id }, dir_id: ROOT_DIR_ID, filename: 'n.zip' }, /in the trash/);
    await fails({ files: { 'm.txt': 'no-such-id' }, dir_id: ROOT_DIR_ID, filename: 'n.zip' }, /no file or directory/);
    await fails({ files: { '../z.txt': f._id }, dir_id: ROOT_DIR_ID, filename: 'n.zip' }, /"\.\.\/z\.txt"/);
    await fails({ files: { 'z.txt': f._id }, dir_id: 'no-such-dir', filename: 'n.zip' }, /no file or directory/);
    expect(await t.vfs.fs.child(t.instance, ROOT_DIR_ID, 'n.zip')).toBeNull();
  });

  it('unzip refuses an entry escaping the destination, listing it, before writing anything', async () => {
    const bytes = await makeZip([['ok.txt', Buffer.from('fine')], ['xx/evil', Buffer.from('pwned')], ['qabs', Buffer.from('a')]]);
    const evil = Buffer.from(bytes.toString('latin1').replaceAll('xx/evil', '../evil').replaceAll('qabs', '/abs'), 'latin1');
    const z = await up(ROOT_DIR_ID, 'evil.zip', evil);
    const dest = await mkdir('evil-dest');
    const msg = await refused(unzip(), { zip: z._id, destination: dest._id });
    expect(msg).toContain('refused entries "../evil" (invalid relative path), "/abs" (absolute path)');
    expect(msg).not.toContain('ok.txt');
    expect(await tree(dest._id)).toEqual({});
    expect(await t.vfs.fs.child(t.instance, ROOT_DIR_ID, 'evil')).toBeNull();
  });

  it('unzip refuses too many entries, a corrupt archive, a missing destination', async () => {
    const many = await up(ROOT_DIR_ID, 'many.zip', await makeZip(Array.from({ length: 6 }, (_, i): [string, Buffer] => [`f${i}`, Buffer.from('x')])));
    const dest = await mkdir('many-dest');
    expect(await refused(unzipWorker({ vfs: t.vfs, maxEntries: 5 }), { zip: many._id, destination: dest._id })).toMatch(/6 entries, more than the 5/);
    const bad = await up(ROOT_DIR_ID, 'bad.zip', randomBytes(5000));
    expect(await refused(unzip(), { zip: bad._id, destination: dest._id })).toMatch(/"bad\.zip" is not a valid zip archive/);
    expect(await refused(unzip(), { zip: many._id, destination: 'nope' })).toMatch(/the destination: no file or directory/);
    expect(await tree(dest._id)).toEqual({});
  });

  it('unzip refuses an archive that inflates over the quota, and one lying about its sizes, leaving no half file', async () => {
    const bomb = await up(ROOT_DIR_ID, 'bomb.zip', await makeZip([['zeros.bin', Buffer.alloc(8 * 1024 * 1024)]]));
    expect(Number(bomb.size)).toBeLessThan(100_000);
    const dest = await mkdir('bomb-dest');
    const small = { ...t.instance, diskQuota: (await t.vfs.fs.diskUsage(t.instance)) + 1024 * 1024 };
    expect(await refused(unzip(), { zip: bomb._id, destination: dest._id }, small)).toMatch(/8388608 bytes uncompressed, more than the \d+ bytes left of the quota/);
    const liar = await up(ROOT_DIR_ID, 'liar.zip', declareSize(await makeZip([['zeros.bin', Buffer.alloc(200_000)]]), 1000));
    const blobs = await blobCount();
    expect(await refused(unzip(), { zip: liar._id, destination: dest._id })).toMatch(/corrupt at "zeros\.bin": too many bytes/);
    expect(await tree(dest._id)).toEqual({});
    expect(await blobCount()).toBe(blobs);
  });
});
