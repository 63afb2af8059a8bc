/**
 * The upload sink on real files, hashing on a real thread: whatever the chunking, the file holds
 * exactly the body and the hash is the body's; buffers go back to the pool; a failure waits for the
 * writes in flight; the hashing thread keeps concurrent uploads apart and is replaced if it stops.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { BufferPool } from './buffer-pool.js';
import { streamToFd } from './file-sink.js';
import { Md5Thread } from './md5-thread.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-sink-'));
const hasher = new Md5Thread();
afterAll(async () => {
  await hasher.close();
  rmSync(dir, { recursive: true, force: true });
});
const quiet = { maxInFlight: 2, syncEvery: 1e12, check: () => undefined, hasher };
let n = 0;

/** Streams `chunks` through the sink into a new file; returns what the file and the hash hold. */
async function sink(chunks: Buffer[], pool: BufferPool, opts: { maxInFlight?: number; syncEvery?: number; limit?: number } = {}) {
  const path = join(dir, `f${n++}`);
  const fd = openSync(path, 'wx');
  try {
    const out = await streamToFd(fd, Readable.from(chunks, { objectMode: false }), pool, {
      maxInFlight: opts.maxInFlight ?? 2,
      syncEvery: opts.syncEvery ?? 1e12,
      check: (_c, total) => {
        if (opts.limit !== undefined && total > opts.limit) throw new Error('over the limit');
      },
      hasher,
    });
    return { size: out.size, file: readFileSync(path), md5: out.md5 };
  } finally {
    closeSync(fd);
  }
}

/** `total` random bytes cut into pieces of the given sizes, cycling. */
function cut(total: number, sizes: number[]): { whole: Buffer; chunks: Buffer[] } {
  const whole = randomBytes(total);
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < total; i++) {
    const len = Math.min(sizes[i % sizes.length]!, total - at);
    chunks.push(whole.subarray(at, at + len));
    at += len;
  }
  return { whole, chunks };
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');

describe('streamToFd', () => {
  it('writes a body smaller than one batch straight from its chunks, without touching the pool', async () => {
    const pool = new BufferPool(4096, 4);
    const { whole, chunks } = cut(3000, [7, 100, 1000]);
    const out = await sink(chunks, pool);
    expect(out.size).toBe(3000);
    expect(out.file.equals(whole)).toBe(true);
    expect(out.md5).toBe(md5(whole));
    expect(pool.kept).toBe(0);
  });

  it('writes any chunking of a larger body exactly, with the batches in flight capped, and gives the buffers back', async () => {
    for (const [sizes, inFlight] of [[[1], 1], [[999, 1, 4097], 2], [[8192], 3], [[50_000], 2], [[4096], 1]] as Array<[number[], number]>) {
      const pool = new BufferPool(4096, 8);
      const { whole, chunks } = cut(100_000 + sizes[0]!, sizes);
      const out = await sink(chunks, pool, { maxInFlight: inFlight, syncEvery: 10_000 });
      expect(out.size, `chunks of ${sizes.join('/')}`).toBe(whole.length);
      expect(out.file.equals(whole), `chunks of ${sizes.join('/')}`).toBe(true);
      expect(out.md5).toBe(md5(whole));
      expect(pool.kept).toBeGreaterThan(0);
      expect(pool.kept).toBeLessThanOrEqual(inFlight + 1);
    }
  });

  it('an empty body writes nothing', async () => {
    const out = await sink([], new BufferPool(4096, 2));
    expect(out.size).toBe(0);
    expect(out.file.length).toBe(0);
    expect(out.md5).toBe(md5(Buffer.alloc(0)));
  });

  it('stops at the check, destroys the body and rejects only once its writes are done', async () => {
    const pool = new BufferPool(4096, 8);
    const { chunks } = cut(200_000, [5000]);
    await expect(sink(chunks, pool, { limit: 60_000 })).rejects.toThrow('over the limit');
    expect(pool.kept).toBeGreaterThan(0); // the buffers of the writes in flight came back
  });

  it('rejects when the body fails, and when it is destroyed before or while it is read', async () => {
    const pool = new BufferPool(4096, 8);
    const failing = new PassThrough();
    const path = join(dir, `f${n++}`);
    const fd = openSync(path, 'wx');
    const p = streamToFd(fd, failing, pool, quiet);
    failing.write(Buffer.alloc(10_000, 1));
    setImmediate(() => failing.destroy(new Error('client gone')));
    await expect(p).rejects.toThrow('client gone');
    const gone = new PassThrough();
    gone.on('error', () => undefined);
    gone.destroy(new Error('gone before'));
    await expect(streamToFd(fd, gone, pool, quiet)).rejects.toThrow('gone before');
    const closed = new PassThrough();
    const q = streamToFd(fd, closed, pool, quiet);
    closed.write(Buffer.alloc(100, 1));
    setImmediate(() => closed.destroy());
    await expect(q).rejects.toThrow('closed before its end');
    closeSync(fd);
  });

  it('a write error (a descriptor open for reading only) rejects, once its other writes are done', async () => {
    const path = join(dir, `f${n++}`);
    closeSync(openSync(path, 'wx'));
    const fd = openSync(path, 'r');
    const { chunks } = cut(20_000, [3000]);
    try {
      await expect(streamToFd(fd, Readable.from(chunks, { objectMode: false }), new BufferPool(4096, 2), quiet)).rejects.toThrow(/EBADF/);
    } finally {
      closeSync(fd);
    }
  });

  it('hashes concurrent bodies apart on the one thread', async () => {
    const bodies = [cut(90_000, [1000, 5000]), cut(50_000, [4096]), cut(130_000, [777])];
    const outs = await Promise.all(bodies.map((b) => sink(b.chunks, new BufferPool(4096, 8), { maxInFlight: 3 })));
    outs.forEach((out, i) => {
      expect(out.file.equals(bodies[i]!.whole)).toBe(true);
      expect(out.md5).toBe(md5(bodies[i]!.whole));
    });
  });

  it('an upload fails if the hashing thread stops under it, and the next one starts a new thread', async () => {
    const own = new Md5Thread();
    const body = new PassThrough();
    const fd = openSync(join(dir, `f${n++}`), 'wx');
    try {
      const p = streamToFd(fd, body, new BufferPool(4096, 8), { ...quiet, hasher: own });
      const failed = expect(p).rejects.toThrow(/hashing thread (was stopped|stopped during)/);
      body.write(Buffer.alloc(20_000, 1));
      await new Promise((r) => setTimeout(r, 20));
      await own.close();
      body.end(Buffer.alloc(20_000, 2));
      await failed;
      const whole = Buffer.alloc(50_000, 3);
      const out = await streamToFd(fd, Readable.from([whole]), new BufferPool(4096, 8), { ...quiet, hasher: own });
      expect(out.md5).toBe(md5(whole));
    } finally {
      await own.close();
      closeSync(fd);
    }
  });

  it('moves each batch to the hashing thread and back, and refuses a buffer that does not own its memory', async () => {
    const h = hasher.open();
    const buf = Buffer.allocUnsafeSlow(4096).fill(7);
    const back = await new Promise<Buffer | null>((resolve, reject) => {
      h.update(buf, 100, (err, b) => (err ? reject(err) : resolve(b)));
      expect(buf.length).toBe(0); // moved, not copied: the caller cannot touch it meanwhile
    });
    expect(back?.length).toBe(4096);
    expect(back?.subarray(0, 100).equals(Buffer.alloc(100, 7))).toBe(true);
    expect(await h.digest()).toBe(md5(Buffer.alloc(100, 7)));
    const slice = Buffer.allocUnsafe(64); // a slice of Node's shared pool
    const refused = await new Promise<Error | null>((resolve) => hasher.open().update(slice, 64, (err) => resolve(err)));
    expect(refused?.message).toMatch(/own its whole ArrayBuffer/);
  });

  it('holds no memory for the batches a pool lets go (moved ArrayBuffers are collected as usual)', async () => {
    // a pool that keeps no buffer: each 1 MiB batch is a new one, dropped once written; 300 of them go through
    const fd = openSync('/dev/null', 'w');
    const mib = Buffer.alloc(1024 * 1024, 5);
    const before = process.memoryUsage().rss;
    try {
      const out = await streamToFd(fd, Readable.from(Array.from({ length: 300 }, () => mib)), new BufferPool(1024 * 1024, 0), quiet);
      expect(out.size).toBe(300 * 1024 * 1024);
    } finally {
      closeSync(fd);
    }
    // kept until some collection, 300 shared buffers made 300 MB more RSS; moved ones are collected under memory pressure
    expect((process.memoryUsage().rss - before) / 1e6).toBeLessThan(150);
  });

  it('hashes the batches of a shared pool in place: nothing is moved, the same buffer comes back', async () => {
    const h = hasher.open();
    const buf = Buffer.from(new SharedArrayBuffer(4096)).fill(9);
    const back = await new Promise<Buffer | null>((resolve, reject) => {
      h.update(buf, 300, (err, b) => (err ? reject(err) : resolve(b)));
      expect(buf.length).toBe(4096); // not moved: still whole here while the thread reads it
    });
    expect(back).toBe(buf);
    expect(await h.digest()).toBe(md5(Buffer.alloc(300, 9)));
  });

  it('a shared pool writes through shared buffers, keeps them once idle, and lets go of the extra ones', async () => {
    const pool = new BufferPool(4096, 3, 20, true);
    const { whole, chunks } = cut(70_000, [1000, 5000, 333]);
    const out = await sink(chunks, pool);
    expect(out.file.equals(whole)).toBe(true);
    expect(out.md5).toBe(md5(whole));
    await new Promise((r) => setTimeout(r, 60));
    expect(pool.kept).toBeGreaterThan(0); // shared ones are kept past the idle delay (at most maxInFlight 2 + the one being filled)
    const taken = [pool.take(), pool.take(), pool.take(), pool.take()];
    expect(taken.map((b) => b.buffer instanceof SharedArrayBuffer)).toEqual([true, true, true, false]);
    for (const b of taken) pool.give(b);
    expect(pool.kept).toBe(3); // the ordinary extra one was let go
  });

  it('the pool lets its buffers go once it has been idle', async () => {
    const pool = new BufferPool(4096, 4, 20);
    const { chunks } = cut(30_000, [4096]);
    await sink(chunks, pool);
    expect(pool.kept).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(pool.kept).toBe(0);
  });
});

describe('DirSync', () => {
  it('fsyncs folders through cached descriptors, at most `max` open, and closes them all when told', async () => {
    const { DirSync } = await import('./dir-sync.js');
    const { mkdirSync, readdirSync, readlinkSync } = await import('node:fs');
    const base = join(dir, 'dirs');
    const dirs = Array.from({ length: 6 }, (_, i) => join(base, `d${i}`));
    for (const d of dirs) mkdirSync(d, { recursive: true });
    const openIn = () => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(base);
      } catch {
        return false;
      }
    }).length;
    const ds = new DirSync(3);
    await Promise.all([...dirs, ...dirs].map((d) => ds.sync(d)));
    await new Promise((r) => setTimeout(r, 50));
    expect(openIn()).toBeLessThanOrEqual(3);
    await expect(ds.sync(join(base, 'missing'))).rejects.toThrow(/ENOENT/);
    await ds.forget(base);
    await new Promise((r) => setTimeout(r, 50));
    expect(openIn()).toBe(0);
  });
});
