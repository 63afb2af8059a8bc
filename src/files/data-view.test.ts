/**
 * io.cozy.files through /data on a real server: every read path serves the documents without their internal
 * fields (blob key, thumbnails' keys and secret, WebDAV dead properties), and every write path is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { ROOT, upload, type Created } from '../../test/helpers/files.js';
import { FILES_DOCTYPE } from './types.js';

let h: TestHearth;
let token: string;
let file: Created;

const SECRET_THUMB = 'c0ffee'.repeat(5);
const INTERNAL = /internal_|dav_props|c0ffeec0ffee/;

beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.files io.cozy.files.versions');
  file = await upload(h, token, ROOT, 'doc.txt', 'version one');
  // a second content keeps the first as an io.cozy.files.versions document (with its blob key)
  expect((await h.req('PUT', `/files/${file.id}`, { token, raw: 'version two' })).status).toBe(200);
  // a dead property (dav_props) and thumbnails as the thumbnail worker records them (internal_thumbnails)
  const basic = `Basic ${Buffer.from(`me:${token}`).toString('base64')}`;
  const patch = '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:x"><D:set><D:prop><Z:color>blue</Z:color></D:prop></D:set></D:propertyupdate>';
  expect((await h.req('PROPPATCH', '/dav/files/doc.txt', { raw: patch, headers: { authorization: basic, 'content-type': 'application/xml' } })).status).toBe(207);
  const store = h.hearth.storeOf(h.instance);
  const stored = await store.get(FILES_DOCTYPE, file.id);
  expect(stored.internal_vfs_id).toMatch(/^[0-9a-f]{32}$/);
  expect(stored.dav_props).toBeDefined();
  const keys = { tiny: 'a'.repeat(32), small: 'b'.repeat(32), medium: 'c'.repeat(32), large: 'd'.repeat(32) };
  await store.put(FILES_DOCTYPE, { ...stored, internal_thumbnails: { md5sum: stored.md5sum as string, secret: SECRET_THUMB, keys } });
});
afterAll(() => h.close());

const visible = (doc: Record<string, unknown>) => {
  expect(doc).toMatchObject({ _id: file.id, name: 'doc.txt', type: 'file', md5sum: expect.any(String) });
  expect(Object.keys(doc).filter((k) => INTERNAL.test(k))).toEqual([]);
};

describe('io.cozy.files read through /data', () => {
  it('GET by id, with revs, and open_revs hide the internal fields', async () => {
    const one = await h.req('GET', `/data/${FILES_DOCTYPE}/${file.id}?revs=true`, { token });
    expect(one.status).toBe(200);
    visible(one.body);
    expect(one.text).not.toMatch(INTERNAL);
    expect(one.body._revisions.ids.length).toBeGreaterThan(1);
    const open = await h.req('GET', `/data/${FILES_DOCTYPE}/${file.id}?open_revs=all`, { token });
    expect(open.status).toBe(200);
    visible(open.body[0].ok);
    expect(open.text).not.toMatch(INTERNAL);
  });

  it('_all_docs and _normal_docs hide them', async () => {
    const all = await h.req('GET', `/data/${FILES_DOCTYPE}/_all_docs?include_docs=true`, { token });
    expect(all.status).toBe(200);
    visible(all.body.rows.find((r: { id: string }) => r.id === file.id).doc);
    expect(all.text).not.toMatch(INTERNAL);
    const keys = await h.req('POST', `/data/${FILES_DOCTYPE}/_all_docs?include_docs=true`, { token, body: { keys: [file.id] } });
    visible(keys.body.rows[0].doc);
    const fields = await h.req('GET', `/data/${FILES_DOCTYPE}/_all_docs?include_docs=true&Fields=name,internal_vfs_id`, { token });
    expect(fields.body.rows.find((r: { id: string }) => r.id === file.id).doc).toEqual({ _id: file.id, _rev: expect.any(String), name: 'doc.txt' });
    const normal = await h.req('GET', `/data/${FILES_DOCTYPE}/_normal_docs`, { token });
    expect(normal.status).toBe(200);
    visible(normal.body.rows.find((d: { _id: string }) => d._id === file.id));
    expect(normal.text).not.toMatch(INTERNAL);
  });

  it('_find hides them, even when asked for by fields', async () => {
    const found = await h.req('POST', `/data/${FILES_DOCTYPE}/_find`, { token, body: { selector: { name: 'doc.txt' } } });
    expect(found.status, found.text).toBe(200);
    expect(found.body.docs).toHaveLength(1);
    visible(found.body.docs[0]);
    const asked = await h.req('POST', `/data/${FILES_DOCTYPE}/_find`, { token, body: { selector: { name: 'doc.txt' }, fields: ['_id', 'internal_vfs_id', 'internal_thumbnails', 'dav_props'] } });
    expect(asked.body.docs).toEqual([{ _id: file.id }]);
  });

  it('refuses selectors and sorts on them (they would reveal them bit by bit): _find, _explain, _changes', async () => {
    const selectors = [
      { internal_vfs_id: { $gt: '8' } },
      { name: 'doc.txt', $or: [{ 'internal_thumbnails.secret': { $regex: '^c' } }, { size: '1' }] },
      { $and: [{ $not: { dav_props: { $exists: true } } }] },
      { internal_new_thing: 1 },
    ];
    for (const selector of selectors) {
      for (const route of ['_find', '_explain']) {
        const res = await h.req('POST', `/data/${FILES_DOCTYPE}/${route}`, { token, body: { selector } });
        expect(res.status, `${route} ${JSON.stringify(selector)}`).toBe(400);
        expect(res.text).toContain('is internal');
      }
      const changes = await h.req('POST', `/data/${FILES_DOCTYPE}/_changes?filter=_selector`, { token, body: { selector } });
      expect(changes.status).toBe(400);
    }
    const sorted = await h.req('POST', `/data/${FILES_DOCTYPE}/_find`, { token, body: { selector: { name: 'doc.txt' }, sort: [{ internal_vfs_id: 'asc' }] } });
    expect(sorted.status).toBe(400);
    // other fields, and the same names in other doctypes, are fine
    const byName = await h.req('POST', `/data/${FILES_DOCTYPE}/_changes?filter=_selector&include_docs=true`, { token, body: { selector: { name: 'doc.txt' } } });
    expect(byName.status).toBe(200);
    expect(byName.body.results).toHaveLength(1);
    const notes = await h.cliToken('io.cozy.notes');
    expect((await h.req('POST', '/data/io.cozy.notes/', { token: notes, body: { internal_vfs_id: 'mine' } })).status).toBe(201);
    const mine = await h.req('POST', '/data/io.cozy.notes/_find', { token: notes, body: { selector: { internal_vfs_id: 'mine' } } });
    expect(mine.status).toBe(200);
    expect(mine.body.docs[0].internal_vfs_id).toBe('mine');
  });

  it('_changes (normal, longpoll, continuous) hides them', async () => {
    const normal = await h.req('GET', `/data/${FILES_DOCTYPE}/_changes?include_docs=true`, { token });
    expect(normal.status).toBe(200);
    visible(normal.body.results.find((r: { id: string }) => r.id === file.id).doc);
    expect(normal.text).not.toMatch(INTERNAL);
    const longpoll = await h.req('GET', `/data/${FILES_DOCTYPE}/_changes?include_docs=true&feed=longpoll`, { token });
    visible(longpoll.body.results.find((r: { id: string }) => r.id === file.id).doc);
    expect(longpoll.text).not.toMatch(INTERNAL);
    const continuous = await h.req('GET', `/data/${FILES_DOCTYPE}/_changes?include_docs=true&feed=continuous&timeout=1`, { token });
    const rows = continuous.text.trim().split('\n').map((l) => JSON.parse(l));
    visible(rows.find((r: { id?: string }) => r.id === file.id).doc);
    expect(continuous.text).not.toMatch(INTERNAL);
    const posted = await h.req('POST', `/data/${FILES_DOCTYPE}/_changes?include_docs=true&filter=_doc_ids`, { token, body: { doc_ids: [file.id] } });
    expect(posted.body.results).toHaveLength(1);
    visible(posted.body.results[0].doc);
  });

  it('replication: _bulk_get hides them; _revs_diff returns no body', async () => {
    const stored = await h.hearth.storeOf(h.instance).get(FILES_DOCTYPE, file.id);
    const bulk = await h.req('POST', `/data/${FILES_DOCTYPE}/_bulk_get?revs=true`, { token, body: { docs: [{ id: file.id }, { id: file.id, rev: stored._rev }] } });
    expect(bulk.status).toBe(200);
    expect(bulk.body.results).toHaveLength(2);
    for (const r of bulk.body.results) visible(r.docs[0].ok);
    expect(bulk.text).not.toMatch(INTERNAL);
    const diff = await h.req('POST', `/data/${FILES_DOCTYPE}/_revs_diff`, { token, body: { [file.id]: [String(stored._rev), '9-' + 'f'.repeat(32)] } });
    expect(diff.body).toEqual({ [file.id]: { missing: ['9-' + 'f'.repeat(32)], possible_ancestors: [String(stored._rev)] } });
  });

  it('io.cozy.files.versions documents hide their blob key too', async () => {
    const all = await h.req('GET', '/data/io.cozy.files.versions/_all_docs?include_docs=true', { token });
    expect(all.status).toBe(200);
    expect(all.body.rows.length).toBeGreaterThan(0);
    expect(all.body.rows[0].doc).toMatchObject({ md5sum: expect.any(String), size: '11' });
    expect(all.text).not.toMatch(INTERNAL);
    const one = await h.req('GET', `/data/io.cozy.files.versions/${encodeURIComponent(all.body.rows[0].id)}`, { token });
    expect(one.status).toBe(200);
    expect(one.text).not.toMatch(INTERNAL);
  });

  it('the stored documents keep their internal fields (the file system still finds the blobs)', async () => {
    const stored = await h.hearth.storeOf(h.instance).get(FILES_DOCTYPE, file.id);
    expect(stored.internal_vfs_id).toMatch(/^[0-9a-f]{32}$/);
    expect((stored.internal_thumbnails as { secret: string }).secret).toBe(SECRET_THUMB);
    expect((await h.req('GET', `/files/download/${file.id}`, { token })).text).toBe('version two');
  });
});

describe('io.cozy.files refusals through /data', () => {
  it('refuses every write (403), whatever the token', async () => {
    const stored = await h.hearth.storeOf(h.instance).get(FILES_DOCTYPE, file.id);
    const rev = String(stored._rev);
    const writes: Array<[string, string, unknown]> = [
      ['POST', `/data/${FILES_DOCTYPE}/`, { name: 'x', type: 'file' }],
      ['PUT', `/data/${FILES_DOCTYPE}/${file.id}`, { _id: file.id, _rev: rev, name: 'hacked.txt', internal_vfs_id: 'f'.repeat(32) }],
      ['PUT', `/data/${FILES_DOCTYPE}/new-one`, { name: 'new.txt' }],
      ['DELETE', `/data/${FILES_DOCTYPE}/${file.id}?rev=${rev}`, undefined],
      ['POST', `/data/${FILES_DOCTYPE}/_bulk_docs`, { docs: [{ _id: file.id, _rev: rev, name: 'bulk.txt' }] }],
      ['PUT', `/data/${FILES_DOCTYPE}/_design/x`, { views: {} }],
      ['PUT', `/data/${FILES_DOCTYPE}/_local/x`, { last_seq: '1' }],
      ['DELETE', `/data/${FILES_DOCTYPE}/`, undefined],
      ['PUT', '/data/io.cozy.files.versions/x', { name: 'v' }],
    ];
    for (const [method, path, body] of writes) {
      const res = await h.req(method, path, { token, ...(body === undefined ? {} : { body }) });
      expect(res.status, `${method} ${path}: ${res.text}`).toBe(403);
      expect(res.text).toContain('read-only');
    }
    const after = await h.hearth.storeOf(h.instance).get(FILES_DOCTYPE, file.id);
    expect(after._rev).toBe(rev);
    expect(after.name).toBe('doc.txt');
  });

  it('refuses reads without a token (401), with a token for another doctype or another instance', async () => {
    expect((await h.req('GET', `/data/${FILES_DOCTYPE}/${file.id}`)).status).toBe(401);
    const contacts = await h.cliToken('io.cozy.contacts');
    expect((await h.req('GET', `/data/${FILES_DOCTYPE}/${file.id}`, { token: contacts })).status).toBe(403);
    expect((await h.req('POST', `/data/${FILES_DOCTYPE}/_find`, { token: contacts, body: { selector: {} } })).status).toBe(403);
    const foreign = await h.cliToken(FILES_DOCTYPE, h.other);
    expect([400, 401]).toContain((await h.req('GET', `/data/${FILES_DOCTYPE}/_all_docs?include_docs=true`, { token: foreign })).status);
  });
});
