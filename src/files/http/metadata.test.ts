/** GET/HEAD /files/:id and /files/metadata, contents pagination, PATCH (rename, move, tags, trash) and DELETE on a real server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { ROOT, TRASH, mkdir, q, upload } from '../../../test/helpers/files.js';

let h: TestHearth;
let token: string;

beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.files');
});
afterAll(() => h.close());

const patchBody = (id: string, attributes: Record<string, unknown>) => ({ data: { type: 'io.cozy.files', id, attributes } });
const jsonApi = { 'content-type': 'application/vnd.api+json' };

describe('reading', () => {
  it('GET /files/:id of a file and of a directory with its contents, included, and count', async () => {
    const dir = await mkdir(h, token, ROOT, 'Read');
    const sub = await mkdir(h, token, dir.id, 'sub');
    const file = await upload(h, token, dir.id, 'a.txt', 'aaa');
    const res = await h.req('GET', `/files/${dir.id}`, { token });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(res.body.data).toMatchObject({
      type: 'io.cozy.files', id: dir.id, meta: { rev: dir.rev }, attributes: { type: 'directory', name: 'Read', path: '/Read' },
      relationships: { contents: { meta: { count: 2 }, links: { self: `/files/${dir.id}/relationships/contents` }, data: [{ type: 'io.cozy.files', id: file.id }, { type: 'io.cozy.files', id: sub.id }] } },
    });
    expect(res.body.included.map((d: { id: string }) => d.id)).toEqual([file.id, sub.id]);
    expect(res.body.included[0].attributes).toMatchObject({ name: 'a.txt', size: '3' });
    expect(res.body.links).toBeUndefined();
    const one = await h.req('GET', `/files/${file.id}`, { token });
    expect(one.body.data).toMatchObject({ id: file.id, attributes: { type: 'file', name: 'a.txt', dir_id: dir.id } });
    expect(one.body.data.relationships.contents).toBeUndefined();
    expect(one.text).not.toContain('internal_vfs_id');
  });

  it('paginates the contents with page[limit] and page[cursor] (links.next), 30 by default, at most 100', async () => {
    const dir = await mkdir(h, token, ROOT, 'Many');
    const names = Array.from({ length: 7 }, (_, i) => `f${i}.txt`);
    for (const n of names) await upload(h, token, dir.id, n, n);
    const seen: string[] = [];
    let next: string | undefined = `/files/${dir.id}?page[limit]=3`;
    while (next) {
      const res = await h.req('GET', next, { token });
      expect(res.status).toBe(200);
      expect(res.body.data.relationships.contents.meta.count).toBe(7);
      seen.push(...res.body.included.map((d: { attributes: { name: string } }) => d.attributes.name));
      next = res.body.links?.next;
      if (next) expect(res.body.data.relationships.contents.links.next).toContain(`/files/${dir.id}/relationships/contents?`);
    }
    expect(seen).toEqual(names);
    const list = await h.req('GET', `/files/${dir.id}/relationships/contents?page[limit]=5`, { token });
    expect(list.body.data.length).toBe(5);
    expect(list.body.meta.count).toBe(7);
    const rest = await h.req('GET', list.body.links.next, { token });
    expect(rest.body.data.map((d: { attributes: { name: string } }) => d.attributes.name)).toEqual(['f5.txt', 'f6.txt']);
    expect(rest.body.links.next).toBeUndefined();
    expect((await h.req('GET', `/files/${dir.id}?page[limit]=1000`, { token })).body.included.length).toBe(7);
    expect((await h.req('GET', `/files/${dir.id}?page[limit]=zero`, { token })).status).toBe(400);
  });

  it('pages by 30 by default and by 100 at most', async () => {
    const dir = await mkdir(h, token, ROOT, 'Crowded');
    for (let i = 0; i < 101; i++) await mkdir(h, token, dir.id, `d${String(i).padStart(3, '0')}`);
    const first = await h.req('GET', `/files/${dir.id}`, { token });
    expect(first.body.included.length).toBe(30);
    expect(first.body.data.relationships.contents.meta.count).toBe(101);
    expect(first.body.links.next).toBe(`/files/${dir.id}?page[cursor]=d029`);
    expect((await h.req('GET', first.body.links.next, { token })).body.included[0].attributes.name).toBe('d030');
    const most = await h.req('GET', `/files/${dir.id}?page[limit]=500`, { token });
    expect(most.body.included.length).toBe(100);
    expect(most.body.links.next).toBe(`/files/${dir.id}?page[cursor]=d099&page[limit]=100`);
  });

  it('pages through names that need escaping in the cursor', async () => {
    const dir = await mkdir(h, token, ROOT, 'Odd names');
    const names = ['a b', 'a#b', 'a%b', 'a&b', 'a+b', 'a=b', 'é"ü'].sort();
    for (const n of names) await upload(h, token, dir.id, n, n);
    const seen: string[] = [];
    for (let next: string | undefined = `/files/${dir.id}?page[limit]=2`; next;) {
      const res = await h.req('GET', next, { token });
      expect(res.status).toBe(200);
      seen.push(...res.body.included.map((d: { attributes: { name: string } }) => d.attributes.name));
      next = res.body.links?.next;
    }
    expect(seen).toEqual(names);
  });

  it('hides the trash from the root listing', async () => {
    const res = await h.req('GET', `/files/${ROOT}?page[limit]=100`, { token });
    expect(res.status).toBe(200);
    const ids = res.body.included.map((d: { id: string }) => d.id);
    expect(ids).not.toContain(TRASH);
    expect(res.body.data.relationships.contents.meta.count).toBe(ids.length);
    expect(res.body.data.attributes.dir_id).toBeUndefined();
    expect(res.body.data.relationships.parent).toBeUndefined();
  });

  it('GET /files/metadata?Path= finds directories and files; refuses bad paths (422) and answers 404 for missing ones', async () => {
    const dir = await mkdir(h, token, ROOT, 'By path');
    const file = await upload(h, token, dir.id, 'été "2024".txt', 'sun');
    expect((await h.req('GET', `/files/metadata?Path=${q('/By path')}`, { token })).body.data.id).toBe(dir.id);
    const f = await h.req('GET', `/files/metadata?Path=${q('/By path/été "2024".txt')}`, { token });
    expect(f.status).toBe(200);
    expect(f.body.data).toMatchObject({ id: file.id, attributes: { name: 'été "2024".txt' } });
    expect((await h.req('GET', `/files/metadata?Path=${q('/By path/none')}`, { token })).status).toBe(404);
    expect((await h.req('GET', '/files/metadata?Path=relative', { token })).status).toBe(422);
    expect((await h.req('GET', `/files/metadata?Path=${q('/By path/../x')}`, { token })).status).toBe(422);
    expect((await h.req('GET', '/files/metadata', { token })).status).toBe(422);
  });

  it('HEAD /files/:id says whether it exists', async () => {
    const f = await upload(h, token, ROOT, 'head.txt', 'x');
    const res = await h.req('HEAD', `/files/${f.id}`, { token });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect((await h.req('HEAD', '/files/missing', { token })).status).toBe(404);
    expect((await h.req('HEAD', `/files/${f.id}`)).status).toBe(401);
  });
});

describe('PATCH', () => {
  it('renames, retags, moves and sets executable, with If-Match', async () => {
    const a = await mkdir(h, token, ROOT, 'PatchA');
    const b = await mkdir(h, token, ROOT, 'PatchB');
    const f = await upload(h, token, a.id, 'old.txt', 'content');
    const res = await h.req('PATCH', `/files/${f.id}`, { token, headers: { ...jsonApi, 'if-match': f.rev }, raw: JSON.stringify(patchBody(f.id, { name: 'new.txt', tags: ['x', 'y'], dir_id: b.id, executable: true })) });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.attributes).toMatchObject({ name: 'new.txt', tags: ['x', 'y'], dir_id: b.id, executable: true });
    expect(res.body.data.meta.rev).toMatch(/^2-/);
    expect((await h.req('GET', `/files/metadata?Path=${q('/PatchB/new.txt')}`, { token })).body.data.id).toBe(f.id);
    // the parent relationship works as dir_id does
    const back = await h.req('PATCH', `/files/${f.id}`, { token, body: { data: { type: 'io.cozy.files', id: f.id, relationships: { parent: { data: { type: 'io.cozy.files', id: a.id } } } } } });
    expect(back.body.data.attributes.dir_id).toBe(a.id);
  });

  it('moves a directory with its subtree, and never into itself (422)', async () => {
    const top = await mkdir(h, token, ROOT, 'Top');
    const mid = await mkdir(h, token, top.id, 'Mid');
    const leaf = await upload(h, token, mid.id, 'leaf.txt', 'leaf');
    const other = await mkdir(h, token, ROOT, 'Other');
    const into = await h.req('PATCH', `/files/${top.id}`, { token, body: patchBody(top.id, { dir_id: mid.id }) });
    expect(into.status).toBe(422);
    expect(into.body.errors[0].detail).toContain('into itself');
    expect((await h.req('PATCH', `/files/${top.id}`, { token, body: patchBody(top.id, { dir_id: top.id }) })).status).toBe(422);
    const moved = await h.req('PATCH', `/files/${top.id}`, { token, body: patchBody(top.id, { dir_id: other.id }) });
    expect(moved.status).toBe(200);
    expect(moved.body.data.attributes.path).toBe('/Other/Top');
    expect((await h.req('GET', `/files/${mid.id}`, { token })).body.data.attributes.path).toBe('/Other/Top/Mid');
    expect((await h.req('GET', `/files/metadata?Path=${q('/Other/Top/Mid/leaf.txt')}`, { token })).body.data.id).toBe(leaf.id);
  });

  it('refuses a stale If-Match (412), a taken name (409), a bad name (422), a missing target (404), bad bodies (400/422)', async () => {
    const dir = await mkdir(h, token, ROOT, 'Refusals');
    const f = await upload(h, token, dir.id, 'one.txt', '1');
    await upload(h, token, dir.id, 'two.txt', '2');
    const body = (attrs: Record<string, unknown>) => patchBody(f.id, attrs);
    await h.req('PATCH', `/files/${f.id}`, { token, body: body({ tags: ['changed'] }) });
    const stale = await h.req('PATCH', `/files/${f.id}`, { token, headers: { 'if-match': f.rev }, body: body({ name: 'x.txt' }) });
    expect(stale.status).toBe(412);
    expect(stale.body.errors[0]).toMatchObject({ status: '412', title: 'precondition_failed' });
    expect((await h.req('PATCH', `/files/${f.id}`, { token, body: body({ name: 'two.txt' }) })).status).toBe(409);
    expect((await h.req('PATCH', `/files/${f.id}`, { token, body: body({ name: '..' }) })).status).toBe(422);
    expect((await h.req('PATCH', `/files/${f.id}`, { token, body: body({ name: 'a\u0000b' }) })).status).toBe(422);
    expect((await h.req('PATCH', `/files/${f.id}`, { token, body: body({ name: 'n'.repeat(300) }) })).status).toBe(422);
    expect((await h.req('PATCH', `/files/${f.id}`, { token, body: body({ dir_id: 'nowhere' }) })).status).toBe(404);
    expect((await h.req('PATCH', `/files/${f.id}`, { token, body: body({ tags: 'not-a-list' }) })).status).toBe(422);
    expect((await h.req('PATCH', `/files/${f.id}`, { token, body: { attributes: { name: 'x' } } })).status).toBe(400);
    expect((await h.req('PATCH', `/files/${f.id}`, { token, headers: jsonApi, raw: '{not json' })).status).toBe(400);
    expect((await h.req('PATCH', '/files/missing', { token, body: body({ name: 'x' }) })).status).toBe(404);
    expect((await h.req('PATCH', `/files/${ROOT}`, { token, body: body({ name: 'x' }) })).status).toBe(403);
  });

  it('PATCH /files/metadata?Path= changes by path; move_to_trash sends to the trash', async () => {
    const dir = await mkdir(h, token, ROOT, 'ByPathPatch');
    const f = await upload(h, token, dir.id, 'p.txt', 'p');
    const res = await h.req('PATCH', `/files/metadata?Path=${q('/ByPathPatch/p.txt')}`, { token, body: patchBody(f.id, { name: 'q.txt' }) });
    expect(res.status).toBe(200);
    expect(res.body.data.attributes.name).toBe('q.txt');
    const trashed = await h.req('PATCH', `/files/${f.id}`, { token, body: patchBody(f.id, { move_to_trash: true }) });
    expect(trashed.status).toBe(200);
    expect(trashed.body.data.attributes).toMatchObject({ dir_id: TRASH, trashed: true, restore_path: '/ByPathPatch' });
  });
});

describe('DELETE /files/:id', () => {
  it('puts a file or a directory in the trash, with If-Match', async () => {
    const dir = await mkdir(h, token, ROOT, 'ToTrash');
    const f = await upload(h, token, dir.id, 'inside.txt', 'i');
    const stale = await h.req('DELETE', `/files/${dir.id}`, { token, headers: { 'if-match': '1-00000000000000000000000000000000' } });
    expect(stale.status).toBe(412);
    const res = await h.req('DELETE', `/files/${dir.id}`, { token, headers: { 'if-match': dir.rev } });
    expect(res.status).toBe(200);
    expect(res.body.data.attributes).toMatchObject({ dir_id: TRASH, path: '/.cozy_trash/ToTrash', restore_path: '/' });
    expect((await h.req('GET', `/files/${f.id}`, { token })).body.data.attributes.trashed).toBe(true);
    expect((await h.req('DELETE', `/files/${dir.id}`, { token })).status).toBe(400);
    expect((await h.req('DELETE', `/files/${ROOT}`, { token })).status).toBe(403);
  });
});
