/** POST /files/:dir-id (directories, raw uploads), PUT /files/:id, and GET /settings/disk-usage on a real server. */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { ROOT, md5, mkdir, q, upload } from '../../../test/helpers/files.js';

let h: TestHearth;
let token: string;
let docs: string;

beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.files');
  docs = (await mkdir(h, token, ROOT, 'Documents')).id;
});
afterAll(() => h.close());

const usage = async () => (await h.req('GET', '/settings/disk-usage', { token: await h.cliToken('io.cozy.settings') })).body.data.attributes;

async function setQuota(diskQuota: number | null) {
  await h.hearth.registry.modify(h.domain, { diskQuota });
  h.instance = (await h.hearth.registry.get(h.domain))!;
}

describe('creating directories', () => {
  it('answers 201, a Location and the JSON-API document, with its path, tags and dates', async () => {
    const res = await h.req('POST', `/files/${docs}?Type=directory&Name=phone&Tags=bills,konnectors,bills`, { token, headers: { date: 'Mon, 19 Sep 2016 12:35:08 GMT' } });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(res.headers.location).toBe(`http://${h.domain}/files/${res.body.data.id}`);
    expect(res.body.data).toMatchObject({
      type: 'io.cozy.files',
      meta: { rev: expect.stringMatching(/^1-/) },
      attributes: { type: 'directory', name: 'phone', dir_id: docs, path: '/Documents/phone', tags: ['bills', 'konnectors'], created_at: '2016-09-19T12:35:08.000Z' },
      relationships: { parent: { data: { type: 'io.cozy.files', id: docs }, links: { related: `/files/${docs}` } } },
      links: { self: `/files/${res.body.data.id}` },
    });
  });

  it('creates at the root with POST /files/ and takes CreatedAt over the Date header', async () => {
    const res = await h.req('POST', '/files/?Type=directory&Name=Photos&CreatedAt=2020-01-02T03:04:05Z', { token, headers: { date: 'Mon, 19 Sep 2016 12:35:08 GMT' } });
    expect(res.status).toBe(201);
    expect(res.body.data.attributes).toMatchObject({ dir_id: ROOT, path: '/Photos', created_at: '2020-01-02T03:04:05.000Z' });
    const bare = await h.req('POST', '/files?Type=directory&Name=NoSlash', { token });
    expect([bare.status, bare.body.data.attributes.path]).toEqual([201, '/NoSlash']);
  });

  it('refuses a bad Type, a missing or forbidden name (422), a missing parent (404), a taken name (409)', async () => {
    const refused = async (path: string, status: number) => {
      const res = await h.req('POST', path, { token });
      expect(res.status, `${path}: ${res.text}`).toBe(status);
      expect(res.body.errors[0]).toMatchObject({ status: String(status), title: expect.any(String), detail: expect.any(String) });
    };
    await refused(`/files/${docs}?Type=folder&Name=x`, 422);
    await refused(`/files/${docs}?Type=directory`, 422);
    await refused(`/files/${docs}?Type=directory&Name=`, 422);
    await refused(`/files/${docs}?Type=directory&Name=..`, 422);
    await refused(`/files/${docs}?Type=directory&Name=a%00b`, 422);
    await refused(`/files/${docs}?Type=directory&Name=a%2Fb`, 422);
    await refused(`/files/${docs}?Type=directory&Name=${q('é'.repeat(128))}`, 422); // 256 bytes
    await refused(`/files/${docs}?Type=directory&Name=x&CreatedAt=yesterday`, 422);
    await refused('/files/no-such-dir?Type=directory&Name=x', 404);
    await refused(`/files/${docs}?Type=directory&Name=phone`, 409);
    // 255 bytes is the limit, not beyond
    expect((await h.req('POST', `/files/${docs}?Type=directory&Name=${q('é'.repeat(127) + 'a')}`, { token })).status).toBe(201);
  });
});

describe('uploading files', () => {
  it('streams a raw body, checks its Content-MD5, and answers the file document without its blob key', async () => {
    const res = await h.req('POST', `/files/${docs}?Type=file&Name=hello.txt&Tags=poem&Executable=true&CreatedAt=2016-09-18T01:23:45Z`, {
      token, raw: 'Hello world!', headers: { 'content-type': 'text/plain', 'content-md5': 'hvsmnRkNLIX24EaM7KQqIA==' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`http://${h.domain}/files/${res.body.data.id}`);
    const a = res.body.data.attributes;
    expect(a).toMatchObject({
      type: 'file', name: 'hello.txt', dir_id: docs, size: '12', md5sum: 'hvsmnRkNLIX24EaM7KQqIA==', mime: 'text/plain', class: 'text',
      executable: true, trashed: false, tags: ['poem'], created_at: '2016-09-18T01:23:45.000Z',
    });
    expect(a.path).toBeUndefined();
    expect(a.internal_vfs_id).toBeUndefined();
    expect(res.text).not.toContain('internal_vfs_id');
    expect(res.body.data.links).toEqual({ self: `/files/${res.body.data.id}`, related: `/files/download/${res.body.data.id}` });
    const back = await h.req('GET', `/files/download/${res.body.data.id}`, { token });
    expect(back.text).toBe('Hello world!');
  });

  it('keeps SourceAccount and SourceAccountIdentifier in cozyMetadata (files, directories, overwrites), as konnectors send them', async () => {
    const src = 'SourceAccount=acc-1&SourceAccountIdentifier=alice%40example.org';
    const f = await upload(h, token, docs, 'from-a-konnector.txt', 'k', {});
    expect(f.attributes.cozyMetadata.sourceAccount).toBeUndefined();
    const res = await h.req('POST', `/files/${docs}?Type=file&Name=sourced.txt&${src}`, { token, raw: 'bill' });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data.attributes.cozyMetadata).toMatchObject({ sourceAccount: 'acc-1', sourceAccountIdentifier: 'alice@example.org' });
    const dir = await h.req('POST', `/files/${docs}?Type=directory&Name=Sourced&${src}`, { token });
    expect(dir.body.data.attributes.cozyMetadata).toMatchObject({ sourceAccount: 'acc-1', sourceAccountIdentifier: 'alice@example.org' });
    const put = await h.req('PUT', `/files/${f.id}?SourceAccount=acc-2&SourceAccountIdentifier=bob`, { token, raw: 'k2' });
    expect(put.body.data.attributes.cozyMetadata).toMatchObject({ sourceAccount: 'acc-2', sourceAccountIdentifier: 'bob' });
    // the libs find the files they saved by these fields (POST /files/_find)
    const found = await h.req('POST', '/files/_find', { token, body: { selector: { 'cozyMetadata.sourceAccountIdentifier': 'alice@example.org', type: 'file' } } });
    expect(found.body.data.map((d: { id: string }) => d.id)).toEqual([res.body.data.id]);
    for (const bad of ['SourceAccount=a&SourceAccount=b', `SourceAccountIdentifier=${'x'.repeat(1025)}`, 'SourceAccount=%0A']) {
      const refused = await h.req('POST', `/files/${docs}?Type=file&Name=refused.txt&${bad}`, { token, raw: 'x' });
      expect(refused.status, bad).toBe(422);
    }
  });

  it('refuses a Content-MD5 that does not match (412) and keeps nothing', async () => {
    const before = await usage();
    const res = await h.req('POST', `/files/${docs}?Type=file&Name=bad.txt`, { token, raw: 'Hello world?', headers: { 'content-md5': 'hvsmnRkNLIX24EaM7KQqIA==' } });
    expect(res.status).toBe(412);
    expect(res.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(res.body.errors[0].detail).toContain('MD5');
    expect((await h.req('GET', `/files/metadata?Path=${q('/Documents/bad.txt')}`, { token })).status).toBe(404);
    expect((await usage()).used).toBe(before.used);
  });

  it('refuses a malformed Content-MD5 (422), a name conflict (409), a missing parent (404), bad names (422)', async () => {
    expect((await h.req('POST', `/files/${docs}?Type=file&Name=x.txt`, { token, raw: 'x', headers: { 'content-md5': 'not-an-md5' } })).status).toBe(422);
    await upload(h, token, docs, 'taken.txt', 'first');
    const conflict = await h.req('POST', `/files/${docs}?Type=file&Name=taken.txt`, { token, raw: 'second' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.errors[0].detail).toContain('taken.txt');
    expect((await h.req('POST', '/files/nowhere?Type=file&Name=x.txt', { token, raw: 'x' })).status).toBe(404);
    for (const name of ['..', '.', 'a%00b', 'a%2Fb', 'x'.repeat(256)]) {
      expect((await h.req('POST', `/files/${docs}?Type=file&Name=${name}`, { token, raw: 'x' })).status, name).toBe(422);
    }
    expect((await h.req('POST', `/files/${docs}?Type=file&Name=x.txt&Executable=maybe`, { token, raw: 'x' })).status).toBe(422);
  });

  it('reads a file larger than the JSON body limit: the body is streamed, never parsed', async () => {
    const big = randomBytes(h.hearth.config.server.bodyLimit + 1024 * 1024);
    const res = await h.req('POST', `/files/${docs}?Type=file&Name=big.bin`, { token, raw: big, headers: { 'content-type': 'application/json', 'content-md5': md5(big) } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data.attributes).toMatchObject({ size: String(big.length), md5sum: md5(big) });
  });

  it('uses Size= when the body is chunked, and refuses a body that does not match it (412)', async () => {
    const ok = await h.req('POST', `/files/${docs}?Type=file&Name=chunked.txt&Size=5`, { token, raw: 'abcde', headers: { 'transfer-encoding': 'chunked' } });
    expect(ok.status).toBe(201);
    expect(ok.body.data.attributes.size).toBe('5');
    const bad = await h.req('POST', `/files/${docs}?Type=file&Name=chunked2.txt&Size=4`, { token, raw: 'abcde', headers: { 'transfer-encoding': 'chunked' } });
    expect(bad.status).toBe(412);
  });
});

describe('an interrupted upload', () => {
  it('leaves no file, no blob and no temporary file when the client goes away mid-body', async () => {
    const keys = async () => {
      const out: string[] = [];
      for await (const k of h.hearth.vfs.fs.blobs.keys(h.instance.id)) out.push(k);
      return out;
    };
    const tmp = join(h.dataDir, 'instances', h.instance.id, 'files', '.tmp');
    const before = await keys();
    const r = httpRequest({
      host: '127.0.0.1', port: h.port, method: 'POST', path: `/files/${docs}?Type=file&Name=cut.bin`,
      headers: { host: h.domain, authorization: `Bearer ${token}`, 'content-length': String(1024 * 1024) },
    });
    r.on('error', () => undefined);
    await new Promise((sent) => r.write(Buffer.alloc(64 * 1024, 1), sent));
    // on the local disk, the server has started writing the blob's temporary file, and removes it (an object store
    // shows nothing of an upload in progress: the blob-store suite checks that it keeps nothing of a cut one)
    const onDisk = h.hearth.config.blobs.engine === 'local';
    if (onDisk) await vi.waitFor(async () => expect((await readdir(tmp)).length).toBe(1));
    r.destroy();
    if (onDisk) await vi.waitFor(async () => expect(await readdir(tmp)).toEqual([]));
    expect(await keys()).toEqual(before);
    expect((await h.req('GET', `/files/metadata?Path=${q('/Documents/cut.bin')}`, { token })).status).toBe(404);
    // and the server goes on serving
    expect((await upload(h, token, docs, 'cut.bin', 'whole')).attributes.size).toBe('5');
  });
});

describe('a large upload (its batches hashed and written by the hashing thread)', () => {
  const tmp = () => join(h.dataDir, 'instances', h.instance.id, 'files', '.tmp');
  const keys = async () => {
    const out: string[] = [];
    for await (const k of h.hearth.vfs.fs.blobs.keys(h.instance.id)) out.push(k);
    return out.sort();
  };
  /** 10 MiB (a few batches) starting as a PDF, so that its type can only come from its first bytes. */
  const big = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(10 * 1024 * 1024)]);

  it('stores the body exactly, with its MD5 and the type read from its first bytes', async () => {
    const res = await h.req('POST', `/files/${docs}?Type=file&Name=large-noext`, { token, raw: big, headers: { 'content-type': 'application/octet-stream', 'content-md5': md5(big) } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data.attributes).toMatchObject({ size: String(big.length), md5sum: md5(big), mime: 'application/pdf' });
    const back = await new Promise<Buffer>((resolve, reject) => {
      const headers = { host: h.domain, authorization: `Bearer ${token}` };
      httpRequest({ host: '127.0.0.1', port: h.port, path: `/files/download/${res.body.data.id}`, headers }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
      }).on('error', reject).end();
    });
    expect(back.equals(big)).toBe(true);
  });

  it('refuses a Content-MD5 that does not match (412) and keeps nothing: no file, no blob, no temporary file', async () => {
    const before = await keys();
    const res = await h.req('POST', `/files/${docs}?Type=file&Name=large-bad.bin`, { token, raw: big, headers: { 'content-md5': md5('something else') } });
    expect(res.status).toBe(412);
    expect(res.body.errors[0].detail).toContain('MD5');
    expect((await h.req('GET', `/files/metadata?Path=${q('/Documents/large-bad.bin')}`, { token })).status).toBe(404);
    expect(await keys()).toEqual(before);
    if (h.hearth.config.blobs.engine === 'local') expect(await readdir(tmp())).toEqual([]);
  });

  it('leaves nothing when the client goes away after several batches', async () => {
    const before = await keys();
    const r = httpRequest({
      host: '127.0.0.1', port: h.port, method: 'POST', path: `/files/${docs}?Type=file&Name=large-cut.bin`,
      headers: { host: h.domain, authorization: `Bearer ${token}`, 'content-length': String(big.length) },
    });
    r.on('error', () => undefined);
    await new Promise((sent) => r.write(big.subarray(0, 9 * 1024 * 1024), sent));
    const onDisk = h.hearth.config.blobs.engine === 'local';
    if (onDisk) await vi.waitFor(async () => expect((await readdir(tmp())).length).toBe(1));
    r.destroy();
    if (onDisk) await vi.waitFor(async () => expect(await readdir(tmp())).toEqual([]));
    expect(await keys()).toEqual(before);
    expect((await h.req('GET', `/files/metadata?Path=${q('/Documents/large-cut.bin')}`, { token })).status).toBe(404);
  });
});

describe('the quota', () => {
  it('refuses what does not fit (413) before and while streaming, and the usage says so', async () => {
    const used = Number((await usage()).used);
    await setQuota(used + 10);
    try {
      expect(await usage()).toMatchObject({ used: String(used), quota: String(used + 10) });
      const announced = await h.req('POST', `/files/${docs}?Type=file&Name=big.txt`, { token, raw: 'x'.repeat(11) });
      expect(announced.status).toBe(413);
      expect(announced.body.errors[0].status).toBe('413');
      // without a length, the upload is cut once the quota is passed
      const streamed = await h.req('POST', `/files/${docs}?Type=file&Name=big.txt`, { token, raw: 'x'.repeat(64 * 1024), headers: { 'transfer-encoding': 'chunked' } });
      expect(streamed.status).toBe(413);
      expect((await usage()).used).toBe(String(used));
      const fits = await h.req('POST', `/files/${docs}?Type=file&Name=small.txt`, { token, raw: 'x'.repeat(10) });
      expect(fits.status).toBe(201);
      expect((await usage()).used).toBe(String(used + 10));
    } finally {
      await setQuota(null);
    }
    expect((await usage()).quota).toBeUndefined();
  });
});

describe('PUT /files/:id', () => {
  it('takes UpdatedAt (else the Date header) for updated_at, on upload and on overwrite, and Tags on overwrite', async () => {
    const f = await h.req('POST', `/files/${docs}?Type=file&Name=dated.txt&UpdatedAt=2021-05-06T07:08:09Z`, { token, raw: 'd' });
    expect(f.body.data.attributes).toMatchObject({ updated_at: '2021-05-06T07:08:09.000Z', created_at: '2021-05-06T07:08:09.000Z' });
    const put = await h.req('PUT', `/files/${f.body.data.id}?Tags=a,b`, { token, raw: 'dd', headers: { date: 'Tue, 07 Sep 2021 10:00:00 GMT' } });
    expect(put.body.data.attributes).toMatchObject({ updated_at: '2021-09-07T10:00:00.000Z', tags: ['a', 'b'], created_at: '2021-05-06T07:08:09.000Z' });
  });

  it('overwrites the content, with If-Match, and refuses a stale one (412)', async () => {
    const f = await upload(h, token, docs, 'note.md', 'v1');
    const res = await h.req('PUT', `/files/${f.id}`, { token, raw: 'version 2', headers: { 'if-match': f.rev, 'content-md5': md5('version 2') } });
    expect(res.status).toBe(200);
    expect(res.body.data.attributes).toMatchObject({ name: 'note.md', size: '9', md5sum: md5('version 2') });
    expect(res.body.data.meta.rev).toMatch(/^2-/);
    const stale = await h.req('PUT', `/files/${f.id}`, { token, raw: 'version 3', headers: { 'if-match': f.rev } });
    expect(stale.status).toBe(412);
    expect(stale.body.errors[0].detail).toContain('If-Match');
    expect((await h.req('GET', `/files/download/${f.id}`, { token })).text).toBe('version 2');
  });

  it('refuses an MD5 mismatch (412) and keeps the old content; refuses directories (422) and unknown ids (404)', async () => {
    const f = await upload(h, token, docs, 'keep.txt', 'kept');
    expect((await h.req('PUT', `/files/${f.id}`, { token, raw: 'lost', headers: { 'content-md5': md5('other') } })).status).toBe(412);
    expect((await h.req('GET', `/files/download/${f.id}`, { token })).text).toBe('kept');
    expect((await h.req('PUT', `/files/${docs}`, { token, raw: 'x' })).status).toBe(422);
    expect((await h.req('PUT', '/files/nothing-here', { token, raw: 'x' })).status).toBe(404);
  });
});

describe('GET /settings/disk-usage', () => {
  it('has cozy-stack shape, the trash size with include=trash, and needs a right', async () => {
    const res = await h.req('GET', '/settings/disk-usage?include=trash', { token: await h.cliToken('io.cozy.settings:GET') });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ type: 'io.cozy.settings', id: 'io.cozy.settings.disk-usage', attributes: { used: expect.stringMatching(/^\d+$/), files: expect.any(String), versions: expect.any(String), trash: '0' } });
    // a token that may upload somewhere may see the room left; a read-only one may not
    expect((await h.req('GET', '/settings/disk-usage', { token })).status).toBe(200);
    expect((await h.req('GET', '/settings/disk-usage', { token: await h.cliToken('io.cozy.files:GET') })).status).toBe(403);
    expect((await h.req('GET', '/settings/disk-usage')).status).toBe(401);
  });
});
