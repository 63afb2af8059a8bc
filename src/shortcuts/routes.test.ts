/** POST /shortcuts and GET /shortcuts/:id on a real server, with cozy-client's ShortcutsCollection. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { CozyStackClient } from '../../test/helpers/stack-client.js';
import { ROOT, mkdir, upload } from '../../test/helpers/files.js';

let h: TestHearth;
let token = '';
beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.files');
});
afterAll(() => h.close());

const create = (attributes: Record<string, unknown>, t = token) => h.req('POST', '/shortcuts', { token: t, body: { data: { type: 'io.cozy.files.shortcuts', attributes } } });

describe('POST /shortcuts', () => {
  it('writes a .url file (internet shortcut, class shortcut) in the directory, as cozy-client\'s ShortcutsCollection asks', async () => {
    const dir = await mkdir(h, token, ROOT, 'Links');
    const client = new CozyStackClient({ uri: h.url, token });
    const { data } = await client.collection('io.cozy.files.shortcuts').create({ name: 'Hearth', url: 'https://hearth.example.org/docs?a=1#top', dir_id: dir.id, metadata: { target: { app: 'drive' } } });
    expect(data).toMatchObject({ name: 'Hearth.url', dir_id: dir.id, mime: 'application/internet-shortcut', class: 'shortcut', metadata: { target: { app: 'drive' } } });
    const raw = await h.req('GET', `/files/download/${data._id}`, { token });
    expect(raw.text).toBe('[InternetShortcut]\r\nURL=https://hearth.example.org/docs?a=1#top\r\n');
    const res = await create({ name: 'root.url', url: 'https://example.org/' });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toContain('application/vnd.api+json');
    expect(res.body.data).toMatchObject({ type: 'io.cozy.files', attributes: { name: 'root.url', dir_id: ROOT, size: '46' } });
  });

  it('refuses: 401, 400 another instance\'s token, 403 without POST in the directory, 422 without name or url or with a line break, 404 an unknown directory, 409 a taken name', async () => {
    const dir = await mkdir(h, token, ROOT, 'Refused links');
    expect((await create({ name: 'a', url: 'https://a.example/' }, '')).status).toBe(401);
    expect((await create({ name: 'a', url: 'https://a.example/' }, await h.cliToken('io.cozy.files', h.other))).status).toBe(400);
    expect((await create({ name: 'a', url: 'https://a.example/' }, await h.cliToken('io.cozy.files:GET'))).status).toBe(403);
    expect((await create({ name: 'a', url: 'https://a.example/', dir_id: ROOT }, await h.cliToken(`io.cozy.files:POST:${dir.id}`))).status).toBe(403);
    expect((await create({ name: 'a', url: 'https://a.example/', dir_id: dir.id }, await h.cliToken(`io.cozy.files:POST:${dir.id}`))).status).toBe(201);
    const noUrl = await create({ name: 'b' });
    expect(noUrl.status).toBe(422);
    expect(noUrl.body.errors[0].detail).toContain('url');
    expect((await create({ url: 'https://b.example/' })).status).toBe(422);
    expect((await create({ name: 'b', url: 'https://b.example/\r\nURL=https://evil.example/' })).status).toBe(422);
    expect((await create({ name: 'b', url: 'https://b.example/', dir_id: 'nope' })).status).toBe(404);
    expect((await create({ name: 'a', url: 'https://a.example/', dir_id: dir.id })).status).toBe(409);
    expect((await create({ name: 'b/c', url: 'https://b.example/' })).status).toBe(422);
    expect((await h.req('POST', '/shortcuts', { token, body: { name: 'b', url: 'https://b.example/' } })).status).toBe(400);
  });
});

describe('GET /shortcuts/:id', () => {
  it('answers the io.cozy.files.shortcuts object to JSON clients (ShortcutsCollection.get) and redirects (303) the others', async () => {
    const made = (await create({ name: 'Docs', url: 'https://docs.example.org/été?q=1' })).body.data;
    const client = new CozyStackClient({ uri: h.url, token });
    const { data } = await client.collection('io.cozy.files.shortcuts').get(made.id);
    expect(data).toMatchObject({ _id: made.id, _type: 'io.cozy.files.shortcuts', name: 'Docs.url', dir_id: ROOT, url: 'https://docs.example.org/été?q=1' });
    const json = await h.req('GET', `/shortcuts/${made.id}`, { token, headers: { accept: 'application/vnd.api+json' } });
    expect(json.body.data).toMatchObject({ type: 'io.cozy.files.shortcuts', id: made.id, meta: { rev: made.meta.rev }, attributes: { name: 'Docs.url', url: 'https://docs.example.org/été?q=1' } });
    const redirect = await h.req('GET', `/shortcuts/${made.id}`, { token, headers: { accept: 'text/html' } });
    expect(redirect.status).toBe(303);
    expect(redirect.headers.location).toBe('https://docs.example.org/%C3%A9t%C3%A9?q=1');
    // a shortcut uploaded through /files (Windows' own format, the last URL= wins) reads the same
    const uploaded = await upload(h, token, ROOT, 'windows.url', '[InternetShortcut]\r\nIconIndex=0\r\nURL=https://old.example/\r\nURL=https://new.example/\r\n');
    expect((await h.req('GET', `/shortcuts/${uploaded.id}`, { token })).headers.location).toBe('https://new.example/');
  });

  it('marks a shared shortcut seen the first time it is opened, and only then writes the file', async () => {
    const made = (await create({ name: 'From Bob', url: 'https://bob.example/', metadata: { sharing: { status: 'new', id: 'abc' } } })).body.data;
    const store = h.hearth.vfs.fs.store(h.instance);
    const json = await h.req('GET', `/shortcuts/${made.id}`, { token, headers: { accept: 'application/json' } });
    const seen = await store.get('io.cozy.files', made.id);
    expect(seen.metadata).toEqual({ sharing: { status: 'seen', id: 'abc' } });
    expect(json.body.data).toMatchObject({ meta: { rev: seen._rev }, attributes: { metadata: { sharing: { status: 'seen', id: 'abc' } } } });
    expect(seen._rev).not.toBe(made.meta.rev);
    expect((await h.req('GET', `/shortcuts/${made.id}`, { token })).status).toBe(303);
    expect((await store.get('io.cozy.files', made.id))._rev).toBe(seen._rev);
    const plain = (await create({ name: 'Plain', url: 'https://plain.example/' })).body.data;
    await h.req('GET', `/shortcuts/${plain.id}`, { token });
    expect((await store.get('io.cozy.files', plain.id))._rev).toBe(plain.meta.rev);
  });

  it('refuses: 401, 400 another instance\'s token, 403 without GET on the file, 404 a directory or an unknown id, 400 a file that is no shortcut', async () => {
    const made = (await create({ name: 'Secret', url: 'https://secret.example/' })).body.data;
    expect((await h.req('GET', `/shortcuts/${made.id}`)).status).toBe(401);
    expect((await h.req('GET', `/shortcuts/${made.id}`, { token: await h.cliToken('io.cozy.files', h.other) })).status).toBe(400);
    expect((await h.req('GET', `/shortcuts/${made.id}`, { token: await h.cliToken('io.cozy.contacts') })).status).toBe(403);
    expect((await h.req('GET', `/shortcuts/${made.id}`, { token: await h.cliToken(`io.cozy.files:GET:${made.id}`) })).status).toBe(303);
    expect((await h.req('GET', `/shortcuts/${ROOT}`, { token })).status).toBe(404);
    expect((await h.req('GET', '/shortcuts/nope', { token })).status).toBe(404);
    const text = await upload(h, token, ROOT, 'notes.txt', 'just some text\n');
    const bad = await h.req('GET', `/shortcuts/${text.id}`, { token });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].detail).toBe('The file is not in the expected format');
    const empty = await upload(h, token, ROOT, 'empty.url', '[InternetShortcut]\r\nIconIndex=0\r\n');
    expect((await h.req('GET', `/shortcuts/${empty.id}`, { token })).body.errors[0].detail).toBe('No URL found');
  });
});
