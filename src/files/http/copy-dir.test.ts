/** POST /files/:id/copy on a directory (cozy-stack copies files only): the whole subtree, its refusals, all or nothing. */
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

type Item = { id: string; attributes: { name: string; type: string } };
/** The names below a directory, as "a/b/c.txt" paths, with each file's content. */
async function treeOf(id: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const res = await h.req('GET', `/files/${id}`, { token });
  for (const c of res.body.included as Item[]) {
    const path = `${prefix}${c.attributes.name}`;
    if (c.attributes.type === 'directory') Object.assign(out, { [`${path}/`]: '' }, await treeOf(c.id, `${path}/`));
    else out[path] = (await h.req('GET', `/files/download/${c.id}`, { token })).text;
  }
  return out;
}
const usage = async () => Number((await h.req('GET', '/settings/disk-usage', { token: await h.cliToken('io.cozy.settings') })).body.data.attributes.used);

async function holiday(name: string) {
  const top = await mkdir(h, token, ROOT, name);
  await upload(h, token, top.id, 'notes.txt', 'sun');
  const sub = await mkdir(h, token, top.id, 'Day 1');
  await upload(h, token, sub.id, 'beach.jpg', 'jpeg bytes');
  await mkdir(h, token, sub.id, 'empty');
  return { top, sub };
}

describe('copying a directory', () => {
  it('copies its whole subtree beside it as "name (copy)", or into DirID under Name; the source stays as it was', async () => {
    const { top } = await holiday('Holiday.2024');
    const want = { 'notes.txt': 'sun', 'Day 1/': '', 'Day 1/beach.jpg': 'jpeg bytes', 'Day 1/empty/': '' };
    const before = await usage();
    const c = await h.req('POST', `/files/${top.id}/copy`, { token });
    expect(c.status).toBe(201);
    expect(c.body.data.attributes).toMatchObject({ type: 'directory', name: 'Holiday.2024 (copy)', dir_id: ROOT, path: '/Holiday.2024 (copy)' });
    expect(c.body.data.id).not.toBe(top.id);
    expect(await treeOf(c.body.data.id)).toEqual(want);
    expect(await treeOf(top.id)).toEqual(want);
    expect(await usage()).toBe(before + 'sun'.length + 'jpeg bytes'.length);
    // a second copy beside it: "(copy 2)"
    expect((await h.req('POST', `/files/${top.id}/copy`, { token })).body.data.attributes.name).toBe('Holiday.2024 (copy 2)');
    const dest = await mkdir(h, token, ROOT, 'Archives');
    const c2 = await h.req('POST', `/files/${top.id}/copy?DirID=${dest.id}&Name=Holiday`, { token });
    expect(c2.status).toBe(201);
    expect(c2.body.data.attributes).toMatchObject({ name: 'Holiday', dir_id: dest.id, path: '/Archives/Holiday' });
    expect(await treeOf(c2.body.data.id)).toEqual(want);
    // the sub-directories of the copy have their own paths
    const day = (await h.req('GET', `/files/metadata?Path=${encodeURIComponent('/Archives/Holiday/Day 1/empty')}`, { token }));
    expect(day.status).toBe(200);
  });

  it('refuses a taken name (409), a copy into itself or below (422), the root and the trash, a bad name', async () => {
    const { top, sub } = await holiday('Trip');
    const dest = await mkdir(h, token, ROOT, 'Taken');
    await mkdir(h, token, dest.id, 'Trip');
    const refused = async (path: string) => {
      const res = await h.req('POST', path, { token });
      return [res.status, res.body.errors?.[0]?.status];
    };
    expect(await refused(`/files/${top.id}/copy?DirID=${dest.id}&Name=Trip`)).toEqual([409, '409']);
    expect(await refused(`/files/${top.id}/copy?DirID=${top.id}`)).toEqual([422, '422']);
    expect(await refused(`/files/${top.id}/copy?DirID=${sub.id}`)).toEqual([422, '422']);
    expect(await refused(`/files/${ROOT}/copy?DirID=${dest.id}`)).toEqual([422, '422']);
    expect(await refused(`/files/${top.id}/copy?DirID=io.cozy.files.trash-dir`)).toEqual([422, '422']);
    expect((await refused(`/files/${top.id}/copy?DirID=${dest.id}&Name=a%2Fb`))[0]).toBe(422);
    expect((await h.req('GET', `/files/${dest.id}`, { token })).body.included.map((c: Item) => c.attributes.name)).toEqual(['Trip']);
  });

  it('needs GET on the directory and POST where the copy goes', async () => {
    const { top } = await holiday('Private');
    const open = await mkdir(h, token, ROOT, 'Open');
    const readOnly = await h.cliToken('io.cozy.files:GET');
    expect((await h.req('POST', `/files/${top.id}/copy`, { token: readOnly })).status).toBe(403);
    // rights on "Open" only: may not read "Private", nor copy "Open" to the root
    const onOpen = await h.cliToken(`io.cozy.files:ALL:${open.id}`);
    expect((await h.req('POST', `/files/${top.id}/copy?DirID=${open.id}`, { token: onOpen })).status).toBe(403);
    const inner = await mkdir(h, token, open.id, 'inner');
    expect((await h.req('POST', `/files/${inner.id}/copy?DirID=${ROOT}`, { token: onOpen })).status).toBe(403);
    const within = await h.req('POST', `/files/${inner.id}/copy`, { token: onOpen });
    expect(within.status).toBe(201);
    expect(within.body.data.attributes.name).toBe('inner (copy)');
    expect((await h.req('POST', `/files/${top.id}/copy`)).status).toBe(401);
  });

  it('is all or nothing: over the quota, nothing of the copy is left and the usage is unchanged (413)', async () => {
    const top = await mkdir(h, token, ROOT, 'Big');
    await upload(h, token, top.id, 'a.bin', 'x'.repeat(100));
    const deeper = await mkdir(h, token, top.id, 'z');
    await upload(h, token, deeper.id, 'b.bin', 'y'.repeat(100));
    const used = await usage();
    await h.hearth.registry.modify(h.domain, { diskQuota: used + 150 });
    try {
      const res = await h.req('POST', `/files/${top.id}/copy?Name=Big2`, { token });
      expect(res.status).toBe(413);
      expect(await usage()).toBe(used);
      expect((await h.req('GET', `/files/metadata?Path=${encodeURIComponent('/Big2')}`, { token })).status).toBe(404);
    } finally {
      await h.hearth.registry.modify(h.domain, { diskQuota: null });
    }
  });
});
