/**
 * BlobReadStream on real files: as a plain stream, and piped into real HTTP responses (its pooled
 * path): the bytes are exact and in order, ranges hold, an aborted download closes the descriptor.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readlinkSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BufferPool } from './buffer-pool.js';
import { BlobReadStream } from './read-stream.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-read-'));
const pool = new BufferPool(64 * 1024, 8);
const big = randomBytes(1_000_003); // not a multiple of the buffers
const path = join(dir, 'big');
writeFileSync(path, big);
writeFileSync(join(dir, 'empty'), '');

/** What the next request gets: a BlobReadStream of `file` [start, end], piped by the server. */
let serve: { file: string; start: number; end: number; via?: 'passthrough' } = { file: path, start: 0, end: big.length - 1 };
let server: Server;
let port = 0;
beforeAll(async () => {
  server = createServer((_req, res) => {
    const s = new BlobReadStream(openSync(serve.file, 'r'), serve.start, serve.end, pool);
    if (serve.via === 'passthrough') s.pipe(new PassThrough()).pipe(res);
    else s.pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function fetchAll(slow = false): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    get({ port, host: '127.0.0.1', path: '/' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        if (slow) {
          res.pause();
          setTimeout(() => res.resume(), 1);
        }
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** The descriptors this process has open on files of `dir`. */
function openInDir(): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
    } catch {
      return false;
    }
  }).length;
}

/** Descriptors are closed through the thread pool: waits up to a second for none to be left. */
async function openSoon(): Promise<number> {
  for (let i = 0; i < 100 && openInDir() > 0; i++) await new Promise((r) => setTimeout(r, 10));
  return openInDir();
}

describe('BlobReadStream', () => {
  it('read as a plain stream: the exact bytes of a range, then the descriptor is closed', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await pipeline(new BlobReadStream(openSync(path, 'r'), 10, 200_009, pool), out);
    expect(Buffer.concat(chunks).equals(big.subarray(10, 200_010))).toBe(true);
    expect(await openSoon()).toBe(0);
  });

  it('piped into HTTP responses: the whole file, byte for byte, for fast and slow readers and several at once', async () => {
    serve = { file: path, start: 0, end: big.length - 1 };
    const [a, b, c] = await Promise.all([fetchAll(), fetchAll(true), fetchAll()]);
    for (const got of [a, b, c]) expect(got!.equals(big)).toBe(true);
    serve = { file: path, start: 65_530, end: 700_000 };
    expect((await fetchAll()).equals(big.subarray(65_530, 700_001))).toBe(true);
    serve = { file: join(dir, 'empty'), start: 0, end: -1 };
    expect((await fetchAll()).length).toBe(0);
    serve = { file: path, start: 0, end: big.length - 1, via: 'passthrough' };
    expect((await fetchAll(true)).equals(big)).toBe(true);
    expect(await openSoon()).toBe(0);
    expect(pool.kept).toBeGreaterThan(0);
  });

  it('a client gone mid-download destroys the stream and closes the descriptor', async () => {
    serve = { file: path, start: 0, end: big.length - 1 };
    await new Promise<void>((resolve, reject) => {
      const req = get({ port, host: '127.0.0.1', path: '/' }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      setTimeout(() => reject(new Error('no data')), 5000);
    });
    expect(await openSoon()).toBe(0);
  });
});
