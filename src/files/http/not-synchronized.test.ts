/** POST/DELETE /files/:id/relationships/not_synchronized_on and the device's side under /data, on a real server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { CozyStackClient } from '../../../test/helpers/stack-client.js';
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

describe('/data/:doctype/:docid/relationships/not_synchronizing', () => {
  const device = { _type: 'io.cozy.oauth.clients', _id: '0a1b2c3d4e5f60718293a4b5c6d7e8f9' };
  const dpath = `/data/io.cozy.oauth.clients/${device._id}/relationships/not_synchronizing`;
  const dir = async (name: string) => ({ _type: 'io.cozy.files', _id: (await mkdir(h, token, ROOT, name)).id as string });

  it('adds, lists (paginated, meta.count, include=files) and removes a device\'s directories, through cozy-client\'s FileCollection', async () => {
    const client = new CozyStackClient({ uri: h.url, token });
    const files = client.collection('io.cozy.files');
    const dirs = [await dir('NS-A'), await dir('NS-B'), await dir('NS-C')];
    await files.addNotSynchronizedDirectories(device, dirs);
    const ids = dirs.map((d) => d._id).sort();
    const all = await files.findNotSynchronizedDirectories(device);
    expect(all.meta.count).toBe(3);
    expect(all.data.map((d: { _id: string }) => d._id).sort()).toEqual(ids);
    const stored = await h.hearth.vfs.fs.store(h.instance).get('io.cozy.files', ids[0] as string);
    expect(stored.not_synchronized_on).toEqual([{ type: 'io.cozy.oauth.clients', id: device._id }]);
    const first = await h.req('GET', `${dpath}?page[limit]=2`, { token });
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toContain('application/vnd.api+json');
    expect(first.body).toMatchObject({ data: [{ type: 'io.cozy.files', id: ids[0] }, { type: 'io.cozy.files', id: ids[1] }], meta: { count: 3 } });
    const second = await h.req('GET', first.body.links.next, { token });
    expect(second.body.data).toEqual([{ type: 'io.cozy.files', id: ids[2] }]);
    expect(second.body.links).toBeUndefined();
    const included = await files.findNotSynchronizedDirectories(device, { includeFiles: true });
    expect(included.included.map((d: { name: string }) => d.name).sort()).toEqual(['NS-A', 'NS-B', 'NS-C']);
    await files.removeNotSynchronizedDirectories(device, [dirs[0]]);
    expect((await files.findNotSynchronizedDirectories(device)).meta.count).toBe(2);
    expect((await h.req('GET', `/files/${dirs[0]?._id}`, { token })).body.data.relationships.not_synchronized_on.data).toEqual([]);
    // the same JSON-API bodies cozy-stack's own tests send: one object, or a list, in application/vnd.api+json
    const jsonapi = { 'content-type': 'application/vnd.api+json' };
    expect((await h.req('POST', dpath, { token, raw: JSON.stringify({ data: { type: 'io.cozy.files', id: dirs[0]?._id } }), headers: jsonapi })).status).toBe(204);
    expect((await h.req('DELETE', dpath, { token, raw: JSON.stringify({ data: [{ type: 'io.cozy.files', id: dirs[1]?._id }] }), headers: jsonapi })).status).toBe(204);
    expect((await h.req('GET', dpath, { token })).body.data.map((d: { id: string }) => d.id).sort()).toEqual([dirs[0]?._id, dirs[2]?._id].sort());
  });

  it('refuses: 401, 400 another instance\'s token or a bad doctype, 403 without the rights, 400 a file, 404 an unknown id, and changes nothing then', async () => {
    const d = await dir('NS-Refused');
    const f = await upload(h, token, ROOT, 'ns.txt', 'x');
    const body = { data: [{ type: 'io.cozy.files', id: d._id }] };
    expect((await h.req('GET', dpath)).status).toBe(401);
    expect((await h.req('POST', dpath, { body })).status).toBe(401);
    expect((await h.req('GET', dpath, { token: await h.cliToken('io.cozy.files', h.other) })).status).toBe(400);
    expect((await h.req('GET', '/data/Bad$/x/relationships/not_synchronizing', { token })).status).toBe(400);
    expect((await h.req('GET', dpath, { token: await h.cliToken('io.cozy.contacts') })).status).toBe(403);
    expect((await h.req('GET', dpath, { token: await h.cliToken('io.cozy.files:POST') })).status).toBe(403);
    expect((await h.req('GET', dpath, { token: await h.cliToken(`io.cozy.oauth.clients:GET:${device._id}`) })).status).toBe(200);
    expect((await h.req('POST', dpath, { token: await h.cliToken('io.cozy.files:GET'), body })).status).toBe(403);
    // the device's right alone: each directory needs PATCH too
    const deviceOnly = await h.cliToken(`io.cozy.oauth.clients:PUT:${device._id}`);
    expect((await h.req('POST', dpath, { token: deviceOnly, body })).status).toBe(403);
    expect((await h.req('POST', dpath, { token: await h.cliToken(`io.cozy.oauth.clients:PUT:${device._id} io.cozy.files:PATCH:${d._id}`), body })).status).toBe(204);
    expect((await h.req('DELETE', dpath, { token: await h.cliToken(`io.cozy.oauth.clients:PUT:${device._id} io.cozy.files:PATCH:${d._id}`), body })).status).toBe(403);
    const other = await dir('NS-Untouched');
    const mixed = await h.req('POST', dpath, { token, body: { data: [{ type: 'io.cozy.files', id: other._id }, { type: 'io.cozy.files', id: f.id }] } });
    expect(mixed.status).toBe(400);
    expect(mixed.body.reason).toBe('Cannot add not_synchronized_on on files');
    expect((await h.req('POST', dpath, { token, body: { data: [{ type: 'io.cozy.files', id: 'nope' }] } })).status).toBe(404);
    expect((await h.req('POST', dpath, { token, body: {} })).status).toBe(400);
    const stored = await h.hearth.vfs.fs.store(h.instance).get('io.cozy.files', other._id);
    expect(stored.not_synchronized_on).toBeUndefined();
  });
});
