/** Changing old versions on a real server: new version with new metadata, tags, deleting one, deleting all. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { ROOT, mkdir, upload } from '../../../test/helpers/files.js';
import { fsck } from '../fsck.js';

let h: TestHearth;
let token: string;
beforeAll(async () => {
  h = await startTestHearth({ files: { versions: { max: 20, minDelayMs: 0 }, trashRetentionDays: 30 } });
  token = await h.cliToken('io.cozy.files');
});
afterAll(() => h.close());

const put = (id: string, content: string) => h.req('PUT', `/files/${id}`, { token, raw: content });
const usage = async () => Number((await h.req('GET', '/settings/disk-usage', { token: await h.cliToken('io.cozy.settings:GET') })).body.data.attributes.used);
const clean = async () => expect(await fsck(h.hearth.vfs.fs, h.instance)).toEqual([]);
/** Bytes used, counted again from the stored documents (the server keeps its count up to date). */
async function recount(): Promise<number> {
  const store = h.hearth.vfs.fs.store(h.instance);
  const files = await store.find('io.cozy.files', { selector: { type: 'file' }, fields: ['size'], limit: 10_000, skip: 0 });
  const versions = await store.allDocs('io.cozy.files.versions', { include_docs: true });
  return [...files.docs, ...versions.rows.flatMap((r) => (r.doc && !r.doc._deleted ? [r.doc] : []))].reduce((n, d) => n + Number(d.size ?? 0), 0);
}
const versionIds = async (id: string): Promise<string[]> => ((await h.req('GET', `/files/${id}`, { token })).body.data.relationships.old_versions?.data ?? []).map((v: { id: string }) => v.id);
const qualification = { data: { type: 'io.cozy.files.metadata', attributes: { qualification: { label: 'telecom_invoice' }, datetime: '2017-04-22T01:00:00-05:00' } } };

describe('POST /files/:file-id/versions', () => {
  it('makes a new version with the same content, the new metadata and the Tags given', async () => {
    const f = await upload(h, token, ROOT, 'invoice.pdf', '%PDF invoice');
    const before = await usage();
    const res = await h.req('POST', `/files/${f.id}/versions?Tags=bills,2017`, { token, body: qualification });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.attributes).toMatchObject({ name: 'invoice.pdf', md5sum: f.attributes.md5sum, size: '12', tags: ['bills', '2017'], metadata: qualification.data.attributes });
    expect(res.body.data.relationships.old_versions.data).toHaveLength(1);
    expect(res.body.included[0].attributes).toMatchObject({ md5sum: f.attributes.md5sum, size: '12' });
    expect(JSON.stringify(res.body)).not.toContain('internal_vfs_id');
    expect((await h.req('GET', `/files/download/${f.id}`, { token })).text).toBe('%PDF invoice');
    expect(await usage()).toBe(before + 12); // the old content is kept as a version, the new one is a copy
    await clean();
  });

  it('refuses: no token 401, no PUT 403, unknown 404, a directory or no body 400', async () => {
    const f = await upload(h, token, ROOT, 'refused.txt', 'x');
    const d = await mkdir(h, token, ROOT, 'NoVersions');
    expect((await h.req('POST', `/files/${f.id}/versions`, { body: qualification })).status).toBe(401);
    expect((await h.req('POST', `/files/${f.id}/versions`, { token: await h.cliToken('io.cozy.files:GET,PATCH'), body: qualification })).status).toBe(403);
    expect((await h.req('POST', '/files/nope/versions', { token, body: qualification })).status).toBe(404);
    expect((await h.req('POST', `/files/${d.id}/versions`, { token, body: qualification })).status).toBe(400);
    expect((await h.req('POST', `/files/${f.id}/versions`, { token, body: { data: [] } })).status).toBe(400);
    expect(await versionIds(f.id)).toEqual([]);
  });
});

describe('PATCH /files/:file-id/:version-id', () => {
  it('sets the tags of an old version', async () => {
    const f = await upload(h, token, ROOT, 'poem.txt', 'roses');
    await put(f.id, 'violets');
    const [vid] = await versionIds(f.id);
    const short = vid!.split('/')[1];
    const res = await h.req('PATCH', `/files/${f.id}/${short}`, { token, body: { data: { type: 'io.cozy.files.versions', id: vid, attributes: { tags: ['poem'] } } } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({ type: 'io.cozy.files.versions', id: vid, attributes: { file_id: f.id, tags: ['poem'], size: '5' } });
    expect(res.body.data.attributes.internal_vfs_id).toBeUndefined();
    const meta = await h.req('GET', `/files/${f.id}`, { token });
    expect(meta.body.included[0].attributes.tags).toEqual(['poem']);
    await clean();
  });

  it('refuses: 401, 403 without PATCH, 404 for an unknown file or version, 400 without tags', async () => {
    const f = await upload(h, token, ROOT, 'tagless.txt', 'one');
    await put(f.id, 'two');
    const short = (await versionIds(f.id))[0]!.split('/')[1];
    const body = { data: { type: 'io.cozy.files.versions', attributes: { tags: ['x'] } } };
    expect((await h.req('PATCH', `/files/${f.id}/${short}`, { body })).status).toBe(401);
    expect((await h.req('PATCH', `/files/${f.id}/${short}`, { token: await h.cliToken('io.cozy.files:GET'), body })).status).toBe(403);
    expect((await h.req('PATCH', `/files/nope/${short}`, { token, body })).status).toBe(404);
    expect((await h.req('PATCH', `/files/${f.id}/nope`, { token, body })).status).toBe(404);
    expect((await h.req('PATCH', `/files/${f.id}/${short}`, { token, body: { data: { attributes: {} } } })).status).toBe(400);
    expect((await h.req('PATCH', `/files/${f.id}/${short}`, { token, body: { data: { attributes: { tags: 'x' } } } })).status).toBe(400);
  });
});

describe('DELETE /files/:file-id/:version-id', () => {
  it('deletes one old version and its blob, freeing its bytes', async () => {
    const f = await upload(h, token, ROOT, 'essay.txt', 'first draft');
    await put(f.id, 'second');
    await put(f.id, 'third');
    const [newest, oldest] = await versionIds(f.id);
    const before = await usage();
    const res = await h.req('DELETE', `/files/${f.id}/${oldest!.split('/')[1]}`, { token });
    expect(res.status, res.text).toBe(204);
    expect(await versionIds(f.id)).toEqual([newest]);
    expect(await usage()).toBe(before - 'first draft'.length);
    expect(await usage()).toBe(await recount());
    expect((await h.req('GET', `/files/download/${oldest}`, { token })).status).toBe(404);
    expect((await h.req('GET', `/files/download/${f.id}`, { token })).text).toBe('third');
    await clean();
  });

  it('refuses: 401, 403 without DELETE, 404 for an unknown file or version', async () => {
    const f = await upload(h, token, ROOT, 'kept.txt', 'one');
    await put(f.id, 'two');
    const short = (await versionIds(f.id))[0]!.split('/')[1];
    expect((await h.req('DELETE', `/files/${f.id}/${short}`)).status).toBe(401);
    expect((await h.req('DELETE', `/files/${f.id}/${short}`, { token: await h.cliToken('io.cozy.files:GET,PUT,PATCH') })).status).toBe(403);
    expect((await h.req('DELETE', `/files/nope/${short}`, { token })).status).toBe(404);
    expect((await h.req('DELETE', `/files/${f.id}/nope`, { token })).status).toBe(404);
    expect(await versionIds(f.id)).toHaveLength(1);
  });
});

describe('DELETE /files/versions', () => {
  it('needs a whole-type DELETE right, then deletes every old version of the instance', async () => {
    const d = await mkdir(h, token, ROOT, 'Drafts');
    const a = await upload(h, token, d.id, 'a.txt', 'a1');
    const b = await upload(h, token, ROOT, 'b.txt', 'b1');
    await put(a.id, 'a2');
    await put(b.id, 'b2');
    expect((await h.req('DELETE', '/files/versions')).status).toBe(401);
    expect((await h.req('DELETE', '/files/versions', { token: await h.cliToken(`io.cozy.files:ALL:${d.id}`) })).status).toBe(403);
    expect((await h.req('DELETE', '/files/versions', { token: await h.cliToken('io.cozy.files:GET,PUT,PATCH') })).status).toBe(403);
    expect(await versionIds(a.id)).toHaveLength(1);
    const res = await h.req('DELETE', '/files/versions', { token });
    expect(res.status, res.text).toBe(204);
    expect(await versionIds(a.id)).toEqual([]);
    expect(await versionIds(b.id)).toEqual([]);
    const du = (await h.req('GET', '/settings/disk-usage', { token: await h.cliToken('io.cozy.settings:GET') })).body.data.attributes;
    expect(du.versions).toBe('0');
    expect(Number(du.used)).toBe(await recount());
    await clean();
    expect((await h.req('GET', `/files/download/${a.id}`, { token })).text).toBe('a2');
  });
});
