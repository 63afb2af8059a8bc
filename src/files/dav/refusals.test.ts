/**
 * What /dav/files/ refuses, over plain HTTP on a real server: missing or foreign credentials, a
 * token without the right or limited to one directory, bad names, infinite PROPFIND, the quota,
 * conditional requests and locks; and what it does instead of destroying: DELETE trashes.
 */
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type Res, type TestHearth } from '../../../test/helpers/hearth.js';
import { TRASH_DIR_ID } from '../types.js';

let h: TestHearth;
let token: string;

const basic = (password: string, user = 'anyone') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const enc = (path: string) => `/dav/files${path.split('/').map(encodeURIComponent).join('/')}`;

function dav(method: string, path: string, opts: { auth?: string | null; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Res> {
  const headers: Record<string, string> = { ...opts.headers };
  const auth = opts.auth === undefined ? basic(token) : opts.auth;
  if (auth !== null) headers.authorization = auth;
  return h.req(method, path, { headers, ...(opts.body === undefined ? {} : { raw: opts.body }) });
}

const put = (path: string, body: string | Buffer, auth?: string, headers: Record<string, string> = {}) => dav('PUT', enc(path), { body, headers, ...(auth ? { auth } : {}) });

/** The hrefs and displaynames of a multistatus (namespace prefixes dropped). */
function hrefs(xml: string): Array<{ href: string; name: string }> {
  const doc = new XMLParser({ removeNSPrefix: true, isArray: (n) => n === 'response' || n === 'propstat', processEntities: true }).parse(xml);
  return (doc.multistatus.response as Array<Record<string, unknown>>).map((r) => {
    const ok = (r.propstat as Array<{ prop: Record<string, unknown>; status: string }>).find((p) => p.status.includes(' 200 '));
    return { href: String(r.href), name: String(ok?.prop.displayname ?? '') };
  });
}

beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.files');
  for (const d of ['/shared', '/private']) expect((await dav('MKCOL', enc(d))).status).toBe(201);
  expect((await put('/shared/inner.txt', 'inner')).status).toBe(201);
  expect((await put('/private/secret.txt', 'secret')).status).toBe(201);
});
afterAll(() => h.close());

describe('credentials', () => {
  it('answers 401 with a Basic challenge without credentials, and OPTIONS without them', async () => {
    for (const method of ['PROPFIND', 'GET', 'PUT', 'DELETE', 'MKCOL', 'LOCK']) {
      const res = await dav(method, enc('/shared/inner.txt'), { auth: null });
      expect(res.status, method).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="Hearth"');
    }
    const options = await dav('OPTIONS', '/dav/files/', { auth: null });
    expect(options.status).toBe(200);
    expect(options.headers.dav).toBe('1, 2');
    expect(String(options.headers.allow)).toContain('PROPFIND');
  });

  it('takes the token as the Basic password (any user name) or as a Bearer token', async () => {
    expect((await dav('GET', enc('/shared/inner.txt'), { auth: basic(token, 'whoever') })).text).toBe('inner');
    expect((await dav('GET', enc('/shared/inner.txt'), { auth: `Bearer ${token}` })).text).toBe('inner');
    expect((await dav('GET', enc('/shared/inner.txt'), { auth: basic('') })).status).toBe(401);
  });

  it("refuses another instance's token, and a forged one", async () => {
    const foreign = await h.cliToken('io.cozy.files', h.other);
    for (const auth of [basic(foreign), `Bearer ${foreign}`, basic(`${token.slice(0, -4)}AAAA`)]) {
      const res = await dav('PROPFIND', '/dav/files/', { auth, headers: { depth: '0' } });
      expect([400, 401]).toContain(res.status);
      expect(res.text).not.toContain('inner');
    }
  });

  it('refuses a token without rights on io.cozy.files (403), and writes with a read-only one', async () => {
    const contacts = await h.cliToken('io.cozy.contacts');
    expect((await dav('PROPFIND', '/dav/files/', { auth: basic(contacts), headers: { depth: '1' } })).status).toBe(403);
    expect((await dav('GET', enc('/shared/inner.txt'), { auth: basic(contacts) })).status).toBe(403);
    const reader = basic(await h.cliToken('io.cozy.files:GET'));
    expect((await dav('PROPFIND', '/dav/files/', { auth: reader, headers: { depth: '1' } })).status).toBe(207);
    expect((await put('/shared/nope.txt', 'x', reader)).status).toBe(403);
    expect((await dav('DELETE', enc('/shared/inner.txt'), { auth: reader })).status).toBe(403);
    expect((await dav('MKCOL', enc('/shared/sub'), { auth: reader })).status).toBe(403);
  });
});

describe('a token limited to one directory', () => {
  it('sees and changes only that subtree', async () => {
    const shared = await h.hearth.vfs.fs.statByPath(h.instance, '/shared');
    const auth = basic(await h.cliToken(`io.cozy.files:ALL:${shared._id}`));
    const listing = await dav('PROPFIND', enc('/shared/'), { auth, headers: { depth: '1' } });
    expect(listing.status).toBe(207);
    expect(hrefs(listing.text).map((r) => r.href)).toEqual(['/dav/files/shared/', '/dav/files/shared/inner.txt']);
    expect((await dav('GET', enc('/shared/inner.txt'), { auth })).text).toBe('inner');
    expect((await put('/shared/mine.txt', 'mine', auth)).status).toBe(201);
    expect((await dav('PROPFIND', '/dav/files/', { auth, headers: { depth: '1' } })).status).toBe(403);
    expect((await dav('GET', enc('/private/secret.txt'), { auth })).status).toBe(403);
    expect((await put('/private/planted.txt', 'x', auth)).status).toBe(403);
    const out = await dav('MOVE', enc('/shared/mine.txt'), { auth, headers: { destination: enc('/private/mine.txt') } });
    expect(out.status).toBe(403);
    const steal = await dav('COPY', enc('/private/secret.txt'), { auth, headers: { destination: enc('/shared/stolen.txt') } });
    expect(steal.status).toBe(403);
    expect((await dav('GET', enc('/shared/stolen.txt'), { auth })).status).toBe(404);
  });
});

describe('names and paths', () => {
  it('refuses "..", NUL, an encoded slash and a fragment in the URL and in the Destination', async () => {
    for (const raw of ['/dav/files/shared/../private/secret.txt', '/dav/files/shared/%2e%2e/private/secret.txt', '/dav/files/a%00b.txt', '/dav/files/shared%2Finner.txt', '/dav/files/shared//inner.txt', '/dav/files/a%ZZ']) {
      const res = await dav('GET', raw);
      expect(res.status, raw).toBe(400);
      expect((await dav('PUT', raw, { body: 'x' })).status, raw).toBe(400);
    }
    const res = await dav('COPY', enc('/shared/inner.txt'), { headers: { destination: `http://${h.domain}/dav/files/shared/../private/x.txt` } });
    expect(res.status).toBe(400);
    const elsewhere = await dav('COPY', enc('/shared/inner.txt'), { headers: { destination: 'http://elsewhere.example/dav/files/x.txt' } });
    expect(elsewhere.status).toBe(502);
  });

  it('keeps unicode, spaces and XML-special characters in names, escaped in the multistatus', async () => {
    const name = `été & <ünï> "q" 'a' #1 %20 ? 📷.txt`;
    expect((await put(`/shared/${name}`, 'special')).status).toBe(201);
    const listing = await dav('PROPFIND', enc('/shared/'), { headers: { depth: '1' } });
    const entry = hrefs(listing.text).find((r) => r.name === name);
    expect(entry?.href).toBe(`/dav/files/shared/${encodeURIComponent(name)}`);
    expect(decodeURIComponent(entry!.href.split('/').pop()!)).toBe(name);
    expect((await dav('GET', entry!.href)).text).toBe('special');
    expect((await h.hearth.vfs.fs.statByPath(h.instance, `/shared/${name}`)).name).toBe(name);
  });

  it('hides the trash: not listed, 404 to read, 403 to write', async () => {
    const root = await dav('PROPFIND', '/dav/files/', { headers: { depth: '1' } });
    expect(hrefs(root.text).map((r) => r.href)).not.toContain('/dav/files/.cozy_trash/');
    expect((await dav('PROPFIND', '/dav/files/.cozy_trash/', { headers: { depth: '1' } })).status).toBe(404);
    expect((await put('/.cozy_trash/x.txt', 'x')).status).toBe(403);
    const move = await dav('MOVE', enc('/shared/inner.txt'), { headers: { destination: '/dav/files/.cozy_trash/inner.txt' } });
    expect(move.status).toBe(403);
  });
});

describe('PROPFIND depth', () => {
  it('refuses Depth: infinity on a collection with propfind-finite-depth', async () => {
    for (const headers of [{ depth: 'infinity' }, {} as Record<string, string>]) {
      const res = await dav('PROPFIND', '/dav/files/', { headers });
      expect(res.status).toBe(403);
      expect(res.text).toContain('<D:propfind-finite-depth/>');
    }
    expect((await dav('PROPFIND', enc('/shared/inner.txt'), { headers: { depth: 'infinity' } })).status).toBe(207);
    expect((await dav('PROPFIND', '/dav/files/', { headers: { depth: '2' } })).status).toBe(400);
  });
});

describe('quota', () => {
  it('answers 507 when a PUT does not fit, before and while the body streams; quota properties follow', async () => {
    const used = await h.hearth.vfs.fs.diskUsage(h.instance);
    await h.hearth.registry.modify(h.domain, { diskQuota: used + 1000 });
    h.instance = (await h.hearth.registry.get(h.domain))!;
    try {
      expect((await put('/shared/big.bin', Buffer.alloc(2000, 7))).status).toBe(507);
      const chunked = await dav('PUT', enc('/shared/chunked.bin'), { body: Buffer.alloc(2_000_000, 7), headers: { 'transfer-encoding': 'chunked' } });
      expect(chunked.status).toBe(507);
      expect((await put('/shared/small.bin', Buffer.alloc(600, 7))).status).toBe(201);
      const q = await dav('PROPFIND', enc('/shared/'), {
        headers: { depth: '0' },
        body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:quota-available-bytes/><D:quota-used-bytes/></D:prop></D:propfind>',
      });
      expect(q.text).toContain(`<D:quota-available-bytes>400</D:quota-available-bytes>`);
      expect(q.text).toContain(`<D:quota-used-bytes>${used + 600}</D:quota-used-bytes>`);
      expect((await dav('GET', enc('/shared/big.bin'))).status).toBe(404);
    } finally {
      await h.hearth.registry.modify(h.domain, { diskQuota: null });
      h.instance = (await h.hearth.registry.get(h.domain))!;
    }
  });
});

describe('DELETE', () => {
  it('moves files and collections to the Hearth trash, where they can be restored', async () => {
    expect((await put('/shared/doomed.txt', 'doomed')).status).toBe(201);
    expect((await dav('MKCOL', enc('/shared/doomed dir'))).status).toBe(201);
    expect((await put('/shared/doomed dir/child.txt', 'child')).status).toBe(201);
    expect((await dav('DELETE', enc('/shared/doomed.txt'))).status).toBe(204);
    expect((await dav('DELETE', enc('/shared/doomed dir/'))).status).toBe(204);
    expect((await dav('GET', enc('/shared/doomed.txt'))).status).toBe(404);
    expect((await dav('DELETE', enc('/shared/doomed.txt'))).status).toBe(404);
    const trash = (await h.hearth.vfs.fs.children(h.instance, TRASH_DIR_ID, { limit: 100 })).docs;
    const file = trash.find((d) => d.name === 'doomed.txt');
    expect(file).toMatchObject({ type: 'file', trashed: true, restore_path: '/shared' });
    expect(trash.find((d) => d.name === 'doomed dir')).toMatchObject({ type: 'directory', restore_path: '/shared' });
    expect((await h.hearth.vfs.fs.statByPath(h.instance, '/.cozy_trash/doomed dir/child.txt')).trashed).toBe(true);
    await h.hearth.vfs.tree.restore(h.instance, file!._id);
    expect((await dav('GET', enc('/shared/doomed.txt'))).text).toBe('doomed');
    expect((await dav('DELETE', '/dav/files/')).status).toBe(403);
  });
});

describe('conditional requests and locks', () => {
  it('follows If-Match and If-None-Match on PUT and GET', async () => {
    expect((await put('/shared/cond.txt', 'v1', undefined, { 'if-none-match': '*' })).status).toBe(201);
    expect((await put('/shared/cond.txt', 'v2', undefined, { 'if-none-match': '*' })).status).toBe(412);
    const get = await dav('GET', enc('/shared/cond.txt'));
    const etag = String(get.headers.etag);
    expect(etag).toMatch(/^"[A-Za-z0-9+/=]{24}"$/);
    expect((await dav('GET', enc('/shared/cond.txt'), { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await put('/shared/cond.txt', 'v2', undefined, { 'if-match': '"nope"' })).status).toBe(412);
    expect((await put('/shared/cond.txt', 'v2', undefined, { 'if-match': etag })).status).toBe(204);
    expect((await put('/shared/absent.txt', 'x', undefined, { 'if-match': '*' })).status).toBe(412);
    const range = await dav('GET', enc('/shared/cond.txt'), { headers: { range: 'bytes=1-' } });
    expect(range.status).toBe(206);
    expect(range.text).toBe('2');
    expect(range.headers['content-range']).toBe('bytes 1-1/2');
  });

  it('answers 423 to writes on a locked file without its token, and takes them with it', async () => {
    const lockinfo = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>me</D:owner></D:lockinfo>';
    const lock = await dav('LOCK', enc('/shared/cond.txt'), { body: lockinfo, headers: { timeout: 'Second-60' } });
    expect(lock.status).toBe(200);
    const lockToken = String(lock.headers['lock-token']);
    expect(lockToken).toMatch(/^<opaquelocktoken:[0-9a-f-]{36}>$/);
    expect((await put('/shared/cond.txt', 'v3')).status).toBe(423);
    expect((await dav('DELETE', enc('/shared/cond.txt'))).status).toBe(423);
    expect((await dav('MOVE', enc('/shared/cond.txt'), { headers: { destination: enc('/shared/moved.txt') } })).status).toBe(423);
    expect((await put('/shared/cond.txt', 'v3', undefined, { if: `(${lockToken})` })).status).toBe(204);
    expect((await dav('UNLOCK', enc('/shared/cond.txt'), { headers: { 'lock-token': '<opaquelocktoken:other>' } })).status).toBe(409);
    expect((await dav('UNLOCK', enc('/shared/cond.txt'), { headers: { 'lock-token': lockToken } })).status).toBe(204);
    expect((await put('/shared/cond.txt', 'v4')).status).toBe(204);
  });
});
