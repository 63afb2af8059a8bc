/** The local-disk blob engine on real files: the conformance suite, where its blobs lie, and a full disk. */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunked, describeBlobStore, md5 } from '../../../test/helpers/blob-store-suite.js';
import { LocalBlobStore } from './local.js';
import { InsufficientStorage } from './store.js';

const NS = 'a'.repeat(32);
let root: string;
const tmpFiles = (ns: string) => { try { return readdirSync(join(root, ns, 'files', '.tmp')); } catch { return []; } };

describeBlobStore('local disk', async () => {
  root = mkdtempSync(join(tmpdir(), 'hearth-blobs-'));
  return {
    make: (area) => new LocalBlobStore(root, area),
    leftovers: async (ns) => tmpFiles(ns).length,
    plantLeftover: async (ns) => {
      mkdirSync(join(root, ns, 'files', '.tmp'), { recursive: true });
      writeFileSync(join(root, ns, 'files', '.tmp', `${'b'.repeat(32)}.part`), 'half a file');
    },
    done: async () => rmSync(root, { recursive: true, force: true }),
  };
});

describe('LocalBlobStore on disk', () => {
  it('keeps a blob in a folder named by its key\'s first two characters, through a .part file that is gone after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-blobs-'));
    const blobs = new LocalBlobStore(dir);
    const data = randomBytes(300_000);
    const info = await blobs.write(NS, chunked(data), { maxBytes: 1e6, expectedSize: data.length, expectedMd5: md5(data) });
    expect(readdirSync(join(dir, NS, 'files', info.key.slice(0, 2)))).toEqual([info.key]);
    expect(readdirSync(join(dir, NS, 'files', '.tmp'))).toEqual([]);
    await blobs.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('LocalBlobStore on a full disk', () => {
  let mnt = '';
  beforeAll(() => {
    if (process.getuid?.() !== 0) throw new Error('this test mounts a 1 MiB tmpfs to fill it: run it as root (CI does)');
    mnt = mkdtempSync(join(tmpdir(), 'hearth-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
  });
  afterAll(() => {
    if (mnt) {
      execFileSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });

  it('answers 507 and corrupts nothing: earlier blobs are intact, no temporary file is left', async () => {
    const small = new LocalBlobStore(mnt);
    const kept = randomBytes(100_000);
    const first = await small.write(NS, chunked(kept), { maxBytes: 1e9 });
    const err = await small.write(NS, chunked(randomBytes(2 * 1024 * 1024)), { maxBytes: 1e9 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsufficientStorage);
    expect(err).toMatchObject({ status: 507 });
    expect(readdirSync(join(mnt, NS, 'files', '.tmp'))).toEqual([]);
    const back = Buffer.concat(await (await small.read(NS, first.key)).toArray());
    expect(back.equals(kept)).toBe(true);
    const keys: string[] = [];
    for await (const k of small.keys(NS)) keys.push(k);
    expect(keys).toEqual([first.key]);
    await small.close(); // its folders' descriptors: the tmpfs can be unmounted
  });
});
