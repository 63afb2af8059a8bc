/**
 * The blobs an export keeps (files/blobs/held.ts) seen by the rest of the server: `hearth instances fsck` knows them as
 * held by the export, not as orphans, and `--clean` leaves them; `hearth instances migrate --blobs-to` to another blob
 * engine and back while the export holds them takes them along each time, so that the export's parts still have those
 * files, and they go from the engine the instance is on once the export ends. The other engine: a second local disk
 * (`local-b`) in the default project; in object-storage-swift (vitest.config.ts), Swift (issue 17: the move from the
 * local disk to an object store and back).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HearthConfig } from '../../config/types.js';
import { fsck } from '../../files/fsck.js';
import { main } from '../../main.js';
import { md5 } from '../../../test/helpers/files.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { destroyFile, downloadExport, newExport, uploadRandomFiles } from '../../../test/helpers/export.js';
import { B, secondEngines } from '../../../test/helpers/migrate-engines.js';
import { captureStdio } from '../../../test/helpers/stdio.js';
import { fileContentEntry } from '../layout.js';
import { EXPORT_MAX_AGE_MS } from './exports.js';

const dirB = mkdtempSync(join(tmpdir(), 'hearth-held-b-'));
/** The project's object store (TEST_BLOBS), the target of the move; else the second local disk. */
const objectStore = process.env.TEST_BLOBS ? (JSON.parse(process.env.TEST_BLOBS) as HearthConfig['blobs']) : null;
const target = objectStore?.engine ?? B.blobs;
const io = captureStdio();
let h: TestHearth;
let token: string;
let env: Record<string, string>;
let skew = 0;
const destroy = (id: string) => destroyFile(h, token, id);
let contents: Map<string, Buffer>;

beforeAll(async () => {
  // the instance starts on the local disk (an object store only configured beside it: a target of `migrate --blobs-to`)
  const tag = randomBytes(4).toString('hex');
  const overrides = objectStore ? { blobs: { ...objectStore, engine: 'local' as const, swift: { ...objectStore.swift, containerPrefix: `t_held_${tag}_` }, s3: { ...objectStore.s3, bucket: `t-held-${tag}` } } } : {};
  h = await startTestHearth(overrides, { extraEngines: secondEngines(dirB), exports: { minPartSize: 1000, sweepMs: 0, now: () => Date.now() + skew } });
  token = await h.cliToken('io.cozy.files');
  contents = await uploadRandomFiles(h, token, 5);
  const url = await h.hearth.adminApp.listen({ host: '127.0.0.1', port: 0 });
  env = { HEARTH_ADMIN_URL: url, HEARTH_ADMIN_PASSPHRASE: 'admin-secret' };
}, 120_000);
afterAll(async () => {
  await h.close();
  rmSync(dirB, { recursive: true, force: true });
});

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

/** `hearth instances migrate <domain> --blobs-to <engine> --drop-source`, its summary. */
async function migrateBlobs(engine: string): Promise<{ from: { blobs: string }; to: { blobs: string }; blobs: number; source_dropped: boolean }> {
  io.stdout = '';
  expect(await main(['instances', 'migrate', h.domain, '--blobs-to', engine, '--drop-source', '--json'], env), io.stderr).toBe(0);
  const done = io.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; data?: unknown }).find((l) => l.type === 'done');
  return done!.data as Awaited<ReturnType<typeof migrateBlobs>>;
}

/** The blobs of the instance on the local disk it started on. */
const localFiles = () => {
  const dir = join(h.dataDir, 'instances', h.instance.id, 'files');
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).filter((p) => /[0-9a-f]{32}$/.test(String(p))) : [];
};

it(`a move to ${target} and back during an export takes the blobs it keeps along each time: its parts still have those files, and they go from the instance's engine when it ends`, async () => {
  const exp = await newExport(h);
  const ids = [...contents.keys()].slice(1); // f1…f4 (f0 went with the export of the test above)
  const held = [await destroy(ids[0]!), await destroy(ids[1]!)];
  /** The export's parts have every file, the destroyed ones whole; fsck on the engine of now knows the held blobs. */
  const exportIntact = async () => {
    for (const [i, key] of held.entries()) expect(await blobSize(key)).toBe(contents.get(ids[i]!)!.length);
    const files = new Map((await downloadExport(h, exp)).filter((e) => e.name.startsWith(fileContentEntry(''))).map((e) => [e.name, md5(e.data)]));
    for (const [i, id] of ids.entries()) expect(files.get(fileContentEntry(`/f${i + 1}.bin`))).toBe(md5(contents.get(id)!));
    expect(await fsck(h.hearth.vfs.fs, h.instance)).toEqual([...held].sort().map((key) => expect.objectContaining({ type: 'held_by_export', blob: expect.objectContaining({ key }) })));
  };

  expect(await migrateBlobs(target)).toMatchObject({ from: { blobs: 'local' }, to: { blobs: target }, blobs: 4, source_dropped: true });
  expect(localFiles()).toEqual([]); // every blob left the disk, the held ones too
  await exportIntact();

  // one more destroyed on the other engine, then back to the disk: the three held blobs come along
  held.push(await destroy(ids[2]!));
  expect(await migrateBlobs('local')).toMatchObject({ from: { blobs: target }, to: { blobs: 'local' }, blobs: 4, source_dropped: true });
  expect(localFiles()).toHaveLength(4);
  await exportIntact();

  // the export ends: its blobs go from the engine the instance is on now; f4's stays
  skew = EXPORT_MAX_AGE_MS + 60_000;
  await h.hearth.exports.sweep();
  skew = 0;
  for (const key of held) expect(await blobSize(key)).toBeNull();
  expect(localFiles()).toHaveLength(1);
  expect(await fsck(h.hearth.vfs.fs, h.instance)).toEqual([]);
});
