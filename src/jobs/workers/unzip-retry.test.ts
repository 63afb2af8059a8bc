/**
 * A retried unzip job is idempotent: the entries a first try extracted before it was cut short are not
 * extracted again as " - conflict - " copies, and a conflict copy the first try made is not made twice.
 */
import { Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT_DIR_ID, type FileDoc } from '../../files/types.js';
import { jobContext } from '../../../test/helpers/job-context.js';
import { openTestVfs, type TestVfs } from '../../../test/helpers/vfs.js';
import { unzipWorker } from './unzip.js';

const t: TestVfs = openTestVfs('c');
afterAll(() => t.close());

async function makeZip(entries: Array<[string, Buffer]>): Promise<Buffer> {
  const z = new ZipFile();
  for (const [name, data] of entries) z.addBuffer(data, name, { compress: false });
  z.end();
  return Buffer.concat(await (z.outputStream as Readable).toArray());
}

const upload = (dirId: string, name: string, data: Buffer) => t.vfs.fs.upload(t.instance, { dirId, name, body: Readable.from([data]) });

async function names(dirId: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const d of (await t.vfs.fs.children(t.instance, dirId, { limit: 1000 })).docs as FileDoc[]) {
    if (d.type === 'directory') out.push(...(await names(d._id, `${prefix}${d.name}/`)));
    else out.push(prefix + d.name);
  }
  return out.sort();
}

describe('a retried unzip job', () => {
  it('skips what the cut-short try extracted, and makes each conflict copy once', async () => {
    const entries: Array<[string, Buffer]> = ['a.txt', 'dir/b.bin', 'dir/c.bin', 'd.bin', 'e.bin', 'f.bin'].map((n, i) => [n, Buffer.alloc(300_000 + i, 65 + i)]);
    const archive = await upload(ROOT_DIR_ID, 'archive.zip', await makeZip(entries));
    const dest = await t.vfs.fs.createDir(t.instance, { dirId: ROOT_DIR_ID, name: 'dest' });
    await upload(dest._id, 'a.txt', Buffer.from('there before the job')); // a.txt gets a conflict copy
    const w = unzipWorker({ vfs: t.vfs });
    const first = jobContext(t.instance, 'unzip', { zip: archive._id, destination: dest._id });
    first.ctx.job.queued_at = new Date(Date.now() - 1000).toISOString();
    // the first try is cut short (as a timeout or a shutdown does) once three files were extracted
    let created = 0;
    const off = t.bus.subscribe(t.instance.domain, 'io.cozy.files', (e) => {
      if (e.verb === 'CREATED' && e.doc.type === 'file' && ++created === 3) first.abort.abort(new Error('the job ran for more than its timeout'));
    });
    await expect(w.run(first.ctx)).rejects.toThrow(/timeout/);
    off();
    const partial = await names(dest._id);
    expect(partial.length).toBeGreaterThanOrEqual(4);
    expect(partial.length).toBeLessThan(7);
    // the retry: the same job (same id, same queued_at), one try more
    const retry = jobContext(t.instance, 'unzip', first.ctx.job.message);
    retry.ctx.job = { ...first.ctx.job, tries: 2 };
    await w.run(retry.ctx);
    const stamp = Math.floor(Date.parse(first.ctx.job.queued_at) / 1000);
    expect(await names(dest._id)).toEqual([`a.txt`, `a.txt - conflict - ${stamp}`, 'd.bin', 'dir/b.bin', 'dir/c.bin', 'e.bin', 'f.bin']);
    const conflict = (await t.vfs.fs.child(t.instance, dest._id, `a.txt - conflict - ${stamp}`))!;
    expect(Number(conflict.size)).toBe(300_000);
    // a run of another job still makes its own conflict copies
    const other = jobContext(t.instance, 'unzip', first.ctx.job.message);
    other.ctx.job.queued_at = new Date(Date.parse(first.ctx.job.queued_at) + 5000).toISOString();
    await w.run(other.ctx);
    expect((await names(dest._id)).filter((n) => n.includes(' - conflict - ')).length).toBe(7);
  });
});
