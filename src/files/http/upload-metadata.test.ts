/** POST /files/upload/metadata and MetadataID= on uploads, on a real server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { ROOT, mkdir, upload } from '../../../test/helpers/files.js';

let h: TestHearth;
let token: string;
beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.files');
});
afterAll(() => h.close());

const meta = { qualification: { label: 'telecom_invoice', purpose: 'invoice', sourceCategory: 'telecom' }, datetime: '2017-04-22T01:00:00-05:00' };
const send = (t: string | undefined, body: unknown) => h.req('POST', '/files/upload/metadata', { ...(t ? { token: t } : {}), body });

describe('POST /files/upload/metadata', () => {
  it('gives a MetadataID whose object an upload puts in the file\'s metadata', async () => {
    const res = await send(token, { data: { type: 'io.cozy.files.metadata', attributes: meta } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data).toMatchObject({ type: 'io.cozy.files.metadata', attributes: meta });
    const id = res.body.data.id as string;
    const stored = await h.hearth.vfs.fs.store(h.instance).getLocal('io.cozy.files', `upload-metadata-${id}`);
    const ttl = Date.parse(String(stored.expires_at)) - Date.now();
    expect(ttl).toBeGreaterThan(9 * 60_000);
    expect(ttl).toBeLessThanOrEqual(10 * 60_000);
    const f = await h.req('POST', `/files/${ROOT}?Type=file&Name=bill.pdf&MetadataID=${id}`, { token, raw: '%PDF' });
    expect(f.status, f.text).toBe(201);
    expect(f.body.data.attributes.metadata).toEqual(meta);
    expect((await h.req('GET', `/files/${f.body.data.id}`, { token })).body.data.attributes.metadata).toEqual(meta);
    // cozy-stack-client sends an empty MetadataID: no metadata
    const plain = await h.req('POST', `/files/${ROOT}?Type=file&Name=plain.txt&MetadataID=`, { token, raw: 'p' });
    expect(plain.status).toBe(201);
    expect(plain.body.data.attributes.metadata).toBeUndefined();
  });

  it('replaces the metadata of a file whose content a PUT replaces, as cozy-stack (saveFiles sends it there too)', async () => {
    const f = await upload(h, token, ROOT, 'replaced.pdf', '%PDF old');
    const id = (await send(token, { data: { type: 'io.cozy.files.metadata', attributes: { ...meta, fileIdAttributes: 'B-1' } } })).body.data.id as string;
    const put = await h.req('PUT', `/files/${f.id}?Name=replaced.pdf&Type=file&Executable=false&MetadataID=${id}`, { token, raw: '%PDF new' });
    expect(put.status, put.text).toBe(200);
    expect(put.body.data.attributes.metadata).toEqual({ ...meta, fileIdAttributes: 'B-1' });
    const refused = await h.req('PUT', `/files/${f.id}?MetadataID=${'c'.repeat(32)}`, { token, raw: '%PDF newer' });
    expect(refused.status).toBe(422);
    expect((await h.req('GET', `/files/download/${f.id}`, { token })).text).toBe('%PDF new');
  });

  it('refuses an unknown, malformed or expired MetadataID with 422, creating nothing', async () => {
    const store = h.hearth.vfs.fs.store(h.instance);
    const old = 'a'.repeat(32);
    await store.putLocal('io.cozy.files', `upload-metadata-${old}`, { metadata: meta, expires_at: new Date(Date.now() - 1000).toISOString() });
    for (const id of [old, 'b'.repeat(32), 'not-an-id']) {
      const res = await h.req('POST', `/files/${ROOT}?Type=file&Name=m-${id}.txt&MetadataID=${id}`, { token, raw: 'x' });
      expect(res.status, res.text).toBe(422);
      expect(res.body.errors[0].detail).toMatch(/metadata ID/i);
      expect((await h.req('GET', `/files/metadata?Path=/m-${id}.txt`, { token })).status).toBe(404);
    }
    await expect(store.getLocal('io.cozy.files', `upload-metadata-${old}`)).rejects.toThrow(); // removed when met
  });

  it('refuses: 401 without a token, 403 without POST on files, 400 for a bad body', async () => {
    const body = { data: { type: 'io.cozy.files.metadata', attributes: meta } };
    expect((await send(undefined, body)).status).toBe(401);
    expect((await send(await h.cliToken('io.cozy.files:GET'), body)).status).toBe(403);
    expect((await send(await h.cliToken('io.cozy.contacts'), body)).status).toBe(403);
    const d = await mkdir(h, token, ROOT, 'Uploads');
    expect((await send(await h.cliToken(`io.cozy.files:POST:${d.id}`), body)).status).toBe(201);
    expect((await send(token, { data: { type: 'io.cozy.files.metadata', attributes: [1] } })).status).toBe(400);
    expect((await send(token, { attributes: meta })).status).toBe(400);
    await upload(h, token, d.id, 'still-works.txt', 'ok');
  });
});
