/**
 * The conformance suite of a BlobStore engine (src/files/blobs/store.ts): the local disk, Swift and S3 run it
 * unchanged. The engine's harness gives stores (one per area: files, thumbs) and says what interrupted writes left
 * (local: .part files; Swift: segments without a manifest; S3: multipart uploads not completed), and plants one as a
 * crash would, for `cleanTemporary`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/files/blobs/store.js';
import { BlobMismatch, BlobTooLarge } from '../../src/files/blobs/store.js';

export interface BlobStoreHarness {
  /** A store of `area` (files by default); the suite closes each at the end. */
  make(area?: string): BlobStore;
  /** How many leftovers of interrupted writes `ns` has now (of the files area). */
  leftovers(ns: string): Promise<number>;
  /** Leaves in `ns` what a write killed in its middle leaves. */
  plantLeftover(ns: string): Promise<void>;
  /** Releases what the harness holds (after the stores are closed). */
  done?(): Promise<void>;
}

export const md5 = (b: Buffer): string => createHash('md5').update(b).digest('base64');
/** A body that arrives in chunks, as a request does. */
export const chunked = (b: Buffer, size = 64 * 1024): Readable => Readable.from((function* () { for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size); })());
export const keysOf = async (s: BlobStore, ns: string): Promise<string[]> => { const out: string[] = []; for await (const k of s.keys(ns)) out.push(k); return out.sort(); };
const read = async (s: BlobStore, ns: string, key: string, range?: { start: number; end: number }) => Buffer.concat(await (await s.read(ns, key, range)).toArray());
const ns = () => randomBytes(16).toString('hex');

/** `setup` runs in beforeAll (a server may start there): the harness of the engine under test. */
export function describeBlobStore(name: string, setup: () => Promise<BlobStoreHarness>): void {
  describe(`BlobStore conformance: ${name}`, () => {
    let h: BlobStoreHarness;
    let blobs: BlobStore;
    const opened: BlobStore[] = [];
    const make = (area?: string) => { const s = h.make(area); opened.push(s); return s; };
    beforeAll(async () => {
      h = await setup();
      blobs = make();
    }, 300_000); // a server may start here, on a busy machine
    afterAll(async () => {
      await Promise.all(opened.map((s) => s.close()));
      await h?.done?.();
    });

    it('streams a blob in, durable under a fresh key, with its size and MD5, and reads it back whole or by range', async () => {
      const NS = ns();
      const data = randomBytes(300_000);
      const info = await blobs.write(NS, chunked(data), { maxBytes: 1e6, expectedSize: data.length, expectedMd5: md5(data) });
      expect(info).toEqual({ key: expect.stringMatching(/^[0-9a-f]{32}$/), size: data.length, md5: md5(data) });
      expect((await read(blobs, NS, info.key)).equals(data)).toBe(true);
      expect((await read(blobs, NS, info.key, { start: 10, end: 19 })).equals(data.subarray(10, 20))).toBe(true);
      expect(await blobs.size(NS, info.key)).toBe(data.length);
      expect(await keysOf(blobs, NS)).toEqual([info.key]);
      expect(await h.leftovers(NS)).toBe(0);
      // an empty blob
      const empty = await blobs.write(NS, Readable.from([]), { maxBytes: 10 });
      expect(empty).toMatchObject({ size: 0, md5: md5(Buffer.alloc(0)) });
      expect((await read(blobs, NS, empty.key)).length).toBe(0);
    });

    it('deferSync: small and large writes keep every check, then one sync of the namespace makes them durable', async () => {
      const NS = ns();
      const small = randomBytes(2_000);
      const large = randomBytes(600_000);
      const a = await blobs.write(NS, chunked(small), { maxBytes: 1e6, expectedSize: small.length, expectedMd5: md5(small), deferSync: true });
      const b = await blobs.write(NS, chunked(large), { maxBytes: 1e7, expectedMd5: md5(large), deferSync: true });
      await expect(blobs.write(NS, chunked(small), { maxBytes: 1e6, expectedMd5: md5(large), deferSync: true })).rejects.toBeInstanceOf(BlobMismatch);
      await expect(blobs.write(NS, chunked(large), { maxBytes: 1000, deferSync: true })).rejects.toBeInstanceOf(BlobTooLarge);
      await blobs.sync(NS);
      expect((await read(blobs, NS, a.key)).equals(small)).toBe(true);
      expect((await read(blobs, NS, b.key)).equals(large)).toBe(true);
      expect(await keysOf(blobs, NS)).toEqual([a.key, b.key].sort());
      expect(await h.leftovers(NS)).toBe(0);
      // a namespace with nothing written yet syncs too
      await blobs.sync(ns());
    });

    it('writes under the key it is given (a move between engines keeps the keys), and refuses a key that is not one', async () => {
      const NS = ns();
      const data = randomBytes(5_000);
      const key = randomBytes(16).toString('hex');
      const info = await blobs.write(NS, chunked(data), { maxBytes: 1e6, key });
      expect(info).toEqual({ key, size: data.length, md5: md5(data) });
      expect((await read(blobs, NS, key)).equals(data)).toBe(true);
      await expect(blobs.write(NS, chunked(data), { maxBytes: 1e6, key: '../../etc/passwd' })).rejects.toThrow(/invalid blob key/);
      expect(await keysOf(blobs, NS)).toEqual([key]);
    });

    it('a large body of unknown size (several write batches, or segments, or parts): its MD5 is checked and reported, ranges across its parts read right', async () => {
      const NS = ns();
      const data = randomBytes(11 * 1024 * 1024 + 12345);
      const info = await blobs.write(NS, chunked(data), { maxBytes: 1e9, expectedMd5: md5(data) });
      expect(info).toMatchObject({ size: data.length, md5: md5(data) });
      expect((await read(blobs, NS, info.key)).equals(data)).toBe(true);
      const across = { start: 5 * 1024 * 1024 - 100, end: 6 * 1024 * 1024 + 100 };
      expect((await read(blobs, NS, info.key, across)).equals(data.subarray(across.start, across.end + 1))).toBe(true);
      expect(await blobs.size(NS, info.key)).toBe(data.length);
      // the same with its size announced
      const sized = await blobs.write(NS, chunked(data), { maxBytes: 1e9, expectedSize: data.length });
      expect((await read(blobs, NS, sized.key)).equals(data)).toBe(true);
      const other = Buffer.from(data);
      other[other.length - 1] = other[other.length - 1]! ^ 1;
      await expect(blobs.write(NS, chunked(other), { maxBytes: 1e9, expectedMd5: md5(data) })).rejects.toMatchObject({ status: 412, error: 'invalid_checksum' });
      expect(await keysOf(blobs, NS)).toEqual([info.key, sized.key].sort());
      expect(await h.leftovers(NS)).toBe(0);
      // removed with all its parts
      await blobs.remove(NS, info.key);
      await blobs.remove(NS, sized.key);
      expect(await keysOf(blobs, NS)).toEqual([]);
      expect(await h.leftovers(NS)).toBe(0);
    });

    it('refuses a body over maxBytes while it streams, and leaves nothing behind', async () => {
      const NS = ns();
      await expect(blobs.write(NS, chunked(randomBytes(200_000)), { maxBytes: 100_000 })).rejects.toBeInstanceOf(BlobTooLarge);
      await expect(blobs.write(NS, chunked(randomBytes(3 * 1024 * 1024)), { maxBytes: 2 * 1024 * 1024 + 5 })).rejects.toBeInstanceOf(BlobTooLarge);
      expect(await keysOf(blobs, NS)).toEqual([]);
      expect(await h.leftovers(NS)).toBe(0);
    });

    it('refuses a wrong MD5 or a size other than announced (412), and leaves nothing behind', async () => {
      const NS = ns();
      const data = Buffer.from('hello blobs');
      await expect(blobs.write(NS, chunked(data), { maxBytes: 1e6, expectedMd5: md5(Buffer.from('other')) })).rejects.toMatchObject({ status: 412, error: 'invalid_checksum' });
      await expect(blobs.write(NS, chunked(data), { maxBytes: 1e6, expectedSize: data.length + 1 })).rejects.toBeInstanceOf(BlobMismatch);
      await expect(blobs.write(NS, chunked(data), { maxBytes: 1e6, expectedSize: data.length - 1 })).rejects.toMatchObject({ status: 412, error: 'size_mismatch' });
      const big = randomBytes(3 * 1024 * 1024);
      await expect(blobs.write(NS, chunked(big), { maxBytes: 1e9, expectedSize: big.length + 1 })).rejects.toMatchObject({ status: 412, error: 'size_mismatch' });
      expect(await keysOf(blobs, NS)).toEqual([]);
      expect(await h.leftovers(NS)).toBe(0);
    });

    it('leaves nothing when the client goes away in the middle', async () => {
      const NS = ns();
      for (const expectedSize of [undefined, 50_000_000]) {
        const body = new Readable({ read() {} });
        const writing = blobs.write(NS, body, { maxBytes: 1e9, expectedSize });
        body.push(randomBytes(3 * 1024 * 1024));
        setTimeout(() => body.destroy(new Error('aborted by the client')), 200);
        await expect(writing).rejects.toThrow('aborted by the client');
      }
      expect(await keysOf(blobs, NS)).toEqual([]);
      expect(await h.leftovers(NS)).toBe(0);
    });

    it('small bodies: the same checks, nothing left behind, the head kept for the caller', async () => {
      const NS = ns();
      const data = randomBytes(4000);
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
      expect(await keysOf(blobs, NS)).toEqual([]);
      expect(await h.leftovers(NS)).toBe(0);
      const head: Buffer[] = [];
      const info = await blobs.write(NS, chunked(data, 1), { maxBytes: 1e6, expectedSize: data.length, expectedMd5: md5(data), head, headBytes: 100 });
      expect(info).toMatchObject({ size: data.length, md5: md5(data) });
      expect(Buffer.concat(head).equals(data.subarray(0, 100))).toBe(true);
      expect((await read(blobs, NS, info.key)).equals(data)).toBe(true);
      const big = randomBytes(300_000);
      const bigHead: Buffer[] = [];
      await blobs.write(NS, chunked(big, 10_000), { maxBytes: 1e6, head: bigHead, headBytes: 128 * 1024 });
      expect(Buffer.concat(bigHead).equals(big.subarray(0, 128 * 1024))).toBe(true);
      const small: Buffer[] = [];
      await blobs.write(NS, Readable.from([big]), { maxBytes: 1e6, head: small });
      expect(Buffer.concat(small).length).toBe(4100);
    });

    it('removes blobs (twice is fine), answers 404 for unknown keys, and cleans what crashed writes left', async () => {
      const NS = ns();
      const info = await blobs.write(NS, Readable.from([Buffer.from('x')]), { maxBytes: 10 });
      await blobs.remove(NS, info.key);
      await blobs.remove(NS, info.key);
      expect(await blobs.size(NS, info.key)).toBeNull();
      await expect(blobs.read(NS, info.key)).rejects.toMatchObject({ status: 404 });
      await expect(blobs.read(NS, '../../etc/passwd')).rejects.toMatchObject({ status: 404 });
      const kept = await blobs.write(NS, chunked(randomBytes(3 * 1024 * 1024)), { maxBytes: 1e9 });
      await h.plantLeftover(NS);
      expect(await h.leftovers(NS)).toBe(1);
      expect(await blobs.cleanTemporary(NS)).toBe(1);
      expect(await h.leftovers(NS)).toBe(0);
      expect(await blobs.size(NS, kept.key)).toBe(3 * 1024 * 1024);
    });

    it('drops a namespace, and refuses a namespace that is not an instance id', async () => {
      const NS = ns();
      await blobs.write(NS, Readable.from([Buffer.from('y')]), { maxBytes: 10 });
      await blobs.write(NS, chunked(randomBytes(3 * 1024 * 1024)), { maxBytes: 1e9 });
      await blobs.drop(NS);
      expect(await keysOf(blobs, NS)).toEqual([]);
      expect(await h.leftovers(NS)).toBe(0);
      await expect(blobs.write('../x', Readable.from([]), { maxBytes: 1 })).rejects.toThrow('invalid blob namespace');
    });

    it('keeps the thumbnails apart from the files: listing, reading, removing, dropping', async () => {
      const NS = ns();
      const thumbs = make('thumbs');
      const f = await blobs.write(NS, Readable.from([Buffer.from('file')]), { maxBytes: 100 });
      const t = await thumbs.write(NS, Readable.from([Buffer.from('thumb')]), { maxBytes: 100 });
      expect([await keysOf(blobs, NS), await keysOf(thumbs, NS)]).toEqual([[f.key], [t.key]]);
      expect([await blobs.size(NS, t.key), await thumbs.size(NS, f.key)]).toEqual([null, null]);
      await thumbs.remove(NS, f.key); // a key of the other area: nothing happens
      expect(await blobs.size(NS, f.key)).toBe(4);
      await thumbs.drop(NS);
      expect([await keysOf(blobs, NS), await keysOf(thumbs, NS)]).toEqual([[f.key], []]);
      expect((await read(blobs, NS, f.key)).toString()).toBe('file');
    });
  });
}
