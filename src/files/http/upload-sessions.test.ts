/**
 * Resumable uploads (POST/HEAD/GET/PATCH/DELETE /files/uploads) on a real server: the whole flow, the file as the cozy
 * upload makes it, and the refusals: another instance, another app, a read-only token, a wrong offset (409), too many
 * bytes (413), the quota, a name taken, a bad MD5, an expired session (met, or removed by the housekeeping), a cancel.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type Res, type TestHearth } from '../../../test/helpers/hearth.js';
import { ROOT, md5, mkdir, q, upload } from '../../../test/helpers/files.js';
import { until } from '../../../test/helpers/jobs.js';
import { FILES_DOCTYPE } from '../types.js';
import { MAX_SESSIONS } from '../upload-sessions.js';

let h: TestHearth;
let app: string;
let dir: string;

beforeAll(async () => {
  h = await startTestHearth();
  await h.hearth.perms.grant(h.instance, 'app', 'photos', 'io.cozy.files');
  await h.hearth.perms.grant(h.instance, 'app', 'notes', 'io.cozy.files');
  await h.hearth.perms.grant(h.instance, 'app', 'viewer', 'io.cozy.files:GET');
  app = await svc('photos');
  dir = (await mkdir(h, app, ROOT, 'Videos')).id;
});
afterAll(() => h.close());

function svc(slug: string): Promise<string> {
  return h.hearth.tokens.issue(h.instance, { aud: 'svc', sub: slug });
}

async function open(name: string, size: number, headers: Record<string, string> = {}, token = app): Promise<Res> {
  return h.req('POST', `/files/uploads?DirID=${dir}&Name=${q(name)}&Size=${size}`, { token, headers });
}
async function opened(name: string, content: Buffer, token = app): Promise<string> {
  const res = await open(name, content.length, { 'content-md5': md5(content), 'content-type': 'video/mp4' }, token);
  expect(res.status, res.text).toBe(201);
  return res.body.data.id as string;
}
function chunk(id: string, offset: number, bytes: Buffer, token = app, query = ''): Promise<Res> {
  return h.req('PATCH', `/files/uploads/${id}${query}`, { token, raw: bytes, headers: { 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' } });
}
async function blobCount(): Promise<number> {
  let n = 0;
  for await (const _ of h.hearth.vfs.fs.blobs.keys(h.instance.id)) n++;
  return n;
}

describe('a resumable upload', () => {
  it('takes chunks at the offset it holds and creates the file with the last one, as the cozy upload does', async () => {
    const content = randomBytes(3 * 1024 * 1024 + 17);
    const before = await blobCount();
    const res = await open('clip.mp4', content.length, { 'content-md5': md5(content), 'content-type': 'video/mp4' });
    expect(res.status, res.text).toBe(201);
    const id = res.body.data.id as string;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(res.headers.location).toBe(`http://${h.domain}/files/uploads/${id}`);
    expect(res.headers['upload-offset']).toBe('0');
    expect(res.body.data).toMatchObject({ type: 'io.cozy.files.uploads', attributes: { dir_id: dir, name: 'clip.mp4', size: content.length, offset: 0 } });

    const first = await chunk(id, 0, content.subarray(0, 1024 * 1024));
    expect([first.status, first.headers['upload-offset']]).toEqual([204, String(1024 * 1024)]);
    const head = await h.req('HEAD', `/files/uploads/${id}`, { token: app });
    expect([head.status, head.headers['upload-offset'], head.headers['upload-length']]).toEqual([200, String(1024 * 1024), String(content.length)]);
    expect((await chunk(id, 1024 * 1024, content.subarray(1024 * 1024, 2 * 1024 * 1024))).status).toBe(204);
    expect(await blobCount()).toBe(before + 2);
    // nothing is visible before the last chunk
    expect((await h.req('GET', `/files/metadata?Path=${q('/Videos/clip.mp4')}`, { token: app })).status).toBe(404);

    const last = await chunk(id, 2 * 1024 * 1024, content.subarray(2 * 1024 * 1024));
    expect(last.status, last.text).toBe(201);
    expect(last.body.data.attributes).toMatchObject({ name: 'clip.mp4', dir_id: dir, size: String(content.length), md5sum: md5(content), mime: 'video/mp4', class: 'video', cozyMetadata: { createdByApp: 'photos' } });
    expect(last.headers.location).toBe(`http://${h.domain}/files/${last.body.data.id}`);
    const down = await h.req('GET', `/files/download/${last.body.data.id}`, { token: app });
    expect(down.status).toBe(200);
    // the chunks went; only the file's blob is left
    expect(await blobCount()).toBe(before + 1);
    // a retried last chunk (its answer lost) gets the file, not a second one
    const again = await h.req('PATCH', `/files/uploads/${id}`, { token: app, headers: { 'upload-offset': String(content.length) } });
    expect([again.status, again.body.data.id]).toEqual([200, last.body.data.id]);
    const session = await h.req('GET', `/files/uploads/${id}`, { token: app });
    expect(session.body.data.attributes.history.map((x: { offset: number; bytes: number }) => [x.offset, x.bytes]))
      .toEqual([[0, 1024 * 1024], [1024 * 1024, 1024 * 1024], [2 * 1024 * 1024, content.length - 2 * 1024 * 1024]]);
    expect(session.body.data.attributes.file_id).toBe(last.body.data.id);
  });

  it('answers a wrong offset with 409 (and the right one), a chunk past the size with 413', async () => {
    const content = randomBytes(1000);
    const id = await opened('offsets.bin', content);
    expect((await chunk(id, 0, content.subarray(0, 400))).status).toBe(204);
    const behind = await chunk(id, 0, content.subarray(0, 400));
    expect(behind.status).toBe(409);
    expect(behind.headers['upload-offset']).toBe('400');
    expect(behind.body.errors[0]).toMatchObject({ status: '409', title: expect.any(String), detail: expect.stringContaining('offset 400') });
    expect((await chunk(id, 700, content.subarray(700))).status).toBe(409);
    const over = await chunk(id, 400, Buffer.concat([content.subarray(400), Buffer.alloc(1)]));
    expect(over.status).toBe(413);
    expect(over.body.errors[0].status).toBe('413');
    expect((await h.req('HEAD', `/files/uploads/${id}`, { token: app })).headers['upload-offset']).toBe('400');
    expect((await chunk(id, 400, content.subarray(400))).status).toBe(201);
  });

  it('belongs to its instance and its app: another instance, another app and a read-only token are refused', async () => {
    const content = randomBytes(100);
    const id = await opened('mine.bin', content);
    const notes = await svc('notes');
    for (const method of ['HEAD', 'GET', 'DELETE']) expect((await h.req(method, `/files/uploads/${id}`, { token: notes })).status, method).toBe(404);
    expect((await chunk(id, 0, content, notes)).status).toBe(404);
    expect((await h.req('GET', '/files/uploads', { token: notes })).body.data).toEqual([]);
    expect((await h.req('GET', '/files/uploads', { token: app })).body.data.map((s: { id: string }) => s.id)).toContain(id);
    // the other instance: its own token, its host
    const other = await h.hearth.tokens.issue(h.other, { aud: 'cli', sub: 'test', scope: 'io.cozy.files' });
    expect((await h.req('HEAD', `/files/uploads/${id}`, { token: other, host: h.otherDomain })).status).toBe(404);
    expect((await h.req('PATCH', `/files/uploads/${id}`, { token: other, host: h.otherDomain, raw: content, headers: { 'upload-offset': '0' } })).status).toBe(404);
    // a read-only app cannot open one; a read-only CLI token cannot continue a CLI session (same source, no right)
    expect((await open('ro.bin', 10, {}, await svc('viewer'))).status).toBe(403);
    const cli = await h.cliToken('io.cozy.files');
    const cliSession = await opened('cli.bin', content, cli);
    expect((await chunk(cliSession, 0, content, await h.cliToken('io.cozy.files:GET'))).status).toBe(403);
    expect((await chunk(cliSession, 0, content, cli)).status).toBe(201);
    expect((await chunk(id, 0, content)).status).toBe(201);
  });

  it('refuses bad names (422), a taken name (409), a missing size (422), what the quota cannot hold (413), and past the open sessions allowed (429)', async () => {
    for (const name of ['..', '../x', 'a/b', '']) expect((await open(name, 10)).status, name).toBe(422);
    expect((await h.req('POST', `/files/uploads?DirID=${dir}&Name=nosize.bin`, { token: app })).status).toBe(422);
    await upload(h, app, dir, 'taken.txt', 'x');
    const taken = await open('taken.txt', 10);
    expect(taken.status).toBe(409);
    expect(taken.body.errors[0].status).toBe('409');
    await h.hearth.registry.modify(h.domain, { diskQuota: 10_000_000 });
    try {
      expect((await open('huge.bin', 20_000_000)).status).toBe(413);
      // open sessions hold their room: two of 6 MB do not fit in 10 MB
      const a = await open('a.bin', 6_000_000);
      expect(a.status).toBe(201);
      expect((await open('b.bin', 6_000_000)).status).toBe(413);
      expect((await h.req('DELETE', `/files/uploads/${a.body.data.id}`, { token: app })).status).toBe(204);
    } finally {
      await h.hearth.registry.modify(h.domain, { diskQuota: null });
    }
    const many: string[] = [];
    const openNow = (await h.req('GET', '/files/uploads', { token: app })).body.data.filter((s: { attributes: { file_id?: string } }) => !s.attributes.file_id).length;
    for (let i = openNow; i < MAX_SESSIONS; i++) {
      many.push((await open(`many-${i}.bin`, 10)).body.data.id);
    }
    expect((await open('one-more.bin', 10)).status).toBe(429);
    for (const id of many) expect((await h.req('DELETE', `/files/uploads/${id}`, { token: app })).status).toBe(204);
  });

  it('keeps the session when the name was taken meanwhile, for a last try under another name; ends it on a bad MD5 (412)', async () => {
    const content = randomBytes(500);
    const id = await opened('race.bin', content);
    await upload(h, app, dir, 'race.bin', 'the other one');
    const clash = await chunk(id, 0, content);
    expect(clash.status).toBe(409);
    expect((await h.req('HEAD', `/files/uploads/${id}`, { token: app })).headers['upload-offset']).toBe('500');
    const renamed = await h.req('PATCH', `/files/uploads/${id}?Name=${q('race (2).bin')}`, { token: app, headers: { 'upload-offset': '500' } });
    expect(renamed.status, renamed.text).toBe(201);
    expect(renamed.body.data.attributes).toMatchObject({ name: 'race (2).bin', md5sum: md5(content) });

    const before = await blobCount();
    const bad = await open('bad.bin', 100, { 'content-md5': md5('something else') });
    const badId = bad.body.data.id as string;
    expect((await chunk(badId, 0, randomBytes(100))).status).toBe(412);
    expect((await h.req('HEAD', `/files/uploads/${badId}`, { token: app })).status).toBe(404);
    expect(await blobCount()).toBe(before);
    expect((await h.req('GET', `/files/metadata?Path=${q('/Videos/bad.bin')}`, { token: app })).status).toBe(404);
  });

  it('is removed with its bytes when cancelled, or once expired', async () => {
    const content = randomBytes(300);
    const before = await blobCount();
    const id = await opened('cancel.bin', content);
    expect((await chunk(id, 0, content.subarray(0, 100))).status).toBe(204);
    expect(await blobCount()).toBe(before + 1);
    expect((await h.req('DELETE', `/files/uploads/${id}`, { token: app })).status).toBe(204);
    expect((await h.req('HEAD', `/files/uploads/${id}`, { token: app })).status).toBe(404);
    expect(await blobCount()).toBe(before);

    const old = await opened('old.bin', content);
    expect((await chunk(old, 0, content.subarray(0, 100))).status).toBe(204);
    // the session's day is over (its expiry moved back, as time would)
    const store = h.hearth.storeOf(h.instance);
    const doc = await store.getLocal(FILES_DOCTYPE, `upload-session-${old}`);
    await store.putLocal(FILES_DOCTYPE, `upload-session-${old}`, { _rev: doc._rev as string, session: { ...(doc.session as object), expires_at: new Date(Date.now() - 1000).toISOString() } });
    expect((await chunk(old, 100, content.subarray(100))).status).toBe(404);
    expect((await h.req('GET', '/files/uploads', { token: app })).body.data.map((s: { id: string }) => s.id)).not.toContain(old);
    expect(await blobCount()).toBe(before);
  });

  it('left behind, is removed by the housekeeping\'s job due at its expiry', async () => {
    const content = randomBytes(300);
    const before = await blobCount();
    const id = await opened('left.bin', content);
    expect((await chunk(id, 0, content.subarray(0, 100))).status).toBe(204);
    const store = h.hearth.storeOf(h.instance);
    const doc = await store.getLocal(FILES_DOCTYPE, `upload-session-${id}`);
    await store.putLocal(FILES_DOCTYPE, `upload-session-${id}`, { _rev: doc._rev as string, session: { ...(doc.session as object), expires_at: new Date(Date.now() - 1000).toISOString() } });
    const hk = h.hearth.jobs.housekeeping;
    await until(async () => (await hk.run(Date.now() + 25 * 3_600_000)) > 0);
    await until(async () => (await blobCount()) === before);
    await expect(store.getLocal(FILES_DOCTYPE, `upload-session-${id}`)).rejects.toThrow();
  });
});
