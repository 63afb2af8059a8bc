/**
 * The blobs an export keeps (files/blobs/held.ts) seen by the rest of the server: `hearth instances fsck` knows them as
 * held by the export, not as orphans, and `--clean` leaves them; a move of the instance to another blob engine while
 * the export holds them takes them along, so that the export's parts still have those files, and they go from the new
 * engine once the export ends.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Doc } from '../../data/store.js';
import { fsck } from '../../files/fsck.js';
import { main } from '../../main.js';
import { md5, ROOT, upload } from '../../../test/helpers/files.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { downloadExport, newExport } from '../../../test/helpers/export.js';
import { B, secondEngines } from '../../../test/helpers/migrate-engines.js';
import { captureStdio } from '../../../test/helpers/stdio.js';
import { fileContentEntry, FILES_DOCTYPE } from '../layout.js';
import { EXPORT_MAX_AGE_MS } from './exports.js';

const dirB = mkdtempSync(join(tmpdir(), 'hearth-held-b-'));
const io = captureStdio();
let h: TestHearth;
let token: string;
let env: Record<string, string>;
let skew = 0;
const contents = new Map<string, Buffer>();

beforeAll(async () => {
  h = await startTestHearth({}, { extraEngines: secondEngines(dirB), exports: { minPartSize: 1000, sweepMs: 0, now: () => Date.now() + skew } });
  token = await h.cliToken('io.cozy.files');
  for (let i = 0; i < 4; i++) {
    const data = randomBytes(20_000 + i);
    contents.set((await upload(h, token, ROOT, `f${i}.bin`, data)).id, data);
  }
  const url = await h.hearth.adminApp.listen({ host: '127.0.0.1', port: 0 });
  env = { HEARTH_ADMIN_URL: url, HEARTH_ADMIN_PASSPHRASE: 'admin-secret' };
}, 120_000);
afterAll(async () => {
  await h.close();
  rmSync(dirB, { recursive: true, force: true });
});

/** Trashes then destroys the file: its blob is then kept for the export only. Returns the blob's key. */
async function destroy(id: string): Promise<string> {
  const key = String((await h.hearth.storeOf(h.instance).get(FILES_DOCTYPE, id) as Doc).internal_vfs_id);
  expect((await h.req('DELETE', `/files/${id}`, { token })).status).toBe(200);
  expect((await h.req('DELETE', `/files/trash/${id}`, { token })).status).toBe(204);
  return key;
}

const blobSize = (key: string) => h.hearth.vfs.fs.blobs.size(h.instance.id, key);
const fsckCli = async (...args: string[]) => {
  io.stdout = '';
  expect(await main(['instances', 'fsck', h.domain, ...args], env)).toBe(0);
  return io.stdout;
};

it('fsck knows the blobs an export keeps as held by it, not as orphans, says so, and --clean leaves them', async () => {
  const exp = await newExport(h);
  const [first] = [...contents.keys()];
  const key = await destroy(first!);
  expect(await blobSize(key)).toBe(contents.get(first!)!.length);

  const log = await fsck(h.hearth.vfs.fs, h.instance);
  expect(log).toEqual([{ type: 'held_by_export', is_file: true, blob: { key, size: contents.get(first!)!.length, removed: false }, export: { id: exp._id, expires_at: exp.expires_at } }]);
  expect(await fsckCli()).toBe(`1 content(s) no file names any more are kept for the export ${exp._id} (not orphans: --clean leaves them); they go when it ends, by ${exp.expires_at} at the latest.\nThe file system of ${h.domain} is sound.\n`);
  const cleaned = (await fsckCli('--clean', '--json')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; blob: { removed: boolean } });
  expect(cleaned.map((e) => [e.type, e.blob.removed])).toEqual([['held_by_export', false]]);
  expect(await blobSize(key)).toBe(contents.get(first!)!.length);
  expect((await downloadExport(h, exp)).find((e) => e.name === fileContentEntry('/f0.bin'))?.data).toEqual(contents.get(first!));

  // once the export has expired and its blobs are released, nothing is left to report
  skew = EXPORT_MAX_AGE_MS + 60_000;
  await h.hearth.exports.sweep();
  skew = 0;
  expect(await blobSize(key)).toBeNull();
  expect(await fsck(h.hearth.vfs.fs, h.instance)).toEqual([]);
});

it('a move to another blob engine during an export takes the blobs the export keeps: its parts still have those files, and they go from the new engine when it ends', async () => {
  const exp = await newExport(h);
  const [, second, third] = [...contents.keys()];
  const keys = [await destroy(second!), await destroy(third!)];
  const summary = await h.hearth.migrations.migrate(h.instance, { blobs: B.blobs });
  expect(summary.to.blobs).toBe(B.blobs);
  expect((await h.hearth.storeOf(h.instance).listDoctypes()).length).toBeGreaterThan(0);
  // the kept blobs are on the new engine: the export's parts have the destroyed files, whole
  for (const [i, key] of keys.entries()) expect(await blobSize(key)).toBe(contents.get([second, third][i]!)!.length);
  const files = new Map((await downloadExport(h, exp)).filter((e) => e.name.startsWith(fileContentEntry(''))).map((e) => [e.name, md5(e.data)]));
  expect(files.get(fileContentEntry('/f1.bin'))).toBe(md5(contents.get(second!)!));
  expect(files.get(fileContentEntry('/f2.bin'))).toBe(md5(contents.get(third!)!));
  expect(await fsck(h.hearth.vfs.fs, h.instance)).toEqual(keys.sort().map((key) => expect.objectContaining({ type: 'held_by_export', blob: expect.objectContaining({ key }) })));

  // the export ends: its blobs go from the engine the instance is on now
  skew = EXPORT_MAX_AGE_MS + 60_000;
  await h.hearth.exports.sweep();
  skew = 0;
  for (const key of keys) expect(await blobSize(key)).toBeNull();
  expect(await fsck(h.hearth.vfs.fs, h.instance)).toEqual([]);
});
