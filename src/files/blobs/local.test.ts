/** The local-disk blob engine on real files: streaming, checks, nothing left behind, a full disk. */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from './local.js';
import { BlobMismatch, BlobTooLarge, InsufficientStorage } from './store.js';

const NS = 'a'.repeat(32);
let root: string;
let blobs: LocalBlobStore;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hearth-blobs-'));
  blobs = new LocalBlobStore(root);
});
afterAll(async () => {
  await blobs.close();
  rmSync(root, { recursive: true, force: true });
});

const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');
/** A body that arrives in chunks, as a request does. */
const chunked = (b: Buffer, size = 64 * 1024) => Readable.from((function* () { for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size); })());
const keysOf = async () => { const out: string[] = []; for await (const k of blobs.keys(NS)) out.push(k); return out; };
const tmpFiles = () => { try { return readdirSync(join(root, NS, 'files', '.tmp')); } catch { return []; } };

describe('LocalBlobStore', () => {
  it('streams a blob in, durable under a fresh key, with its size and MD5, and reads it back whole or by range', async () => {
    const data = randomBytes(300_000);
    const info = await blobs.write(NS, chunked(data), { maxBytes: 1e6, expectedSize: data.length, expectedMd5: md5(data) });
    expect(info).toEqual({ key: expect.stringMatching(/^[0-9a-f]{32}$/), size: data.length, md5: md5(data) });
    expect(readdirSync(join(root, NS, 'files', info.key.slice(0, 2)))).toContain(info.key);
    const whole = Buffer.concat(await (await blobs.read(NS, info.key)).toArray());
    expect(whole.equals(data)).toBe(true);
    const part = Buffer.concat(await (await blobs.read(NS, info.key, { start: 10, end: 19 })).toArray());
    expect(part.equals(data.subarray(10, 20))).toBe(true);
    expect(await blobs.size(NS, info.key)).toBe(data.length);
    expect(await keysOf()).toContain(info.key);
    expect(tmpFiles()).toEqual([]);
  });

  it('a body of several write batches is hashed off the event loop: its MD5 is checked and reported alike', async () => {
    const data = randomBytes(10 * 1024 * 1024 + 12345);
    const info = await blobs.write(NS, chunked(data), { maxBytes: 1e9, expectedSize: data.length, expectedMd5: md5(data) });
    expect(info).toMatchObject({ size: data.length, md5: md5(data) });
    const back = Buffer.concat(await (await blobs.read(NS, info.key)).toArray());
    expect(back.equals(data)).toBe(true);
    const before = await keysOf();
    const other = Buffer.from(data);
    other[0] = other[0]! ^ 1;
    await expect(blobs.write(NS, chunked(other), { maxBytes: 1e9, expectedMd5: md5(data) })).rejects.toMatchObject({ status: 412, error: 'invalid_checksum' });
    expect(await keysOf()).toEqual(before);
    expect(tmpFiles()).toEqual([]);
  });

  it('refuses a body over maxBytes while it streams, and leaves nothing behind', async () => {
    const before = await keysOf();
    await expect(blobs.write(NS, chunked(randomBytes(200_000)), { maxBytes: 100_000 })).rejects.toBeInstanceOf(BlobTooLarge);
    expect(await keysOf()).toEqual(before);
    expect(tmpFiles()).toEqual([]);
  });

  it('refuses a wrong MD5 or a size other than announced (412), and leaves nothing behind', async () => {
    const before = await keysOf();
    const data = Buffer.from('hello blobs');
    await expect(blobs.write(NS, chunked(data), { maxBytes: 1e6, expectedMd5: md5(Buffer.from('other')) })).rejects.toMatchObject({ status: 412, error: 'invalid_checksum' });
    await expect(blobs.write(NS, chunked(data), { maxBytes: 1e6, expectedSize: data.length + 1 })).rejects.toBeInstanceOf(BlobMismatch);
    await expect(blobs.write(NS, chunked(data), { maxBytes: 1e6, expectedSize: data.length - 1 })).rejects.toMatchObject({ status: 412, error: 'size_mismatch' });
    expect(await keysOf()).toEqual(before);
    expect(tmpFiles()).toEqual([]);
  });

  it('leaves nothing when the client goes away in the middle', async () => {
    const before = await keysOf();
    const body = new Readable({ read() {} });
    const writing = blobs.write(NS, body, { maxBytes: 1e9 });
    body.push(randomBytes(100_000));
    setTimeout(() => body.destroy(new Error('aborted by the client')), 20);
    await expect(writing).rejects.toThrow('aborted by the client');
    expect(await keysOf()).toEqual(before);
    expect(tmpFiles()).toEqual([]);
  });

  it('small bodies (announced size up to 256 KiB) are read whole before the file exists: the same checks, nothing left behind', async () => {
    const before = await keysOf();
    const data = randomBytes(4000);
    // a refusal while it streams, a wrong MD5, a short body, and a client gone mid-body
    await expect(blobs.write(NS, chunked(data, 1000), { maxBytes: 3000, expectedSize: data.length })).rejects.toBeInstanceOf(BlobTooLarge);
    await expect(blobs.write(NS, chunked(data, 1000), { maxBytes: 1e6, expectedSize: data.length, expectedMd5: md5(Buffer.from('x')) })).rejects.toMatchObject({ error: 'invalid_checksum' });
    await expect(blobs.write(NS, chunked(data.subarray(0, 3999), 1000), { maxBytes: 1e6, expectedSize: data.length })).rejects.toMatchObject({ error: 'size_mismatch' });
    const body = new Readable({ read() {} });
    const writing = blobs.write(NS, body, { maxBytes: 1e6, expectedSize: data.length });
    body.push(data.subarray(0, 2000));
    setTimeout(() => body.destroy(new Error('aborted by the client')), 20);
    await expect(writing).rejects.toThrow('aborted by the client');
    const gone = new Readable({ read() {} });
    gone.destroy();
    await expect(blobs.write(NS, gone, { maxBytes: 1e6, expectedSize: 10 })).rejects.toThrow();
    expect(await keysOf()).toEqual(before);
    expect(tmpFiles()).toEqual([]);
    // and one that succeeds, in 1-byte chunks, with its head kept for the caller
    const head: Buffer[] = [];
    const info = await blobs.write(NS, chunked(data, 1), { maxBytes: 1e6, expectedSize: data.length, expectedMd5: md5(data), head, headBytes: 100 });
    expect(info).toMatchObject({ size: data.length, md5: md5(data) });
    expect(Buffer.concat(head).equals(data.subarray(0, 100))).toBe(true);
    expect(Buffer.concat(await (await blobs.read(NS, info.key)).toArray()).equals(data)).toBe(true);
    expect(tmpFiles()).toEqual([]);
  });

  it('removes blobs (twice is fine), answers 404 for unknown keys, and cleans what crashed writes left', async () => {
    const info = await blobs.write(NS, Readable.from([Buffer.from('x')]), { maxBytes: 10 });
    await blobs.remove(NS, info.key);
    await blobs.remove(NS, info.key);
    expect(await blobs.size(NS, info.key)).toBeNull();
    await expect(blobs.read(NS, info.key)).rejects.toMatchObject({ status: 404 });
    await expect(blobs.read(NS, '../../etc/passwd')).rejects.toMatchObject({ status: 404 });
    mkdirSync(join(root, NS, 'files', '.tmp'), { recursive: true });
    writeFileSync(join(root, NS, 'files', '.tmp', `${'b'.repeat(32)}.part`), 'half a file');
    expect(await blobs.cleanTemporary(NS)).toBe(1);
    expect(tmpFiles()).toEqual([]);
    expect(await text(Readable.from([]))).toBe('');
  });

  it('drops a namespace, and refuses a namespace that is not an instance id', async () => {
    const ns = 'c'.repeat(32);
    await blobs.write(ns, Readable.from([Buffer.from('y')]), { maxBytes: 10 });
    await blobs.drop(ns);
    const left: string[] = [];
    for await (const k of blobs.keys(ns)) left.push(k);
    expect(left).toEqual([]);
    await expect(blobs.write('../x', Readable.from([]), { maxBytes: 1 })).rejects.toThrow('invalid blob namespace');
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
