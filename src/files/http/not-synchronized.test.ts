/** POST/DELETE /files/:id/relationships/not_synchronized_on on a real server. */
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

const laptop = { type: 'io.cozy.oauth.clients', id: '653dfdb0-0595-0139-92df-543d7eb8149c' };
const phone = { type: 'io.cozy.oauth.clients', id: 'f9ef4dc0-0596-0139-92e0-543d7eb8149c' };
const path = (id: string) => `/files/${id}/relationships/not_synchronized_on`;

describe('not_synchronized_on', () => {
  it('adds and removes OAuth clients, answers the list with the new rev, and shows it in the directory\'s relationships', async () => {
    const d = await mkdir(h, token, ROOT, 'Videos');
    const add = await h.req('POST', path(d.id), { token, body: { data: [laptop] } });
    expect(add.status, add.text).toBe(200);
    expect(add.body).toMatchObject({ data: [laptop], meta: { count: 1 } });
    const again = await h.req('POST', path(d.id), { token, body: { data: [laptop, phone] } });
    expect(again.body.data).toEqual([laptop, phone]);
    expect(again.body.meta.count).toBe(2);
    const shown = await h.req('GET', `/files/${d.id}`, { token });
    expect(shown.body.data.meta.rev).toBe(again.body.meta.rev);
    expect(shown.body.data.relationships.not_synchronized_on).toEqual({ links: { self: path(d.id) }, data: [laptop, phone] });
    expect(shown.body.data.attributes.not_synchronized_on).toBeUndefined();
    const stored = await h.hearth.vfs.fs.store(h.instance).get('io.cozy.files', d.id);
    expect(stored.not_synchronized_on).toEqual([laptop, phone]);
    const del = await h.req('DELETE', path(d.id), { token, body: { data: [laptop] } });
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ data: [phone], meta: { count: 1 } });
    expect((await h.req('GET', `/files/${d.id}`, { token })).body.data.relationships.not_synchronized_on.data).toEqual([phone]);
  });

  it('refuses: 401, 403 without PATCH on the directory, 404 for an unknown id or a file, 400 for a bad body', async () => {
    const d = await mkdir(h, token, ROOT, 'Music');
    const f = await upload(h, token, ROOT, 'song.mp3', 'la');
    const body = { data: [laptop] };
    expect((await h.req('POST', path(d.id), { body })).status).toBe(401);
    expect((await h.req('POST', path(d.id), { token: await h.cliToken('io.cozy.files:GET,POST'), body })).status).toBe(403);
    expect((await h.req('DELETE', path(d.id), { token: await h.cliToken('io.cozy.files:GET'), body })).status).toBe(403);
    expect((await h.req('POST', path('nope'), { token, body })).status).toBe(404);
    expect((await h.req('POST', path(f.id), { token, body })).status).toBe(404);
    expect((await h.req('POST', path(d.id), { token, body: { data: [{ type: 'io.cozy.oauth.clients' }] } })).status).toBe(400);
    expect((await h.req('POST', path(d.id), { token, body: {} })).status).toBe(400);
    expect((await h.req('GET', `/files/${d.id}`, { token })).body.data.relationships.not_synchronized_on).toBeUndefined();
    expect((await h.req('POST', path(d.id), { token: await h.cliToken(`io.cozy.files:PATCH:${d.id}`), body })).status).toBe(200);
  });
});
