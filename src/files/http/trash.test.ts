/** The trash routes on a real server: list (paginated), restore, destroy, empty; the bytes freed. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { ROOT, TRASH, mkdir, q, upload } from '../../../test/helpers/files.js';

let h: TestHearth;
let token: string;

beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.files io.cozy.settings:GET');
});
afterAll(() => h.close());

const used = async () => Number((await h.req('GET', '/settings/disk-usage', { token })).body.data.attributes.used);
const trash = async (id: string) => {
  const res = await h.req('DELETE', `/files/${id}`, { token });
  expect(res.status).toBe(200);
  return res.body.data;
};

describe('the trash', () => {
  it('lists what was trashed, page by page, with a count', async () => {
    const dir = await mkdir(h, token, ROOT, 'Listed');
    for (const n of ['t1.txt', 't2.txt', 't3.txt']) await trash((await upload(h, token, dir.id, n, n)).id);
    const first = await h.req('GET', '/files/trash?page[limit]=2', { token });
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(first.body.meta.count).toBe(3);
    expect(first.body.data.map((d: { attributes: { name: string } }) => d.attributes.name)).toEqual(['t1.txt', 't2.txt']);
    expect(first.body.data[0].attributes).toMatchObject({ dir_id: TRASH, trashed: true, restore_path: '/Listed' });
    expect(first.body.links.next).toMatch(/^\/files\/trash\?page\[cursor\]=/);
    const second = await h.req('GET', first.body.links.next, { token });
    expect(second.body.data.map((d: { attributes: { name: string } }) => d.attributes.name)).toEqual(['t3.txt']);
    expect(second.body.links.next).toBeUndefined();
    expect((await h.req('DELETE', '/files/trash', { token })).status).toBe(204);
  });

  it('restores to where it was, renamed when that name was taken meanwhile', async () => {
    const dir = await mkdir(h, token, ROOT, 'Restore');
    const f = await upload(h, token, dir.id, 'doc.txt', 'one');
    await trash(f.id);
    await upload(h, token, dir.id, 'doc.txt', 'two');
    const res = await h.req('POST', `/files/trash/${f.id}`, { token });
    expect(res.status).toBe(200);
    expect(res.body.data.attributes).toMatchObject({ dir_id: dir.id, name: 'doc (2).txt', trashed: false });
    expect(res.body.data.attributes.restore_path).toBeUndefined();
    expect((await h.req('GET', `/files/metadata?Path=${q('/Restore/doc (2).txt')}`, { token })).body.data.id).toBe(f.id);
    // what is not in the trash cannot be restored
    expect((await h.req('POST', `/files/trash/${f.id}`, { token })).status).toBe(400);
    expect((await h.req('POST', '/files/trash/missing', { token })).status).toBe(404);
  });

  it('destroys one item for good (204), freeing its bytes; only from the trash; If-Match', async () => {
    const f = await upload(h, token, ROOT, 'gone.bin', 'x'.repeat(1000));
    const before = await used();
    expect((await h.req('DELETE', `/files/trash/${f.id}`, { token })).status).toBe(400);
    const t = await trash(f.id);
    expect((await h.req('DELETE', `/files/trash/${f.id}`, { token, headers: { 'if-match': f.rev } })).status).toBe(412);
    expect((await h.req('DELETE', `/files/trash/${f.id}`, { token, headers: { 'if-match': t.meta.rev } })).status).toBe(204);
    expect((await h.req('GET', `/files/${f.id}`, { token })).status).toBe(404);
    expect(await used()).toBe(before - 1000);
  });

  it('permanent_delete in a PATCH destroys what is in the trash', async () => {
    const f = await upload(h, token, ROOT, 'perm.txt', 'p');
    await trash(f.id);
    const res = await h.req('PATCH', `/files/${f.id}`, { token, body: { data: { type: 'io.cozy.files', id: f.id, attributes: { permanent_delete: true } } } });
    expect(res.status).toBe(200);
    expect((await h.req('HEAD', `/files/${f.id}`, { token })).status).toBe(404);
  });

  it('permanent_delete in a PATCH also destroys what is not in the trash, as cozy-stack: a file, a directory with its contents', async () => {
    const f = await upload(h, token, ROOT, 'saved-by-a-konnector.pdf', 'k'.repeat(300));
    const dir = await mkdir(h, token, ROOT, 'Destroyed at once');
    const inner = await upload(h, token, dir.id, 'inner.txt', 'i'.repeat(200));
    const before = await used();
    const destroy = (id: string, t = token, headers: Record<string, string> = {}) =>
      h.req('PATCH', `/files/${id}`, { token: t, headers, body: { data: { type: 'io.cozy.files', id, attributes: { permanent_delete: true } } } });
    expect((await destroy(f.id, await h.cliToken('io.cozy.files:GET'))).status).toBe(403);
    expect((await destroy(f.id, token, { 'if-match': '1-00000000000000000000000000000000' })).status).toBe(412);
    const res = await destroy(f.id);
    expect(res.status, res.text).toBe(200);
    expect((await h.req('GET', `/files/${f.id}`, { token })).status).toBe(404);
    expect((await destroy(dir.id)).status).toBe(200);
    for (const id of [dir.id, inner.id]) expect((await h.req('GET', `/files/${id}`, { token })).status).toBe(404);
    expect(await used()).toBe(before - 500);
    expect((await h.req('GET', '/files/trash', { token })).body.data.map((d: { id: string }) => d.id)).not.toContain(f.id);
    for (const id of [ROOT, TRASH]) expect((await destroy(id)).status).toBe(403);
    // DELETE /files/trash/:id still destroys only what is in the trash
    const kept = await upload(h, token, ROOT, 'kept.txt', 'kept');
    expect((await h.req('DELETE', `/files/trash/${kept.id}`, { token })).body.errors[0]).toMatchObject({ status: '400', title: 'not_in_trash' });
  });

  it('empties the whole trash, directories with their contents', async () => {
    const dir = await mkdir(h, token, ROOT, 'Emptied');
    const inner = await upload(h, token, dir.id, 'inner.txt', 'y'.repeat(500));
    await trash(dir.id);
    await trash((await upload(h, token, ROOT, 'loose.txt', 'z'.repeat(20))).id);
    const before = await used();
    expect((await h.req('DELETE', '/files/trash', { token })).status).toBe(204);
    expect((await h.req('GET', '/files/trash', { token })).body).toMatchObject({ data: [], meta: { count: 0 } });
    expect((await h.req('GET', `/files/${inner.id}`, { token })).status).toBe(404);
    expect(await used()).toBe(before - 520);
  });

  it('needs rights: GET on the trash to list it, DELETE to empty it', async () => {
    const reader = await h.cliToken('io.cozy.files:GET');
    expect((await h.req('GET', '/files/trash', { token: reader })).status).toBe(200);
    expect((await h.req('DELETE', '/files/trash', { token: reader })).status).toBe(403);
    expect((await h.req('GET', '/files/trash')).status).toBe(401);
  });
});
