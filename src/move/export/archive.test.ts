/**
 * The zip of an export on a real server: contents whose type is already compressed (a JPEG, a PDF) are stored, the
 * documents and the other contents deflated, every content whole.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROOT, upload } from '../../../test/helpers/files.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { exportEnded, readZip } from '../../../test/helpers/export.js';
import { fileContentEntry, INSTANCE_ENTRY } from '../layout.js';
import { exportPartZip } from './archive.js';
import { partOf } from './parts.js';

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth({}, { exports: { sweepMs: 0 } });
});
afterAll(() => h.close());

const body = (name: string): Buffer => Buffer.from(`${name} `.repeat(2000));

it('stores JPEG and PDF contents as they are, deflates the documents and the text', async () => {
  const token = await h.cliToken('io.cozy.files');
  for (const [name, type] of [['photo.jpg', 'image/jpeg'], ['paper.pdf', 'application/pdf'], ['notes.txt', 'text/plain'], ['blob.bin', 'application/octet-stream']] as const) {
    await upload(h, token, ROOT, name, body(name), { 'content-type': type });
  }
  await h.hearth.exports.request(h.instance, { admin: true });
  const exp = await exportEnded(h);
  expect(exp.state).toBe('done');
  const chunks: Buffer[] = [];
  for await (const c of exportPartZip({ store: h.hearth.exports.store, fs: h.hearth.vfs.fs }, h.instance, exp, partOf(exp.parts_cursors, undefined))) chunks.push(c as Buffer);
  const entries = await readZip(Buffer.concat(chunks));
  const method = (name: string) => entries.find((e) => e.name === name)?.method;
  expect([method(fileContentEntry('/photo.jpg')), method(fileContentEntry('/paper.pdf'))]).toEqual([0, 0]);
  expect([method(fileContentEntry('/notes.txt')), method(fileContentEntry('/blob.bin')), method(INSTANCE_ENTRY)]).toEqual([8, 8, 8]);
  expect(entries.filter((e) => e.name.startsWith('My Cozy/Data/')).every((e) => e.method === 8)).toBe(true);
  for (const name of ['photo.jpg', 'paper.pdf', 'notes.txt', 'blob.bin']) expect(entries.find((e) => e.name === fileContentEntry(`/${name}`))!.data).toEqual(body(name));
});
