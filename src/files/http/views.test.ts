/**
 * The views of io.cozy.files on a real server: POST /files/_find (JSON-API, bookmark paging,
 * fields), POST /files/_all_docs, GET /files/_changes (paging by since/limit, include_file_path,
 * skip_trashed, skip_deleted, fields), GET /files/fsck; the rights (a whole-type GET is needed) and
 * the refusals (internal_vfs_id is neither shown nor queryable).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { ROOT, TRASH, mkdir, upload, type Created } from '../../../test/helpers/files.js';

let h: TestHearth;
let token: string;
let photos: Created;
let y2024: Created;
let docs: Created;
let a: Created;
let b: Created;
let notes: Created;
let readme: Created;

beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.files');
  photos = await mkdir(h, token, ROOT, 'Photos');
  y2024 = await mkdir(h, token, photos.id, '2024');
  docs = await mkdir(h, token, ROOT, 'Docs');
  a = await upload(h, token, photos.id, 'a.jpg', 'jpeg a', { 'content-type': 'image/jpeg' });
  b = await upload(h, token, y2024.id, 'b.jpg', 'jpeg b', { 'content-type': 'image/jpeg' });
  notes = await upload(h, token, docs.id, 'notes.txt', 'some notes');
  readme = await upload(h, token, ROOT, 'readme.md', '# hello');
});
afterAll(() => h.close());

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const find = (body: unknown, opts: { token?: string; path?: string } = {}) => h.req('POST', opts.path ?? '/files/_find', { token: opts.token ?? token, body });
const changes = (query = '', t = token) => h.req('GET', `/files/_changes${query ? `?${query}` : ''}`, { token: t });
const names = (data: Any[]) => data.map((d) => d.attributes.name).sort();

describe('POST /files/_find', () => {
  it('answers a Mango query in JSON-API, files with their full path', async () => {
    const res = await find({ selector: { class: 'image' } });
    expect(res.status, res.text).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(names(res.body.data)).toEqual(['a.jpg', 'b.jpg']);
    // CouchDB's warning (no index for class) is passed on in the meta, as cozy-stack does
    expect(res.body.meta).toEqual({ count: 2, warning: expect.stringContaining('index') });
    expect(res.body.links).toEqual({});
    const bRes = res.body.data.find((d: Any) => d.id === b.id);
    expect(bRes).toMatchObject({
      type: 'io.cozy.files',
      id: b.id,
      meta: { rev: b.rev },
      attributes: { type: 'file', name: 'b.jpg', dir_id: y2024.id, path: '/Photos/2024/b.jpg', mime: 'image/jpeg', class: 'image', size: '6', trashed: false },
      relationships: { parent: { data: { type: 'io.cozy.files', id: y2024.id } } },
      links: { self: `/files/${b.id}`, related: `/files/download/${b.id}` },
    });
    expect(res.text).not.toContain('internal_vfs_id');
  });

  it('finds directories too, with a sort on an index', async () => {
    const res = await find({ selector: { dir_id: ROOT }, sort: [{ dir_id: 'asc' }, { name: 'desc' }] });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.map((d: Any) => d.attributes.name)).toEqual(['readme.md', 'Photos', 'Docs', '.cozy_trash']);
    expect(res.body.data.find((d: Any) => d.id === docs.id)).toMatchObject({ attributes: { type: 'directory', path: '/Docs' }, links: { self: `/files/${docs.id}` } });
  });

  it('pages with the bookmark: links.next while a page is full, none on the last one', async () => {
    const selector = { type: 'file' };
    const first = await find({ selector, limit: 3 });
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(3);
    // cozy-stack does not know how many follow a full page
    expect(first.body.meta.count).toBe(2 ** 31 - 2);
    expect(first.body.links.next).toMatch(/^\/files\/_find\?page\[cursor\]=./);
    // the link is followed with the same body, as cozy-client does
    const second = await find({ selector, limit: 3 }, { path: first.body.links.next });
    expect(second.status).toBe(200);
    expect(second.body.data).toHaveLength(1);
    expect(second.body.links.next).toBeUndefined();
    expect(second.body.meta.count).toBe(1);
    const ids = [...first.body.data, ...second.body.data].map((d: Any) => d.id).sort();
    expect(ids).toEqual([a.id, b.id, notes.id, readme.id].sort());
    // the bookmark in the body works the same
    const cursor = decodeURIComponent(first.body.links.next.split('=')[1]);
    expect((await find({ selector, limit: 3, bookmark: cursor })).body.data.map((d: Any) => d.id)).toEqual(second.body.data.map((d: Any) => d.id));
    // page[limit] and page[skip] of the query string win over the body
    const paged = await find({ selector, limit: 100 }, { path: '/files/_find?page[limit]=2&page[skip]=1' });
    expect(paged.body.data).toHaveLength(2);
    expect(paged.body.links.next).toMatch(/page\[cursor\]/);
  });

  it('limits the answer to the fields asked for (plus those JSON-API needs); path on demand', async () => {
    const res = await find({ selector: { name: 'notes.txt' }, fields: ['name'] });
    expect(res.status, res.text).toBe(200);
    const [doc] = res.body.data;
    expect(doc).toMatchObject({ id: notes.id, meta: { rev: notes.rev } });
    expect(Object.keys(doc.attributes).sort()).toEqual(['class', 'name', 'size', 'trashed', 'type']);
    const withPath = await find({ selector: { name: 'notes.txt' }, fields: ['name', 'path'] });
    expect(withPath.body.data[0].attributes).toMatchObject({ name: 'notes.txt', path: '/Docs/notes.txt', dir_id: docs.id });
    expect(withPath.body.data[0].attributes.md5sum).toBeUndefined();
  });

  it('execution_stats go in the meta', async () => {
    const res = await find({ selector: { dir_id: photos.id }, execution_stats: true });
    expect(res.status).toBe(200);
    expect(names(res.body.data)).toEqual(['2024', 'a.jpg']);
    expect(res.body.meta).toMatchObject({ count: 2, execution_stats: { results_returned: 2, total_docs_examined: expect.any(Number) } });
  });

  it('refuses internal_vfs_id in a selector, a sort or fields, and bad requests (400)', async () => {
    for (const body of [
      { selector: { internal_vfs_id: { $exists: true } } },
      { selector: { type: 'file', $or: [{ name: 'x' }, { $not: { internal_vfs_id: { $gt: '' } } }] } },
      { selector: { 'internal_vfs_id.x': 'y' } },
      { selector: { type: 'file' }, sort: [{ internal_vfs_id: 'asc' }] },
      { selector: { type: 'file' }, fields: ['name', 'internal_vfs_id'] },
    ]) {
      const res = await find(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
      expect(res.body.errors[0]).toMatchObject({ status: '400', detail: expect.stringContaining('internal_vfs_id') });
    }
    // a field named so below another one is not the blob key
    expect((await find({ selector: { 'metadata.internal_vfs_id': 'x' } })).status).toBe(200);
    for (const body of [{ selector: { name: { $foo: 1 } } }, { selector: 'name' }, { fields: ['name'] }, { selector: {}, limit: -1 }, { selector: {}, nope: 1 }, [1]]) {
      const res = await find(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errors[0].status).toBe('400');
    }
    expect((await h.req('POST', '/files/_find', { token, raw: '{not json', headers: { 'content-type': 'application/json' } })).status).toBe(400);
  });
});

describe('POST /files/_all_docs', () => {
  it('answers the documents of the keys in JSON-API, leaving out missing ids and the trash', async () => {
    const res = await h.req('POST', '/files/_all_docs', { token, body: { keys: [b.id, 'missing-id', docs.id, TRASH] } });
    expect(res.status, res.text).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(res.body.data.map((d: Any) => d.id)).toEqual([b.id, docs.id]);
    expect(res.body.meta).toEqual({ count: 2 });
    expect(res.body.data[0]).toMatchObject({ type: 'io.cozy.files', meta: { rev: b.rev }, attributes: { name: 'b.jpg', path: '/Photos/2024/b.jpg' } });
    expect(res.body.data[1].attributes).toMatchObject({ type: 'directory', name: 'Docs', path: '/Docs' });
    expect(res.text).not.toContain('internal_vfs_id');
  });

  it('include_docs=false: only the ids and revisions', async () => {
    const res = await h.req('POST', '/files/_all_docs', { token, body: { keys: [a.id, notes.id], include_docs: false } });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([
      { type: 'io.cozy.files', id: a.id, meta: { rev: a.rev } },
      { type: 'io.cozy.files', id: notes.id, meta: { rev: notes.rev } },
    ]);
  });

  it('without keys: every file and directory (no design document)', async () => {
    const res = await h.req('POST', '/files/_all_docs', { token, body: {} });
    expect(res.status).toBe(200);
    const ids = res.body.data.map((d: Any) => d.id);
    expect(ids).toEqual(expect.arrayContaining([ROOT, photos.id, y2024.id, docs.id, a.id, b.id, notes.id, readme.id]));
    expect(ids.some((id: string) => id.startsWith('_design/') || id === TRASH)).toBe(false);
  });

  it('refuses keys that are not an array of ids (400)', async () => {
    for (const body of [{ keys: 'abc' }, { keys: [1, 2] }, [1]]) {
      expect((await h.req('POST', '/files/_all_docs', { token, body })).status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe('GET /files/_changes', () => {
  it('is the CouchDB changes feed of io.cozy.files, without design documents', async () => {
    const res = await changes();
    expect(res.status, res.text).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(res.body).sort()).toEqual(['last_seq', 'pending', 'results']);
    expect(res.body.pending).toBe(0);
    const ids = res.body.results.map((r: Any) => r.id);
    expect(ids).toEqual(expect.arrayContaining([ROOT, TRASH, photos.id, y2024.id, docs.id, a.id, b.id, notes.id, readme.id]));
    expect(ids.some((id: string) => id.startsWith('_design/'))).toBe(false);
    expect(res.body.results[0]).toMatchObject({ seq: expect.any(String), changes: [{ rev: expect.any(String) }] });
    expect(res.body.results[0].doc).toBeUndefined();
  });

  it('pages with since and limit: pending says how many follow', async () => {
    const all = (await changes()).body;
    const seen: string[] = [];
    let since = '';
    for (let i = 0; i < 20; i++) {
      const page = (await changes(`limit=3${since ? `&since=${encodeURIComponent(since)}` : ''}`)).body;
      if (page.results.length === 0) break;
      expect(page.results.length).toBeLessThanOrEqual(3);
      seen.push(...page.results.map((r: Any) => r.id));
      expect(page.pending).toBe(all.results.length - seen.length);
      since = page.last_seq;
    }
    expect(seen).toEqual(all.results.map((r: Any) => r.id));
    expect(since).toBe(all.last_seq);
  });

  it('include_docs gives the documents without their blob key; include_file_path adds the full path of files', async () => {
    const plain = await changes('include_docs=true');
    expect(plain.status).toBe(200);
    const rowB = plain.body.results.find((r: Any) => r.id === b.id);
    expect(rowB.doc).toMatchObject({ _id: b.id, _rev: b.rev, name: 'b.jpg', dir_id: y2024.id });
    expect(rowB.doc.path).toBeUndefined();
    expect(plain.text).not.toContain('internal_vfs_id');
    const withPath = await changes('include_docs=true&include_file_path=true');
    const path = (id: string) => withPath.body.results.find((r: Any) => r.id === id).doc.path;
    expect(path(b.id)).toBe('/Photos/2024/b.jpg');
    expect(path(readme.id)).toBe('/readme.md');
    expect(path(y2024.id)).toBe('/Photos/2024');
    expect(path(ROOT)).toBe('/');
    // fields: only those, plus what the path needs
    const some = await changes('include_docs=true&include_file_path=true&fields=name');
    expect(some.body.results.find((r: Any) => r.id === notes.id).doc).toEqual({ name: 'notes.txt', type: 'file', dir_id: docs.id, path: '/Docs/notes.txt' });
    const names = await changes('include_docs=true&fields=name,cozyMetadata.createdAt');
    expect(names.body.results.find((r: Any) => r.id === a.id).doc).toEqual({ name: 'a.jpg', cozyMetadata: { createdAt: expect.any(String) } });
  });

  it('skip_trashed leaves out what is in the trash; skip_deleted what was destroyed', async () => {
    const gone = await upload(h, token, docs.id, 'gone.txt', 'gone');
    const trashedDir = await mkdir(h, token, docs.id, 'Old');
    const inside = await upload(h, token, trashedDir.id, 'inside.txt', 'inside');
    expect((await h.req('DELETE', `/files/${notes.id}`, { token })).status).toBe(200);
    expect((await h.req('DELETE', `/files/${trashedDir.id}`, { token })).status).toBe(200);
    expect((await h.req('DELETE', `/files/${gone.id}`, { token })).status).toBe(200);
    expect((await h.req('DELETE', `/files/trash/${gone.id}`, { token })).status).toBe(204);

    const all = (await changes('include_docs=true')).body.results;
    const byId = (rows: Any[], id: string) => rows.find((r: Any) => r.id === id);
    expect(byId(all, notes.id).doc).toMatchObject({ trashed: true, dir_id: TRASH });
    expect(byId(all, gone.id)).toMatchObject({ deleted: true, doc: { _id: gone.id, _deleted: true } });

    const kept = (await changes('include_docs=true&skip_trashed=true')).body.results;
    const keptIds = kept.map((r: Any) => r.id);
    for (const id of [notes.id, trashedDir.id, inside.id, TRASH]) expect(keptIds).not.toContain(id);
    expect(keptIds).toEqual(expect.arrayContaining([a.id, b.id, docs.id, readme.id, gone.id]));

    const alive = (await changes('skip_deleted=true')).body.results.map((r: Any) => r.id);
    expect(alive).not.toContain(gone.id);
    expect(alive).toContain(notes.id);
    const both = (await changes('include_docs=true&skip_deleted=true&skip_trashed=true&include_file_path=true')).body.results;
    expect(both.map((r: Any) => r.id)).not.toContain(gone.id);
    expect(byId(both, b.id).doc.path).toBe('/Photos/2024/b.jpg');
  });

  it('refuses what cozy-stack refuses (400)', async () => {
    for (const query of ['include_file_path=true', 'skip_trashed=true', 'style=all_docs', 'filter=_doc_ids', 'feed=longpoll', 'limit=abc', 'include_docs=maybe', 'fields=name,internal_vfs_id', 'since=1&since=2']) {
      const res = await changes(query);
      expect(res.status, query).toBe(400);
      expect(res.body.errors[0].status).toBe('400');
    }
    expect((await changes('feed=normal&limit=1')).body.results).toHaveLength(1);
  });
});

describe('a fresh instance', () => {
  it('is initialised first: its root and trash are seen by the first request', async () => {
    const other = await h.cliToken('io.cozy.files', h.other);
    const feed = await h.req('GET', '/files/_changes', { token: other, host: h.otherDomain });
    expect(feed.status, feed.text).toBe(200);
    expect(feed.body.results.map((r: Any) => r.id).sort()).toEqual([ROOT, TRASH].sort());
    const found = await h.req('POST', '/files/_find', { token: other, host: h.otherDomain, body: { selector: { type: 'directory' } } });
    expect(found.body.data.map((d: Any) => d.attributes.path).sort()).toEqual(['/', '/.cozy_trash']);
  });
});

describe('GET /files/fsck', () => {
  it('answers nothing on a sound tree', async () => {
    const res = await h.req('GET', '/files/fsck', { token });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(res.text).toBe('');
  });

  it('one JSON object per line for each problem (on the other instance, whose blob is removed)', async () => {
    const other = await h.cliToken('io.cozy.files', h.other);
    const host = h.otherDomain;
    const res = await h.req('POST', `/files/${ROOT}?Type=file&Name=lost.txt`, { token: other, raw: 'lost', host });
    expect(res.status).toBe(201);
    const doc = await h.hearth.storeOf(h.other).get('io.cozy.files', res.body.data.id);
    await h.hearth.vfs.fs.blobs.remove(h.other.id, String(doc.internal_vfs_id));
    const check = await h.req('GET', '/files/fsck', { token: other, host });
    expect(check.status).toBe(200);
    const lines = check.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([expect.objectContaining({ type: 'filesystem_missing', is_file: true, file_doc: expect.objectContaining({ _id: res.body.data.id, name: 'lost.txt' }) })]);
    expect(check.text).not.toContain('internal_vfs_id');
    // the main instance is untouched
    expect((await h.req('GET', '/files/fsck', { token })).text).toBe('');
  });
});

describe('rights', () => {
  const routes: Array<[string, string, unknown?]> = [
    ['POST', '/files/_find', { selector: { type: 'file' } }],
    ['POST', '/files/_all_docs', { keys: [] }],
    ['GET', '/files/_changes'],
    ['GET', '/files/fsck'],
  ];

  it('a whole-type GET right is enough (POST _find is a read)', async () => {
    const reader = await h.cliToken('io.cozy.files:GET');
    for (const [method, path, body] of routes) expect((await h.req(method, path, { token: reader, body })).status, path).toBe(200);
  });

  it('no token: 401; a token of another instance: 400', async () => {
    const foreign = await h.cliToken('io.cozy.files', h.other);
    for (const [method, path, body] of routes) {
      const none = await h.req(method, path, { body });
      expect(none.status, path).toBe(401);
      expect(none.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
      const res = await h.req(method, path, { token: foreign, body });
      expect(res.status, path).toBe(400);
      expect(res.body.errors[0].detail).toBe('Invalid JWT token');
    }
  });

  it('a token limited to one directory, or without io.cozy.files, or without GET: 403', async () => {
    const tokens = [
      await h.cliToken(`io.cozy.files:ALL:${photos.id}`),
      await h.cliToken('io.cozy.contacts'),
      await h.cliToken('io.cozy.files:POST'),
    ];
    for (const t of tokens) {
      for (const [method, path, body] of routes) {
        const res = await h.req(method, path, { token: t, body });
        expect(res.status, path).toBe(403);
        expect(res.body.errors[0]).toMatchObject({ status: '403', title: 'forbidden' });
      }
    }
  });
});
