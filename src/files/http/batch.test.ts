/** PATCH /files/ (many PATCH /files/:id in one request) on a real server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { ROOT, TRASH, mkdir, upload } from '../../../test/helpers/files.js';
import { fsck } from '../fsck.js';

let h: TestHearth;
let token: string;
beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.files');
});
afterAll(() => h.close());

const item = (id: string, rev: string | undefined, attributes: Record<string, unknown>) => ({ type: 'io.cozy.files', id, ...(rev ? { meta: { rev } } : {}), attributes });
const attrs = async (id: string) => (await h.req('GET', `/files/${id}`, { token })).body.data.attributes;

describe('PATCH /files/', () => {
  it('applies each patch as PATCH /files/:id does (move, trash, rename, tags) and answers 204', async () => {
    const dest = await mkdir(h, token, ROOT, 'Inbox');
    const a = await upload(h, token, ROOT, 'a.txt', 'a');
    const b = await upload(h, token, ROOT, 'b.txt', 'b');
    const c = await upload(h, token, ROOT, 'c.txt', 'c');
    const res = await h.req('PATCH', '/files/', { token, body: { data: [
      item(a.id, a.rev, { dir_id: dest.id }),
      item(b.id, b.rev, { move_to_trash: true }),
      item(c.id, undefined, { name: 'renamed.txt', tags: ['x'] }),
    ] } });
    expect(res.status, res.text).toBe(204);
    expect((await attrs(a.id)).dir_id).toBe(dest.id);
    expect(await attrs(b.id)).toMatchObject({ dir_id: TRASH, trashed: true });
    expect(await attrs(c.id)).toMatchObject({ name: 'renamed.txt', tags: ['x'] });
    expect(await fsck(h.hearth.vfs.fs, h.instance)).toEqual([]);
  });

  it('answers the errors of the items that failed (with their id), the others being applied', async () => {
    const a = await upload(h, token, ROOT, 'ok.txt', 'a');
    const b = await upload(h, token, ROOT, 'stale.txt', 'b');
    await upload(h, token, ROOT, 'taken.txt', 't');
    const res = await h.req('PATCH', '/files/', { token, body: { data: [
      item('nope', undefined, { name: 'x' }),
      item(a.id, a.rev, { name: 'ok-renamed.txt' }),
      item(b.id, '1-stale', { name: 'never.txt' }),
      item(b.id, undefined, { name: 'taken.txt' }),
    ] } });
    expect(res.status, res.text).toBe(404);
    expect(res.headers['content-type']).toContain('application/vnd.api+json');
    expect(res.body.errors.map((e: { status: string; source: unknown }) => [e.status, e.source])).toEqual([
      ['404', { parameter: '_id', pointer: 'nope' }], ['412', { parameter: '_id', pointer: b.id }], ['409', { parameter: '_id', pointer: b.id }],
    ]);
    expect((await attrs(a.id)).name).toBe('ok-renamed.txt');
    expect((await attrs(b.id)).name).toBe('stale.txt');
  });

  it('applies items without meta.rev (no meta, meta {}, rev null or ""), checks a given one, and refuses a rev that is not a string', async () => {
    const files = await Promise.all(['n1.txt', 'n2.txt', 'n3.txt', 'n4.txt'].map((n) => upload(h, token, ROOT, n, n)));
    // each file changed since the client read it: without meta.rev that does not matter
    for (const f of files) expect((await h.req('PATCH', `/files/${f.id}`, { token, body: { data: { type: 'io.cozy.files', id: f.id, attributes: { tags: ['changed'] } } } })).status).toBe(200);
    const metas = [undefined, {}, { rev: null }, { rev: '' }];
    const res = await h.req('PATCH', '/files/', { token, body: { data: files.map((f, i) => ({ type: 'io.cozy.files', id: f.id, ...(metas[i] === undefined ? {} : { meta: metas[i] }), attributes: { name: `m${i}.txt` } })) } });
    expect(res.status, res.text).toBe(204);
    for (const [i, f] of files.entries()) expect((await attrs(f.id)).name).toBe(`m${i}.txt`);
    const stale = await h.req('PATCH', '/files/', { token, body: { data: [item(files[0]!.id, files[0]!.rev, { name: 'stale.bin' })] } });
    expect(stale.status).toBe(412);
    expect((await attrs(files[0]!.id)).name).toBe('m0.txt');
    const bad = await h.req('PATCH', '/files/', { token, body: { data: [{ type: 'io.cozy.files', id: files[1]!.id, meta: { rev: 3 }, attributes: { name: 'never.txt' } }] } });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('meta.rev');
    expect((await attrs(files[1]!.id)).name).toBe('m1.txt');
  });

  it('refuses: 401, 403 when PATCH is missing on one document (nothing changes), 400 for a bad body, 422 for a bad attribute', async () => {
    const mine = await mkdir(h, token, ROOT, 'Mine');
    const inside = await upload(h, token, mine.id, 'in.txt', 'i');
    const outside = await upload(h, token, ROOT, 'out.txt', 'o');
    const body = { data: [item(inside.id, undefined, { name: 'in2.txt' }), item(outside.id, undefined, { name: 'out2.txt' })] };
    expect((await h.req('PATCH', '/files/', { body })).status).toBe(401);
    const limited = await h.cliToken(`io.cozy.files:ALL:${mine.id}`);
    expect((await h.req('PATCH', '/files/', { token: limited, body })).status).toBe(403);
    expect((await attrs(inside.id)).name).toBe('in.txt');
    expect((await h.req('PATCH', '/files/', { token: await h.cliToken('io.cozy.files:GET'), body })).status).toBe(403);
    expect((await h.req('PATCH', '/files/', { token, body: { data: item(inside.id, undefined, { name: 'x' }) } })).status).toBe(400);
    expect((await h.req('PATCH', '/files/', { token, body: { data: [] } })).status).toBe(400);
    expect((await h.req('PATCH', '/files/', { token, body: { data: [{ type: 'io.cozy.files', id: inside.id }] } })).status).toBe(400);
    expect((await h.req('PATCH', '/files/', { token, body: { data: [item(inside.id, undefined, { name: 'ok.txt' }), item(outside.id, undefined, { tags: 'x' })] } })).status).toBe(422);
    expect((await attrs(inside.id)).name).toBe('in.txt');
    expect((await h.req('PATCH', '/files/', { token: limited, body: { data: [body.data[0]] } })).status).toBe(204);
    expect((await attrs(inside.id)).name).toBe('in2.txt');
  });
});
