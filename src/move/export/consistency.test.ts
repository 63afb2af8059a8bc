/**
 * What an export holds when files change after its job (archive.ts): between the job and the download of the parts, and
 * while a part streams, files are deleted, overwritten (their old content discarded) and added; every part stays a
 * readable zip in which each file or version is its document followed by the content that document names (same size
 * and MD5), each document of a file is followed by its content, a deleted file is out whole, a changed one is in with
 * its new content, and an added one is in whole or out whole.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULTS } from '../../config/schema.js';
import { ROOT, upload } from '../../../test/helpers/files.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { exportEnded, readZip, type ZipEntry } from '../../../test/helpers/export.js';
import { DATA_DIR, docEntry, FILES_DOCTYPE, INSTANCE_ENTRY, VERSIONS_DOCTYPE } from '../layout.js';
import type { ExportDoc } from '../types.js';
import { exportPartZip } from './archive.js';
import { partOf } from './parts.js';

let h: TestHearth;
let token: string;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');
/** The current content of each file, by id (null: deleted). */
const contents = new Map<string, Buffer | null>();

beforeAll(async () => {
  // versions kept at most every 15 minutes (the default): a second overwrite discards the content it replaces
  h = await startTestHearth({ files: { ...DEFAULTS.files, versions: { max: 20, minDelayMs: 15 * 60_000 } } }, { exports: { minPartSize: 1000, sweepMs: 0 } });
  token = await h.cliToken('io.cozy.files');
  for (let i = 0; i < 8; i++) {
    const first = randomBytes(300 * 1024);
    const made = await upload(h, token, ROOT, `f${i}.bin`, first);
    // overwritten once: the first content is kept as a version
    await overwrite(made.id);
  }
});
afterAll(() => h.close());

async function overwrite(id: string): Promise<void> {
  const data = randomBytes(300 * 1024);
  const res = await h.req('PUT', `/files/${id}`, { token, raw: data, headers: { 'content-type': 'application/octet-stream' } });
  expect(res.status).toBe(200);
  contents.set(id, data);
}

async function destroy(id: string): Promise<void> {
  expect((await h.req('DELETE', `/files/${id}`, { token })).status).toBe(200);
  expect((await h.req('DELETE', `/files/trash/${id}`, { token })).status).toBe(204);
  contents.set(id, null);
}

/** The files added without an old version (their first overwrite keeps the content it replaces). */
const added = new Set<string>();
async function add(name: string): Promise<void> {
  const data = randomBytes(300 * 1024);
  const { id } = await upload(h, token, ROOT, name, data);
  contents.set(id, data);
  added.add(id);
}

const fileIds = () => [...contents.keys()].filter((id) => contents.get(id) !== null).sort();

async function exportDone(msg: { parts_size?: number }): Promise<ExportDoc> {
  await h.hearth.exports.request(h.instance, { admin: true, ...msg });
  const exp = await exportEnded(h);
  expect(exp.state).toBe('done');
  return exp;
}

const partStream = (exp: ExportDoc, cursor: string | undefined): Readable =>
  exportPartZip({ storeOf: (i) => h.hearth.storeOf(i), fs: h.hearth.vfs.fs }, h.instance, exp, partOf(exp.parts_cursors, cursor));

async function readAll(stream: AsyncIterable<unknown>, chunks: Buffer[] = []): Promise<ZipEntry[]> {
  for await (const c of stream) chunks.push(c as Buffer);
  return readZip(Buffer.concat(chunks));
}

/** Each content right after its document, matching it; each file or version document followed by its content. Answers the files' contents by id. */
function checkPairs(entries: ZipEntry[]): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const isDoc = (e: ZipEntry | undefined, doctype: string) => !!e && e.name.startsWith(`${DATA_DIR}/${doctype}/`);
  entries.forEach((e, i) => {
    if (e.name.startsWith(`${DATA_DIR}/`) || e.name === INSTANCE_ENTRY) {
      const doctype = isDoc(e, VERSIONS_DOCTYPE) ? VERSIONS_DOCTYPE : isDoc(e, FILES_DOCTYPE) ? FILES_DOCTYPE : null;
      if (doctype === null) return;
      const doc = JSON.parse(e.data.toString()) as Record<string, unknown>;
      if (doc.type === 'directory') return;
      const next = entries[i + 1];
      expect(next && !next.name.startsWith(`${DATA_DIR}/`), `${e.name} is followed by its content`).toBe(true);
      expect({ name: e.name, size: Number(doc.size), md5: doc.md5sum }).toEqual({ name: e.name, size: next!.data.length, md5: md5(next!.data) });
      if (doctype === FILES_DOCTYPE) files.set(String(doc._id), next!.data);
      return;
    }
    expect(isDoc(entries[i - 1], FILES_DOCTYPE) || isDoc(entries[i - 1], VERSIONS_DOCTYPE), `${e.name} comes right after its document`).toBe(true);
  });
  return files;
}

it('between the job and the download of the parts: a deleted file is out, a changed one in with its new content, an added one whole', async () => {
  const exp = await exportDone({});
  expect(exp.parts_cursors.length).toBeGreaterThan(1);
  const [gone, changed] = fileIds();
  await destroy(gone!);
  await overwrite(changed!);
  await add('added.bin');
  const entries: ZipEntry[] = [];
  for (const cursor of [undefined, ...exp.parts_cursors]) entries.push(...(await readAll(partStream(exp, cursor))));
  const files = checkPairs(entries);
  expect(entries.some((e) => e.name === docEntry(FILES_DOCTYPE, gone!))).toBe(false);
  // every file there now is in the archive, whole, with its content of now (the added one fell in a part read after)
  expect([...files.keys()].sort()).toEqual(fileIds());
  for (const [id, data] of files) expect(data.equals(contents.get(id)!)).toBe(true);
});

it('while a part streams: a file deleted or overwritten after the page of documents was read is out whole or in with its new content', async () => {
  const exp = await exportDone({ parts_size: 1024 ** 3 });
  expect(exp.parts_cursors).toEqual([]);
  // two files well after the first one (streaming when they change; the writer may have opened the next one), each
  // with a version kept already
  const [changed, gone] = fileIds().slice(3).filter((id) => !added.has(id));
  const stream = partStream(exp, undefined);
  const chunks: Buffer[] = [];
  const iterator = stream[Symbol.asyncIterator]();
  // read until the first file's content is under way: the documents of the part's files were listed before it
  while (!Buffer.concat(chunks).includes('My Cozy/Files/')) {
    const next = await iterator.next();
    expect(next.done).toBe(false);
    chunks.push(next.value as Buffer);
  }
  const before = await h.hearth.storeOf(h.instance).get(FILES_DOCTYPE, changed!);
  await overwrite(changed!);
  await destroy(gone!);
  // the replaced content is gone from the disk (not kept as a version: one was kept less than 15 minutes ago)
  expect(await h.hearth.vfs.fs.blobs.size(h.instance.id, String(before.internal_vfs_id))).toBeNull();
  const files = checkPairs(await readAll({ [Symbol.asyncIterator]: () => iterator }, chunks));
  expect(files.has(gone!)).toBe(false);
  expect(files.get(changed!)?.equals(contents.get(changed!)!)).toBe(true);
  expect([...files.keys()].sort()).toEqual(fileIds());
});
