/**
 * Every part of one export is a picture of the instance when its job began (snapshot.ts), whenever each part is
 * downloaded: files overwritten, renamed, moved into a new directory and destroyed (with their versions), documents
 * deleted, changed and added after the job leave every part as it was; the blobs kept meanwhile go once the export has
 * expired or a new export replaced it, and nothing of the snapshot is left.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULTS } from '../../config/schema.js';
import type { Doc } from '../../data/store.js';
import { md5, mkdir, ROOT, upload } from '../../../test/helpers/files.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { downloadExport, newExport, type ZipEntry } from '../../../test/helpers/export.js';
import { jpegWithExif } from '../../../test/helpers/images.js';
import { AVATAR_ENTRY, DATA_DIR, docEntry, FILES_DOCTYPE, fileContentEntry, versionContentEntry, VERSIONS_DOCTYPE, WALLPAPER_ENTRY } from '../layout.js';
import type { ExportDoc } from '../types.js';
import { EXPORT_MAX_AGE_MS } from './exports.js';
import { docsOf } from './snapshot.js';

let h: TestHearth;
let token: string;
let skew = 0;
const CONTACTS = 'io.cozy.contacts';
/** Each file's content, by id. */
const contents = new Map<string, Buffer>();

beforeAll(async () => {
  // versions kept at most every 15 minutes (the default): a second overwrite discards the content it replaces
  h = await startTestHearth({ files: { ...DEFAULTS.files, versions: { max: 20, minDelayMs: 15 * 60_000 } } }, { exports: { minPartSize: 1000, sweepMs: 0, now: () => Date.now() + skew } });
  token = await h.cliToken('io.cozy.files io.cozy.contacts');
  const dir = await mkdir(h, token, ROOT, 'papers');
  for (let i = 0; i < 8; i++) {
    const made = await upload(h, token, i < 2 ? dir.id : ROOT, `f${i}.bin`, randomBytes(300 * 1024));
    // overwritten once: the first content is kept as a version
    await overwrite(made.id);
  }
  for (const id of ['c1', 'c2', 'c3']) expect((await h.req('PUT', `/data/${CONTACTS}/${id}`, { token, body: { name: id } })).status).toBe(200);
});
afterAll(() => h.close());

async function overwrite(id: string): Promise<void> {
  const data = randomBytes(300 * 1024);
  expect((await h.req('PUT', `/files/${id}`, { token, raw: data, headers: { 'content-type': 'application/octet-stream' } })).status).toBe(200);
  contents.set(id, data);
}

async function destroy(id: string): Promise<void> {
  expect((await h.req('DELETE', `/files/${id}`, { token })).status).toBe(200);
  expect((await h.req('DELETE', `/files/trash/${id}`, { token })).status).toBe(204);
}

async function patch(id: string, attributes: Record<string, unknown>): Promise<void> {
  expect((await h.req('PATCH', `/files/${id}`, { token, body: { data: { type: FILES_DOCTYPE, id, attributes } } })).status).toBe(200);
}

const download = (exp: ExportDoc) => downloadExport(h, exp);

const store = () => h.hearth.storeOf(h.instance);
const blobSize = (key: unknown) => h.hearth.vfs.fs.blobs.size(h.instance.id, String(key));
async function all(doctype: string): Promise<Doc[]> {
  const docs: Doc[] = [];
  for await (const d of docsOf(store(), doctype)) docs.push(d);
  return docs;
}
const filesNow = async () => (await all(FILES_DOCTYPE)).filter((d) => d.type === 'file');

interface Picture { docs: Map<string, Doc>; files: Map<string, string> }

/** What an archive should hold of the instance now: documents by entry name, each content's MD5 by its entry name. */
async function picture(): Promise<Picture> {
  const docs = new Map<string, Doc>();
  const files = new Map<string, string>();
  const dirs = new Map<string, string>();
  for (const doctype of [CONTACTS, FILES_DOCTYPE, VERSIONS_DOCTYPE]) {
    for (const d of await all(doctype)) {
      docs.set(docEntry(doctype, d._id as string), d);
      if (d.type === 'directory') dirs.set(d._id as string, String(d.path).replace(/\/+$/, ''));
    }
  }
  for (const d of await filesNow()) files.set(fileContentEntry(`${dirs.get(String(d.dir_id))}/${String(d.name)}`), md5(contents.get(d._id as string)!));
  for (const v of await all(VERSIONS_DOCTYPE)) files.set(versionContentEntry(v._id as string), String(v.md5sum));
  return { docs, files };
}

/** The same of an archive. */
function pictureOf(entries: ZipEntry[]): Picture {
  const docs = new Map<string, Doc>();
  const files = new Map<string, string>();
  for (const e of entries) {
    if ([CONTACTS, FILES_DOCTYPE, VERSIONS_DOCTYPE].some((d) => e.name.startsWith(`${DATA_DIR}/${d}/`))) docs.set(e.name, JSON.parse(e.data.toString()) as Doc);
    else if (e.name.startsWith(fileContentEntry(''))) files.set(e.name, md5(e.data));
  }
  return { docs, files };
}

it('every part is of the moment the export began: files changed, renamed, moved, destroyed and documents changed after it leave every part as it was', async () => {
  const exp = await newExport(h);
  expect(exp.parts_cursors.length).toBeGreaterThan(1);
  const before = await picture();
  const [changed, renamed, moved, gone] = (await filesNow()).map((d) => d._id as string);
  const replaced = (await store().get(FILES_DOCTYPE, changed!)).internal_vfs_id;
  const goneBlobs = [(await store().get(FILES_DOCTYPE, gone!)).internal_vfs_id, ...(await all(VERSIONS_DOCTYPE)).filter((v) => String(v._id).startsWith(`${gone!}/`)).map((v) => v.internal_vfs_id)];
  expect(goneBlobs).toHaveLength(2);
  // the content replaced is not kept as a version (one was kept less than 15 minutes ago): the file system removes it
  await overwrite(changed!);
  await patch(renamed!, { name: 'renamed.bin' });
  const later = await mkdir(h, token, ROOT, 'made after');
  await patch(moved!, { dir_id: later.id });
  await destroy(gone!);
  const added = await upload(h, token, ROOT, 'added.bin', randomBytes(1000));
  contents.set(added.id, Buffer.alloc(0));
  expect((await h.req('DELETE', `/data/${CONTACTS}/c1?rev=${String((await store().get(CONTACTS, 'c1'))._rev)}`, { token })).status).toBe(200);
  expect((await h.req('PUT', `/data/${CONTACTS}/c2`, { token, body: { ...(await store().get(CONTACTS, 'c2')), name: 'changed' } })).status).toBe(200);
  expect((await h.req('PUT', `/data/${CONTACTS}/c4`, { token, body: { name: 'c4' } })).status).toBe(200);
  expect((await store().get(FILES_DOCTYPE, changed!)).internal_vfs_id).not.toBe(replaced);
  expect((await store().listDoctypes())).toContain(VERSIONS_DOCTYPE);

  const got = pictureOf(await download(exp));
  expect(got.docs).toEqual(before.docs);
  expect(got.files).toEqual(before.files);
  // the blobs the file system removed since are kept for the export
  for (const key of [replaced, ...goneBlobs]) expect(await blobSize(key)).not.toBeNull();

  // expired: the export, its copy of the documents and the blobs kept for it are gone; the files of now stay whole
  skew = EXPORT_MAX_AGE_MS + 60_000;
  await h.hearth.exports.sweep();
  expect(await h.hearth.exports.store.get(exp._id)).toBeNull();
  expect(await h.hearth.exports.store.docs(exp._id, 2, { doctype: '', id: '' }, true, null, 10)).toEqual([]);
  expect(await h.hearth.exports.store.releasable(Date.now() + skew, 10)).toEqual([]);
  for (const key of [replaced, ...goneBlobs]) expect(await blobSize(key)).toBeNull();
  for (const d of await filesNow()) expect(await blobSize(d.internal_vfs_id)).toBe(Number(d.size));
});

it('a new export releases the blobs kept for the one it replaces, and keeps its own', async () => {
  const first = await newExport(h);
  const [a, b] = (await filesNow()).filter((d) => contents.get(d._id as string)?.length);
  await destroy(a!._id as string);
  expect(await blobSize(a!.internal_vfs_id)).not.toBeNull();
  const second = await newExport(h);
  expect(await h.hearth.exports.store.get(first._id)).toBeNull();
  expect(await blobSize(a!.internal_vfs_id)).toBeNull();
  await destroy(b!._id as string);
  const files = [...pictureOf(await download(second)).files.values()];
  expect(files).toContain(md5(contents.get(b!._id as string)!));
  expect(files).not.toContain(md5(contents.get(a!._id as string)!));
});

it("the owner's avatar and Home's wallpaper are those of the export's start, even when changed before part 0 is downloaded", async () => {
  const settings = await h.cliToken('io.cozy.settings');
  const put = async (what: 'avatar' | 'wallpaper', width: number) => {
    const image = await jpegWithExif(width, width / 2);
    expect((await h.req('PUT', `/settings/${what}`, { token: settings, raw: image, headers: { 'content-type': 'image/jpeg' } })).status).toBe(204);
  };
  // as the server serves them (stored re-encoded, in a folder or in PostgreSQL): the bytes as UTF-8 text (what the test
  // client keeps), the same for the same bytes, and their length
  const served = async (what: 'avatar' | 'wallpaper') => {
    const res = what === 'avatar' ? await h.req('GET', '/public/avatar?fallback=404') : await h.req('GET', '/settings/wallpaper', { token: await h.cliToken('io.cozy.settings:GET') });
    expect(res.status).toBe(200);
    return `${String(res.headers['content-length'])} ${md5(Buffer.from(res.text))}`;
  };
  const asServed = (data: Buffer) => `${data.length} ${md5(Buffer.from(data.toString('utf8')))}`;
  await put('avatar', 300);
  await put('wallpaper', 600);
  const atStart = { avatar: await served('avatar'), wallpaper: await served('wallpaper') };
  const exp = await newExport(h);
  // both changed after the job, before any part is downloaded
  await put('avatar', 200);
  await put('wallpaper', 400);
  expect(await served('avatar')).not.toBe(atStart.avatar);
  expect(await served('wallpaper')).not.toBe(atStart.wallpaper);
  const entries = await download(exp);
  const entry = (name: string) => entries.filter((e) => e.name === name).map((e) => asServed(e.data));
  expect(entry(AVATAR_ENTRY)).toEqual([atStart.avatar]);
  expect(entry(WALLPAPER_ENTRY)).toEqual([atStart.wallpaper]);
});
