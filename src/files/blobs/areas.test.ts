/** Two areas of the local blob store on one root (files/, thumbs/) never see each other's blobs; `headBytes` sizes the head. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from './local.js';

const NS = 'f'.repeat(32);
let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hearth-areas-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const keys = async (s: LocalBlobStore) => { const out: string[] = []; for await (const k of s.keys(NS)) out.push(k); return out; };

describe('blob store areas', () => {
  it('keeps the thumbnails apart from the files: listing, reading, removing, dropping', async () => {
    const files = new LocalBlobStore(root);
    const thumbs = new LocalBlobStore(root, 'thumbs');
    const f = await files.write(NS, Readable.from([Buffer.from('file')]), { maxBytes: 100 });
    const t = await thumbs.write(NS, Readable.from([Buffer.from('thumb')]), { maxBytes: 100 });
    expect(existsSync(join(root, NS, 'thumbs', t.key.slice(0, 2), t.key))).toBe(true);
    expect([await keys(files), await keys(thumbs)]).toEqual([[f.key], [t.key]]);
    expect([await files.size(NS, t.key), await thumbs.size(NS, f.key)]).toEqual([null, null]);
    await thumbs.remove(NS, f.key); // a key of the other area: nothing happens
    expect(await files.size(NS, f.key)).toBe(4);
    await thumbs.drop(NS);
    expect([await keys(files), await keys(thumbs)]).toEqual([[f.key], []]);
  });

  it('gives the first `headBytes` bytes when asked (4 KiB by default)', async () => {
    const files = new LocalBlobStore(root);
    const data = randomBytes(300_000);
    const chunks = Readable.from((function* () { for (let i = 0; i < data.length; i += 10_000) yield data.subarray(i, i + 10_000); })());
    const head: Buffer[] = [];
    await files.write(NS, chunks, { maxBytes: 1e6, head, headBytes: 128 * 1024 });
    expect(Buffer.concat(head).equals(data.subarray(0, 128 * 1024))).toBe(true);
    const small: Buffer[] = [];
    await files.write(NS, Readable.from([data]), { maxBytes: 1e6, head: small });
    expect(Buffer.concat(small).length).toBe(4100);
  });
});
