/**
 * The blob engines side by side: a large blob (200 MiB by default) written then read back whole through the BlobStore
 * interface, on the local disk, on OpenStack Swift (native API) and on S3 (Swift's s3api middleware), the Swift being
 * a private all-in-one from Debian's packages on this machine (test/helpers/servers/swift.ts). Prints MB/s per engine
 * (median of the runs). `node --import tsx bench/blobs.bench.ts`
 *
 *   BENCH_BLOBS_MB=200      size of the blob in MiB
 *   BENCH_BLOBS_REPEATS=3   runs per engine
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalBlobStore } from '../src/files/blobs/local.js';
import { S3BlobStore } from '../src/files/blobs/s3.js';
import type { BlobStore } from '../src/files/blobs/store.js';
import { SwiftBlobStore } from '../src/files/blobs/swift.js';
import { startSwift } from '../test/helpers/servers/swift.js';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_BLOBS_MB ?? 200) * MiB;
const REPEATS = Number(process.env.BENCH_BLOBS_REPEATS ?? 3);
const NS = 'b'.repeat(32);
const CHUNK = randomBytes(MiB);

/** SIZE bytes in 64 KiB chunks, as a request body arrives. */
const body = () => Readable.from((function* () { for (let n = 0; n < SIZE; n += 64 * 1024) yield CHUNK.subarray(n % MiB, (n % MiB) + 64 * 1024); })());
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mbps = (ms: number) => SIZE / 1e6 / (ms / 1000);

async function measure(name: string, store: BlobStore): Promise<{ name: string; up: number; down: number }> {
  const up: number[] = [];
  const down: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    let t = performance.now();
    const info = await store.write(NS, body(), { maxBytes: SIZE, expectedSize: SIZE });
    up.push(performance.now() - t);
    t = performance.now();
    let n = 0;
    for await (const c of await store.read(NS, info.key)) n += (c as Buffer).length;
    down.push(performance.now() - t);
    if (n !== SIZE) throw new Error(`${name}: read ${n} bytes of ${SIZE}`);
    await store.remove(NS, info.key);
  }
  await store.drop(NS);
  await store.close();
  const r = { name, up: mbps(median(up)), down: mbps(median(down)) };
  console.log(`${name.padEnd(8)} upload ${r.up.toFixed(0).padStart(5)} MB/s   download ${r.down.toFixed(0).padStart(5)} MB/s`);
  return r;
}

const dir = mkdtempSync(join(tmpdir(), 'bench-blobs-'));
const swift = await startSwift();
try {
  console.log(`${SIZE / MiB} MiB blob, median of ${REPEATS} runs`);
  await measure('local', new LocalBlobStore(dir));
  await measure('swift', new SwiftBlobStore({ authUrl: swift.authUrl, user: swift.user, key: swift.key, containerPrefix: 'bench_' }));
  await measure('s3', new S3BlobStore({ ...swift.s3, bucket: 'bench', forcePathStyle: true }));
} finally {
  await swift.stop();
  rmSync(dir, { recursive: true, force: true });
}
