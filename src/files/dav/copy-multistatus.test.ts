/**
 * COPY of a collection whose members partly fail (RFC 4918 §9.8.8), on a real server: 207 Multi-Status with one
 * response per failed member and its status (507 over the quota, 404 when a source content is missing), the others
 * copied; a failure of the Request-URI itself is the answer itself.
 */
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type Res, type TestHearth } from '../../../test/helpers/hearth.js';

let h: TestHearth;
let token: string;

const basic = (password: string) => `Basic ${Buffer.from(`me:${password}`).toString('base64')}`;
function dav(method: string, path: string, opts: { body?: string | Buffer; headers?: Record<string, string>; auth?: string } = {}): Promise<Res> {
  return h.req(method, `/dav/files${path}`, { headers: { authorization: opts.auth ?? basic(token), ...opts.headers }, ...(opts.body === undefined ? {} : { raw: opts.body }) });
}
const copy = (from: string, to: string, headers: Record<string, string> = {}, auth?: string) => dav('COPY', from, { headers: { destination: `${h.url}/dav/files${to}`, ...headers }, ...(auth ? { auth } : {}) });

/** [href, status code, description] of each response of a multistatus. */
function statuses(xml: string): Array<[string, number, string]> {
  const doc = new XMLParser({ removeNSPrefix: true, isArray: (n) => n === 'response', processEntities: true }).parse(xml);
  return (doc.multistatus.response as Array<{ href: string; status: string; responsedescription: string }>).map((r) => [r.href, Number(r.status.split(' ')[1]), r.responsedescription]);
}

async function setQuota(extra: number | null): Promise<void> {
  const used = await h.hearth.vfs.fs.diskUsage(h.instance);
  await h.hearth.registry.modify(h.domain, { diskQuota: extra === null ? null : used + extra });
  h.instance = (await h.hearth.registry.get(h.domain))!;
}

beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.files');
  for (const c of ['/src', '/src/sub', '/src/sub/deeper']) expect((await dav('MKCOL', c)).status).toBe(201);
  const files: Array<[string, number]> = [['/src/a.txt', 600], ['/src/b big.bin', 5000], ['/src/c.txt', 10], ['/src/sub/d.txt', 20], ['/src/sub/deeper/e.txt', 30]];
  for (const [path, size] of files) expect((await dav('PUT', path.split('/').map(encodeURIComponent).join('/'), { body: Buffer.alloc(size, 0x61) })).status).toBe(201);
});
afterAll(() => h.close());

describe('COPY of a collection with failing members', () => {
  it('answers 207 with 507 for the member over the quota, and copies the others', async () => {
    await setQuota(1000); // a.txt (600) + the small ones fit, "b big.bin" (5000) does not
    try {
      const res = await copy('/src/', '/dst/');
      expect(res.status, res.text).toBe(207);
      expect(res.headers['content-type']).toContain('application/xml');
      expect(statuses(res.text)).toEqual([['/dav/files/dst/b%20big.bin', 507, expect.stringContaining('quota')]]);
      for (const [path, text] of [['/dst/a.txt', 'a'.repeat(600)], ['/dst/c.txt', 'a'.repeat(10)], ['/dst/sub/d.txt', 'a'.repeat(20)], ['/dst/sub/deeper/e.txt', 'a'.repeat(30)]] as const) {
        const got = await dav('GET', path);
        expect(got.status, path).toBe(200);
        expect(got.text).toBe(text);
      }
      expect((await dav('GET', '/dst/b%20big.bin')).status).toBe(404);
    } finally {
      await setQuota(null);
    }
  });

  it('lists a missing source content under its source URL (404), with the quota one; nothing below a failed collection', async () => {
    const lost = await h.hearth.vfs.fs.statByPath(h.instance, '/src/sub/d.txt');
    await h.hearth.vfs.fs.blobs.remove(h.instance.id, String(lost.internal_vfs_id));
    await setQuota(1000);
    try {
      const res = await copy('/src/', '/dst2/');
      expect(res.status, res.text).toBe(207);
      expect(statuses(res.text)).toEqual([
        ['/dav/files/dst2/b%20big.bin', 507, expect.any(String)],
        ['/dav/files/src/sub/d.txt', 404, expect.any(String)],
      ]);
      expect((await dav('GET', '/dst2/sub/deeper/e.txt')).status).toBe(200);
      expect((await dav('GET', '/dst2/sub/d.txt')).status).toBe(404);
    } finally {
      await setQuota(null);
    }
  });

  it('answers 201 when every member is copied, and the error itself when the top of the copy fails', async () => {
    expect((await copy('/src/sub/deeper/', '/whole/')).status).toBe(201);
    expect((await dav('GET', '/whole/e.txt')).text).toBe('a'.repeat(30));
    await setQuota(10);
    try {
      const single = await copy('/src/a.txt', '/a-copy.txt');
      expect(single.status).toBe(507);
      expect(single.text).toContain('<D:error');
      expect((await copy('/src/sub/deeper/', '/whole2/', { depth: '0' })).status).toBe(201); // a collection alone costs nothing
    } finally {
      await setQuota(null);
    }
  });

  it('still refuses before copying anything: no token, a read-only token, a foreign token, Overwrite F', async () => {
    expect((await h.req('COPY', '/dav/files/src/', { headers: { destination: `${h.url}/dav/files/x/` } })).status).toBe(401);
    const reader = await h.cliToken('io.cozy.files:GET');
    expect((await copy('/src/', '/by-reader/', {}, basic(reader))).status).toBe(403);
    const foreign = await h.cliToken('io.cozy.files', h.other);
    expect([400, 401]).toContain((await copy('/src/', '/by-foreign/', {}, basic(foreign))).status);
    expect((await copy('/src/', '/dst/', { overwrite: 'F' })).status).toBe(412);
    for (const p of ['/by-reader/', '/by-foreign/']) expect((await dav('PROPFIND', p, { headers: { depth: '0' } })).status).toBe(404);
  });
});
