/** GET /files/:id/size on a real server: the recursive size of a directory. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { ROOT, mkdir, upload } from '../../../test/helpers/files.js';

let h: TestHearth;
let token: string;
beforeAll(async () => {
  h = await startTestHearth({ files: { versions: { max: 20, minDelayMs: 0 }, trashRetentionDays: 30 } });
  token = await h.cliToken('io.cozy.files');
});
afterAll(() => h.close());

describe('GET /files/:id/size', () => {
  it('sums the files of the directory and of its subdirectories, at any depth (old versions not counted)', async () => {
    const photos = await mkdir(h, token, ROOT, 'Photos');
    const y2024 = await mkdir(h, token, photos.id, '2024');
    const summer = await mkdir(h, token, y2024.id, 'Summer');
    await upload(h, token, photos.id, 'a.jpg', 'x'.repeat(10));
    await upload(h, token, y2024.id, 'b.jpg', 'x'.repeat(200));
    const c = await upload(h, token, summer.id, 'c.jpg', 'x'.repeat(3000));
    await upload(h, token, ROOT, 'Photos-not-inside.txt', 'x'.repeat(7)); // a sibling whose name starts the same
    await mkdir(h, token, ROOT, 'Photos 2');
    expect((await h.req('PUT', `/files/${c.id}`, { token, raw: 'y'.repeat(3000) })).status).toBe(200);
    const res = await h.req('GET', `/files/${photos.id}/size`, { token });
    expect(res.status, res.text).toBe(200);
    expect(res.headers['content-type']).toContain('application/vnd.api+json');
    expect(res.body).toEqual({ data: { type: 'io.cozy.files.sizes', id: photos.id, attributes: { size: '3210' }, meta: {} } });
    expect((await h.req('GET', `/files/${summer.id}/size`, { token })).body.data.attributes.size).toBe('3000');
    const empty = await mkdir(h, token, ROOT, 'Empty');
    expect((await h.req('GET', `/files/${empty.id}/size`, { token })).body.data.attributes.size).toBe('0');
    expect((await h.req('GET', `/files/${ROOT}/size`, { token })).body.data.attributes.size).toBe('3217');
  });

  it('needs GET on the directory (or above); 401, 403, 404 for an unknown id or a file', async () => {
    const d = await mkdir(h, token, ROOT, 'Private');
    const f = await upload(h, token, d.id, 'p.txt', 'p');
    const other = await mkdir(h, token, ROOT, 'Other');
    expect((await h.req('GET', `/files/${d.id}/size`)).status).toBe(401);
    expect((await h.req('GET', `/files/${d.id}/size`, { token: await h.cliToken(`io.cozy.files:GET:${other.id}`) })).status).toBe(403);
    expect((await h.req('GET', `/files/${d.id}/size`, { token: await h.cliToken('io.cozy.files:POST') })).status).toBe(403);
    expect((await h.req('GET', `/files/${d.id}/size`, { token: await h.cliToken(`io.cozy.files:GET:${d.id}`) })).body.data.attributes.size).toBe('1');
    expect((await h.req('GET', '/files/nope/size', { token })).status).toBe(404);
    expect((await h.req('GET', `/files/${f.id}/size`, { token })).status).toBe(404);
  });
});
