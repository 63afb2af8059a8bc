/** POST /files/:id/copy on a directory (cozy-stack copies files only): the whole subtree, its refusals, all or nothing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { ROOT, mkdir, upload } from '../../../test/helpers/files.js';
import { until } from '../../../test/helpers/jobs.js';
import { request as httpRequest } from 'node:http';
import { planDirCopy, type CopyProgress } from '../copy.js';
import { progressThrottle } from './copy-progress.js';

let h: TestHearth;
let token: string;
beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.files');
});
afterAll(() => h.close());

type Item = { id: string; attributes: { name: string; type: string } };
/** The names below a directory, as "a/b/c.txt" paths, with each file's content. */
async function treeOf(id: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const res = await h.req('GET', `/files/${id}`, { token });
  for (const c of res.body.included as Item[]) {
    const path = `${prefix}${c.attributes.name}`;
    if (c.attributes.type === 'directory') Object.assign(out, { [`${path}/`]: '' }, await treeOf(c.id, `${path}/`));
    else out[path] = (await h.req('GET', `/files/download/${c.id}`, { token })).text;
  }
  return out;
}
const usage = async () => Number((await h.req('GET', '/settings/disk-usage', { token: await h.cliToken('io.cozy.settings') })).body.data.attributes.used);

async function holiday(name: string) {
  const top = await mkdir(h, token, ROOT, name);
  await upload(h, token, top.id, 'notes.txt', 'sun');
  const sub = await mkdir(h, token, top.id, 'Day 1');
  await upload(h, token, sub.id, 'beach.jpg', 'jpeg bytes');
  await mkdir(h, token, sub.id, 'empty');
  return { top, sub };
}

describe('copying a directory', () => {
  it('copies its whole subtree beside it as "name (copy)", or into DirID under Name; the source stays as it was', async () => {
    const { top } = await holiday('Holiday.2024');
    const want = { 'notes.txt': 'sun', 'Day 1/': '', 'Day 1/beach.jpg': 'jpeg bytes', 'Day 1/empty/': '' };
    const before = await usage();
    const c = await h.req('POST', `/files/${top.id}/copy`, { token });
    expect(c.status).toBe(201);
    expect(c.body.data.attributes).toMatchObject({ type: 'directory', name: 'Holiday.2024 (copy)', dir_id: ROOT, path: '/Holiday.2024 (copy)' });
    expect(c.body.data.id).not.toBe(top.id);
    expect(await treeOf(c.body.data.id)).toEqual(want);
    expect(await treeOf(top.id)).toEqual(want);
    expect(await usage()).toBe(before + 'sun'.length + 'jpeg bytes'.length);
    // a second copy beside it: "(copy 2)"
    expect((await h.req('POST', `/files/${top.id}/copy`, { token })).body.data.attributes.name).toBe('Holiday.2024 (copy 2)');
    const dest = await mkdir(h, token, ROOT, 'Archives');
    const c2 = await h.req('POST', `/files/${top.id}/copy?DirID=${dest.id}&Name=Holiday`, { token });
    expect(c2.status).toBe(201);
    expect(c2.body.data.attributes).toMatchObject({ name: 'Holiday', dir_id: dest.id, path: '/Archives/Holiday' });
    expect(await treeOf(c2.body.data.id)).toEqual(want);
    // the sub-directories of the copy have their own paths
    const day = (await h.req('GET', `/files/metadata?Path=${encodeURIComponent('/Archives/Holiday/Day 1/empty')}`, { token }));
    expect(day.status).toBe(200);
  });

  it('refuses a taken name (409), a copy into itself or below (422), the root and the trash, a bad name', async () => {
    const { top, sub } = await holiday('Trip');
    const dest = await mkdir(h, token, ROOT, 'Taken');
    await mkdir(h, token, dest.id, 'Trip');
    const refused = async (path: string) => {
      const res = await h.req('POST', path, { token });
      return [res.status, res.body.errors?.[0]?.status];
    };
    expect(await refused(`/files/${top.id}/copy?DirID=${dest.id}&Name=Trip`)).toEqual([409, '409']);
    expect(await refused(`/files/${top.id}/copy?DirID=${top.id}`)).toEqual([422, '422']);
    expect(await refused(`/files/${top.id}/copy?DirID=${sub.id}`)).toEqual([422, '422']);
    expect(await refused(`/files/${ROOT}/copy?DirID=${dest.id}`)).toEqual([422, '422']);
    expect(await refused(`/files/${top.id}/copy?DirID=io.cozy.files.trash-dir`)).toEqual([422, '422']);
    expect((await refused(`/files/${top.id}/copy?DirID=${dest.id}&Name=a%2Fb`))[0]).toBe(422);
    expect((await h.req('GET', `/files/${dest.id}`, { token })).body.included.map((c: Item) => c.attributes.name)).toEqual(['Trip']);
  });

  it('needs GET on the directory and POST where the copy goes', async () => {
    const { top } = await holiday('Private');
    const open = await mkdir(h, token, ROOT, 'Open');
    const readOnly = await h.cliToken('io.cozy.files:GET');
    expect((await h.req('POST', `/files/${top.id}/copy`, { token: readOnly })).status).toBe(403);
    // rights on "Open" only: may not read "Private", nor copy "Open" to the root
    const onOpen = await h.cliToken(`io.cozy.files:ALL:${open.id}`);
    expect((await h.req('POST', `/files/${top.id}/copy?DirID=${open.id}`, { token: onOpen })).status).toBe(403);
    const inner = await mkdir(h, token, open.id, 'inner');
    expect((await h.req('POST', `/files/${inner.id}/copy?DirID=${ROOT}`, { token: onOpen })).status).toBe(403);
    const within = await h.req('POST', `/files/${inner.id}/copy`, { token: onOpen });
    expect(within.status).toBe(201);
    expect(within.body.data.attributes.name).toBe('inner (copy)');
    expect((await h.req('POST', `/files/${top.id}/copy`)).status).toBe(401);
  });

  it('is all or nothing: over the quota, nothing of the copy is left and the usage is unchanged (413)', async () => {
    const top = await mkdir(h, token, ROOT, 'Big');
    await upload(h, token, top.id, 'a.bin', 'x'.repeat(100));
    const deeper = await mkdir(h, token, top.id, 'z');
    await upload(h, token, deeper.id, 'b.bin', 'y'.repeat(100));
    const used = await usage();
    await h.hearth.registry.modify(h.domain, { diskQuota: used + 150 });
    try {
      const res = await h.req('POST', `/files/${top.id}/copy?Name=Big2`, { token });
      expect(res.status).toBe(413);
      expect(await usage()).toBe(used);
      expect((await h.req('GET', `/files/metadata?Path=${encodeURIComponent('/Big2')}`, { token })).status).toBe(404);
    } finally {
      await h.hearth.registry.modify(h.domain, { diskQuota: null });
    }
  });
});

/** The NDJSON lines of a progress copy; `stopAfter` lines, the request is aborted (a cancel). */
function copyWithProgress(id: string, query = '', stopAfter = Infinity): Promise<{ status: number; lines: Array<Record<string, any>> }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return new Promise((resolve, reject) => {
    const headers = { host: h.domain, authorization: `Bearer ${token}`, accept: 'application/x-ndjson' };
    const req = httpRequest({ host: '127.0.0.1', port: h.port, method: 'POST', path: `/files/${id}/copy${query}`, headers, agent: false }, (res) => {
      const lines: Array<Record<string, unknown>> = [];
      let buf = '';
      res.on('data', (c: Buffer) => {
        buf += c.toString('utf8');
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          lines.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
          buf = buf.slice(i + 1);
        }
        if (lines.length >= stopAfter) {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, lines });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, lines: buf ? [...lines, JSON.parse(buf) as Record<string, unknown>] : lines }));
    });
    req.on('error', (err) => (stopAfter === Infinity ? reject(err) : undefined));
    req.end();
  });
}
const names = async (dirId: string): Promise<string[]> => ((await h.req('GET', `/files/${dirId}`, { token })).body.included as Item[]).map((c) => c.attributes.name);

describe('a directory copy with its progress, bound by the quota, cancellable', () => {
  it('is refused before it starts when its files would not fit in the quota, saying how much it needs (413, also when progress is asked)', async () => {
    const top = await mkdir(h, token, ROOT, 'Heavy');
    await upload(h, token, top.id, 'a.bin', 'x'.repeat(300));
    await upload(h, token, (await mkdir(h, token, top.id, 'deep')).id, 'b.bin', 'y'.repeat(200));
    const used = await usage();
    await h.hearth.registry.modify(h.domain, { diskQuota: used + 499 });
    try {
      const res = await h.req('POST', `/files/${top.id}/copy`, { token });
      expect(res.status).toBe(413);
      expect(res.body.errors[0].detail).toBe('the copy needs 500 bytes (2 files) and only 499 bytes are left of the quota: free some space or copy less');
      const streamed = await h.req('POST', `/files/${top.id}/copy`, { token, headers: { accept: 'application/x-ndjson' } });
      expect(streamed.status).toBe(413);
      expect(streamed.headers['content-type']).toContain('json');
      expect((await names(ROOT)).filter((n) => n.startsWith('Heavy'))).toEqual(['Heavy']);
      expect(await usage()).toBe(used);
      await h.hearth.registry.modify(h.domain, { diskQuota: used + 500 });
      expect((await h.req('POST', `/files/${top.id}/copy`, { token })).status).toBe(201);
    } finally {
      await h.hearth.registry.modify(h.domain, { diskQuota: null });
    }
  });

  it('tells its progress as NDJSON lines, then the copy', async () => {
    const top = await mkdir(h, token, ROOT, 'Album');
    for (let i = 0; i < 3; i++) await upload(h, token, top.id, `p${i}.jpg`, 'z'.repeat(10 * (i + 1)));
    await upload(h, token, (await mkdir(h, token, top.id, 'more')).id, 'q.txt', 'qq');
    const { status, lines } = await copyWithProgress(top.id, '?Name=Album%202');
    expect(status).toBe(200);
    const progress = lines.filter((l) => l.type === 'progress');
    expect(progress[0]).toEqual({ type: 'progress', files: 0, bytes: 0, total_files: 4, total_bytes: 62 });
    expect(progress.at(-1)).toEqual({ type: 'progress', files: 4, bytes: 62, total_files: 4, total_bytes: 62 });
    expect(progress.map((p) => p.files)).toEqual([...progress.map((p) => p.files)].sort((a, b) => a - b));
    expect(progress.map((p) => p.bytes)).toEqual([...progress.map((p) => p.bytes)].sort((a, b) => a - b));
    const done = lines.at(-1)!;
    expect(done).toMatchObject({ type: 'done', data: { type: 'io.cozy.files', attributes: { type: 'directory', name: 'Album 2', dir_id: ROOT } } });
    expect(await treeOf(done.data.id)).toEqual({ 'p0.jpg': 'z'.repeat(10), 'p1.jpg': 'z'.repeat(20), 'p2.jpg': 'z'.repeat(30), 'more/': '', 'more/q.txt': 'qq' });
  });

  it('is made under a name that says it is incomplete, and a cancel removes what it had copied', async () => {
    const top = await mkdir(h, token, ROOT, 'Docs');
    for (let i = 0; i < 4; i++) await upload(h, token, top.id, `d${i}.txt`, `doc ${i}`);
    const used = await usage();
    const fs = h.hearth.vfs.fs;
    const plan = await planDirCopy(h.hearth.vfs.tree, fs, h.instance, top.id);
    expect(plan.totals).toEqual({ files: 4, bytes: 20 });
    const cancel = new AbortController();
    const seen: string[] = [];
    await expect(plan.run({
      signal: cancel.signal,
      onProgress: (p) => {
        if (p.files === 2) cancel.abort(new Error('cancelled'));
      },
    }).finally(async () => seen.push(...await names(ROOT)))).rejects.toThrow('cancelled');
    expect(seen.filter((n) => n.startsWith('Docs'))).toEqual(['Docs']);
    expect(await usage()).toBe(used);
    // while it is made: "Docs (copy) (incomplete copy)", which a crash would leave as it is
    let during: string[] = [];
    const copy = await (await planDirCopy(h.hearth.vfs.tree, fs, h.instance, top.id)).run({ onProgress: async () => { during = await names(ROOT); } });
    expect(during).toContain('Docs (copy) (incomplete copy)');
    expect(copy.name).toBe('Docs (copy)');
    expect((await names(ROOT)).filter((n) => n.startsWith('Docs'))).toEqual(['Docs', 'Docs (copy)']);
  });

  it('moves by bytes within a large file, and a cancel stops it within that file', async () => {
    const top = await mkdir(h, token, ROOT, 'Film');
    const size = 8 * 1024 * 1024;
    expect((await h.req('POST', `/files/${top.id}?Type=file&Name=film.mkv`, { token, raw: Buffer.alloc(size, 5), headers: { 'content-type': 'application/octet-stream' } })).status).toBe(201);
    const used = await usage();
    const fs = h.hearth.vfs.fs;
    const heard: CopyProgress[] = [];
    const copy = await (await planDirCopy(h.hearth.vfs.tree, fs, h.instance, top.id)).run({ onProgress: (p) => void heard.push(p) });
    const within = heard.filter((p) => p.files === 0 && p.bytes > 0 && p.bytes < size);
    expect(within.length).toBeGreaterThanOrEqual(7); // the source is read in chunks of 1 MiB at most
    expect(heard.map((p) => p.bytes)).toEqual([...heard.map((p) => p.bytes)].sort((a, b) => a - b));
    expect(heard.at(-1)).toEqual({ files: 1, bytes: size });
    expect(await usage()).toBe(used + size);
    await h.req('DELETE', `/files/${copy._id}`, { token });
    await h.req('DELETE', '/files/trash', { token });

    const cancel = new AbortController();
    const seen: CopyProgress[] = [];
    const plan = await planDirCopy(h.hearth.vfs.tree, fs, h.instance, top.id, { name: 'Film 2' });
    await expect(plan.run({
      signal: cancel.signal,
      onProgress: (p) => {
        seen.push(p);
        if (p.bytes >= size / 4) cancel.abort(new Error('cancelled'));
      },
    })).rejects.toThrow('cancelled');
    expect(seen.every((p) => p.files === 0 && p.bytes < size)).toBe(true);
    expect((await names(ROOT)).filter((n) => n.startsWith('Film'))).toEqual(['Film']);
    expect(await usage()).toBe(used);
  });

  it('lets a progress line through at most every 200 ms, and always the last file\'s', () => {
    const clock = { t: 0 };
    const due = progressThrottle(3, 200, () => clock.t);
    const at = (t: number, files: number) => {
      clock.t = t;
      return due({ files, bytes: 0 });
    };
    expect([at(50, 0), at(199, 0), at(200, 0), at(300, 1), at(401, 1), at(402, 2), at(403, 3), at(404, 3)]).toEqual([false, false, true, false, true, false, true, true]);
  });

  it('stops and removes what it had copied when the client goes away', async () => {
    const top = await mkdir(h, token, ROOT, 'Many');
    for (let i = 0; i < 60; i++) await upload(h, token, top.id, `m${String(i).padStart(2, '0')}.txt`, `file ${i}`);
    const before = await usage();
    const { status, lines } = await copyWithProgress(top.id, '', 1);
    expect(status).toBe(200);
    expect(lines[0]).toMatchObject({ type: 'progress', files: 0, total_files: 60 });
    await until(async () => (await names(ROOT)).every((n) => !n.startsWith('Many (copy)')), 30_000);
    expect(await usage()).toBe(before);
  });
});
