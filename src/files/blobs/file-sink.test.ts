/**
 * The upload sink on real files, hashing and writing on a real thread: whatever the chunking, the file holds
 * exactly the body and the hash is the body's; only the chunks of a body marked fresh move as they are; a failure
 * waits for the writes in flight; the hashing thread keeps concurrent uploads apart and is replaced if it stops.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { markFreshChunks, streamToFd } from './file-sink.js';
import { Md5Thread } from './md5-thread.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-sink-'));
const hasher = new Md5Thread();
afterAll(async () => {
  await hasher.close();
  rmSync(dir, { recursive: true, force: true });
});
const quiet = { batchBytes: 4096, maxInFlight: 2, syncEvery: 1e12, check: () => undefined, hasher };
let n = 0;

/** Streams `chunks` through the sink into a new file; returns what the file and the hash hold. */
async function sink(chunks: Buffer[], opts: { maxInFlight?: number; syncEvery?: number; limit?: number; fresh?: boolean } = {}) {
  const path = join(dir, `f${n++}`);
  const fd = openSync(path, 'wx');
  try {
    const body = Readable.from(chunks, { objectMode: false });
    const out = await streamToFd(fd, opts.fresh ? markFreshChunks(body) : body, {
      batchBytes: 4096,
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
  it('writes a body smaller than one batch straight from its chunks, on the event loop', async () => {
    const own = new Md5Thread();
    const { whole, chunks } = cut(3000, [7, 100, 1000]);
    const path = join(dir, `f${n++}`);
    const fd = openSync(path, 'wx');
    const out = await streamToFd(fd, Readable.from(chunks, { objectMode: false }), { ...quiet, hasher: own });
    closeSync(fd);
    expect(out).toEqual({ size: 3000, md5: md5(whole) });
    expect(readFileSync(path).equals(whole)).toBe(true);
    expect(own.running).toBe(false); // no thread was started for it
  });

  it('writes any chunking of a larger body exactly, with the batches in flight capped', async () => {
    for (const [sizes, inFlight] of [[[1], 1], [[999, 1, 4097], 2], [[8192], 3], [[50_000], 2], [[4096], 1]] as Array<[number[], number]>) {
      for (const fresh of [false, true]) {
        const { whole, chunks } = cut(100_000 + sizes[0]!, sizes);
        // cut's chunks are slices of one buffer: a fresh body gets copies that own their memory, as the HTTP parser's do
        const owned = chunks.map((c) => {
          const o = Buffer.allocUnsafeSlow(c.length);
          c.copy(o);
          return o;
        });
        const out = await sink(fresh ? owned : chunks, { maxInFlight: inFlight, syncEvery: 10_000, fresh });
        expect(out.size, `chunks of ${sizes.join('/')}`).toBe(whole.length);
        expect(out.file.equals(whole), `chunks of ${sizes.join('/')}, fresh ${fresh}`).toBe(true);
        expect(out.md5).toBe(md5(whole));
      }
    }
  });

  it("moves a fresh body's own chunks to the thread as they are, and copies any other body's", async () => {
    const mk = (fill: number) => Buffer.allocUnsafeSlow(3000).fill(fill);
    const freshChunks = [mk(1), mk(2), mk(3)];
    const out = await sink(freshChunks, { fresh: true });
    expect(out.md5).toBe(md5(Buffer.concat([mk(1), mk(2), mk(3)])));
    expect(freshChunks.map((c) => c.length)).toEqual([0, 0, 0]); // all moved: the first batch (6000 bytes ≥ 4096), then the tail
    const kept = [mk(4), mk(5), mk(6)];
    const again = await sink(kept);
    expect(again.file.equals(Buffer.concat([mk(4), mk(5), mk(6)]))).toBe(true);
    expect(kept.map((c) => c.length)).toEqual([3000, 3000, 3000]); // the producer's buffers are left whole
    // the same buffer twice in a body not marked fresh: each time copied, never emptied under the producer
    const twice = mk(7);
    const rep = await sink([twice, twice, twice]);
    expect(rep.file.equals(Buffer.concat([mk(7), mk(7), mk(7)]))).toBe(true);
  });

  it('an empty body writes nothing', async () => {
    const out = await sink([]);
    expect(out.size).toBe(0);
    expect(out.file.length).toBe(0);
    expect(out.md5).toBe(md5(Buffer.alloc(0)));
  });

  it('stops at the check, destroys the body and rejects only once its writes are done', async () => {
    const { chunks } = cut(200_000, [5000]);
    await expect(sink(chunks, { limit: 60_000 })).rejects.toThrow('over the limit');
  });

  it('rejects when the body fails, and when it is destroyed before or while it is read', async () => {
    const failing = new PassThrough();
    const path = join(dir, `f${n++}`);
    const fd = openSync(path, 'wx');
    const p = streamToFd(fd, failing, quiet);
    failing.write(Buffer.alloc(10_000, 1));
    setImmediate(() => failing.destroy(new Error('client gone')));
    await expect(p).rejects.toThrow('client gone');
    const gone = new PassThrough();
    gone.on('error', () => undefined);
    gone.destroy(new Error('gone before'));
    await expect(streamToFd(fd, gone, quiet)).rejects.toThrow('gone before');
    const closed = new PassThrough();
    const q = streamToFd(fd, closed, quiet);
    closed.write(Buffer.alloc(100, 1));
    setImmediate(() => closed.destroy());
    await expect(q).rejects.toThrow('closed before its end');
    closeSync(fd);
  });

  it('a write error (a descriptor open for reading only) rejects with its code, once its other writes are done', async () => {
    const path = join(dir, `f${n++}`);
    closeSync(openSync(path, 'wx'));
    const fd = openSync(path, 'r');
    const { chunks } = cut(20_000, [3000]);
    try {
      const err = await streamToFd(fd, Readable.from(chunks, { objectMode: false }), quiet).catch((e: unknown) => e as NodeJS.ErrnoException);
      expect(err).toBeInstanceOf(Error);
      expect((err as NodeJS.ErrnoException).message).toMatch(/EBADF/);
      expect((err as NodeJS.ErrnoException).code).toBe('EBADF'); // kept from the thread: ENOSPC is a 507
    } finally {
      closeSync(fd);
    }
  });

  it('hashes concurrent bodies apart on the one thread', async () => {
    const bodies = [cut(90_000, [1000, 5000]), cut(50_000, [4096]), cut(130_000, [777])];
    const outs = await Promise.all(bodies.map((b) => sink(b.chunks, { maxInFlight: 3 })));
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
      const p = streamToFd(fd, body, { ...quiet, hasher: own });
      const failed = expect(p).rejects.toThrow(/hashing thread (was stopped|stopped during)/);
      body.write(Buffer.alloc(20_000, 1));
      await new Promise((r) => setTimeout(r, 20));
      await own.close();
      body.end(Buffer.alloc(20_000, 2));
      await failed;
      const whole = Buffer.alloc(50_000, 3);
      const out = await streamToFd(fd, Readable.from([whole]), { ...quiet, hasher: own });
      expect(out.md5).toBe(md5(whole));
    } finally {
      await own.close();
      closeSync(fd);
    }
  });

  it('refuses a batch of buffers that do not own their memory', async () => {
    const slice = Buffer.allocUnsafe(64); // a slice of Node's shared pool
    const fd = openSync('/dev/null', 'w');
    try {
      const refused = await new Promise<Error | null>((resolve) => hasher.open().write(fd, [slice], 64, 0, (err) => resolve(err)));
      expect(refused?.message).toMatch(/own their whole ArrayBuffer/);
    } finally {
      closeSync(fd);
    }
  });

  it('holds no memory for the batches it moved: the thread frees each one once written', async () => {
    // 300 MiB of fresh 1 MiB chunks, each moved to the thread; left to its collector, about 100 MB of them piled up
    const fd = openSync('/dev/null', 'w');
    const before = process.memoryUsage().rss;
    try {
      const chunks = (function* () {
        for (let i = 0; i < 300; i++) yield Buffer.allocUnsafeSlow(1024 * 1024).fill(i);
      })();
      const out = await streamToFd(fd, markFreshChunks(Readable.from(chunks)), { ...quiet, batchBytes: 4 * 1024 * 1024 });
      expect(out.size).toBe(300 * 1024 * 1024);
    } finally {
      closeSync(fd);
    }
    expect((process.memoryUsage().rss - before) / 1e6).toBeLessThan(64);
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
