/**
 * The blob engines side by side: a large blob (200 MiB by default) written then read back whole through the BlobStore
 * interface, on the local disk, on OpenStack Swift (native API) and on S3 (Swift's s3api middleware), the Swift being
 * a private all-in-one from Debian's packages on this machine (test/helpers/servers/swift.ts); each beside a plain
 * reference moving the same bytes: a file written with fsync then read (local), `rclone rcat` / `rclone cat` straight to
 * the object store (Swift and S3). MB/s per engine (median of the runs), into bench/RESULTS-blobs.md.
 * `node --import tsx bench/blobs.bench.ts` (`npm run bench` suite blobs)
 *
 *   BENCH_BLOBS_MB=200      size of the blob in MiB (BENCH_QUICK=1: 32, one run, printed only)
 *   BENCH_BLOBS_REPEATS=3   runs per engine
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LocalBlobStore } from '../src/files/blobs/local.js';
import { S3BlobStore } from '../src/files/blobs/s3.js';
import type { BlobStore } from '../src/files/blobs/store.js';
import { SwiftBlobStore } from '../src/files/blobs/swift.js';
import { startSwift } from '../test/helpers/servers/swift.js';
import { BENCH_DIR, gitInfo, log, machine } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const MiB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_BLOBS_MB ?? (QUICK ? 32 : 200)) * MiB;
const REPEATS = Number(process.env.BENCH_BLOBS_REPEATS ?? (QUICK ? 1 : 3));
const NS = 'b'.repeat(32);
const CHUNK = randomBytes(MiB);

/** SIZE bytes in 64 KiB chunks, as a request body arrives. */
const body = () => Readable.from((function* () { for (let n = 0; n < SIZE; n += 64 * 1024) yield CHUNK.subarray(n % MiB, (n % MiB) + 64 * 1024); })());
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mbps = (ms: number) => SIZE / 1e6 / (ms / 1000);

interface Result { name: string; up: number; down: number }

/** Runs `once` REPEATS times ([upload ms, download ms] each), the median of each. */
async function timed(name: string, once: (i: number) => Promise<[number, number]>): Promise<Result> {
  const up: number[] = [];
  const down: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const [u, d] = await once(i);
    up.push(u);
    down.push(d);
  }
  const r = { name, up: mbps(median(up)), down: mbps(median(down)) };
  log(`${name.padEnd(24)} upload ${r.up.toFixed(0).padStart(5)} MB/s   download ${r.down.toFixed(0).padStart(5)} MB/s`);
  return r;
}

async function measure(name: string, store: BlobStore): Promise<Result> {
  const r = await timed(name, async () => {
    let t = performance.now();
    const info = await store.write(NS, body(), { maxBytes: SIZE, expectedSize: SIZE });
    const up = performance.now() - t;
    t = performance.now();
    let n = 0;
    for await (const c of await store.read(NS, info.key)) n += (c as Buffer).length;
    const down = performance.now() - t;
    if (n !== SIZE) throw new Error(`${name}: read ${n} bytes of ${SIZE}`);
    await store.remove(NS, info.key);
    return [up, down];
  });
  await store.drop(NS);
  await store.close();
  return r;
}

/** The reference on the local disk: the same bytes written to a file, fsynced, then read back. */
const plainFile = (dir: string) => timed('plain file + fsync', async (i) => {
  const file = join(dir, `plain-${i}`);
  let t = performance.now();
  await pipeline(body(), createWriteStream(file));
  const fh = await open(file, 'r+');
  await fh.sync();
  await fh.close();
  const up = performance.now() - t;
  t = performance.now();
  let n = 0;
  for await (const c of createReadStream(file)) n += (c as Buffer).length;
  if (n !== SIZE) throw new Error(`plain file: read ${n} bytes`);
  rmSync(file);
  return [up, performance.now() - t];
});

/** `rclone <args>` with the remote `r:` configured by `env`; `input` piped to its stdin; resolves with the bytes it printed. */
function rclone(env: Record<string, string>, args: string[], input?: Readable): Promise<number> {
  return new Promise((resolve, reject) => {
    // without AWS_CA_BUNDLE: rclone's S3 client refuses a custom CA bundle on its own transport (and the store is plain HTTP)
    const { AWS_CA_BUNDLE: _bundle, ...inherited } = process.env;
    const p = spawn('rclone', args, { env: { ...inherited, ...env }, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let n = 0;
    let err = '';
    p.stdout!.on('data', (c: Buffer) => (n += c.length));
    p.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    // if rclone stops reading (it failed), its exit code and stderr say why
    p.stdin?.on('error', () => undefined);
    if (input) input.pipe(p.stdin!);
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(n) : reject(new Error(`rclone ${args.join(' ')}: ${code} ${err.slice(0, 500)}`))));
  });
}

/** The reference on an object store: the same bytes uploaded by `rclone rcat` and downloaded by `rclone cat`. */
const plainRclone = (name: string, env: Record<string, string>) => timed(name, async (i) => {
  const target = `r:benchref/plain-${i}`;
  let t = performance.now();
  await rclone(env, ['rcat', target], body());
  const up = performance.now() - t;
  t = performance.now();
  const n = await rclone(env, ['cat', target]);
  if (n !== SIZE) throw new Error(`${name}: read ${n} bytes`);
  // left in place (a new name each run): the whole Swift is removed at the end
  return [up, performance.now() - t];
});

const load0 = loadavg();
const dir = mkdtempSync(join(tmpdir(), 'bench-blobs-'));
const swift = await startSwift();
const pairs: Array<[Result, Result]> = [];
try {
  log(`${SIZE / MiB} MiB blob, median of ${REPEATS} runs`);
  pairs.push([await measure('local', new LocalBlobStore(join(dir, 'store'))), await plainFile(dir)]);
  pairs.push([
    await measure('swift', new SwiftBlobStore({ authUrl: swift.authUrl, user: swift.user, key: swift.key, containerPrefix: 'bench_' })),
    await plainRclone('rclone to Swift', { RCLONE_CONFIG_R_TYPE: 'swift', RCLONE_CONFIG_R_AUTH: swift.authUrl, RCLONE_CONFIG_R_USER: swift.user, RCLONE_CONFIG_R_KEY: swift.key }),
  ]);
  pairs.push([
    await measure('s3', new S3BlobStore({ ...swift.s3, bucket: 'bench', forcePathStyle: true })),
    await plainRclone('rclone to S3', {
      RCLONE_CONFIG_R_TYPE: 's3', RCLONE_CONFIG_R_PROVIDER: 'Other', RCLONE_CONFIG_R_ENDPOINT: swift.s3.endpoint, RCLONE_CONFIG_R_REGION: swift.s3.region,
      RCLONE_CONFIG_R_ACCESS_KEY_ID: swift.s3.accessKeyId, RCLONE_CONFIG_R_SECRET_ACCESS_KEY: swift.s3.secretAccessKey, RCLONE_CONFIG_R_FORCE_PATH_STYLE: 'true',
    }),
  ]);
} finally {
  await swift.stop();
  rmSync(dir, { recursive: true, force: true });
}
const local = pairs[0]![0];
const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(', ');
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const md = [
  '# Large blobs on the local disk, Swift and S3',
  '',
  `Written by \`node --import tsx bench/blobs.bench.ts\` (\`BENCH_SUITES=blobs npm run bench\`) on ${new Date().toISOString()}.`,
  `${machine()}; ${gitInfo()}. Load average (1, 5, 15 min) ${load(load0)} at the start, ${load(loadavg())} at the end (2 cores shared`,
  'with other engineers\' work and, here, with the Swift servers: the object stores\' numbers are what this machine gives, not a cluster\'s).',
  '',
  `A ${SIZE / MiB} MiB blob (random bytes, in 64 KiB chunks as a request body arrives) written then read back whole through Hearth's`,
  'BlobStore engines (src/files/blobs: the MD5 computed while writing; Swift through its native API, S3 through Swift\'s s3api',
  'middleware, multipart), on a private all-in-one Swift from Debian\'s packages on this machine (test/helpers/servers/swift.ts);',
  `each beside a plain reference moving the same bytes: a file written then fsynced and read, and rclone ${'`rcat`'} / ${'`cat`'} straight`,
  `to the same Swift and S3 (its process start included). Median of ${REPEATS} runs; MB = 10^6 bytes.`,
  '',
  '| engine | upload MB/s | download MB/s | reference | its upload MB/s | its download MB/s | engine / reference (up, down) | vs local disk (up, down) |',
  '|---|---:|---:|---|---:|---:|---|---|',
  ...pairs.map(([e, r]) => `| ${e.name} | ${e.up.toFixed(0)} | ${e.down.toFixed(0)} | ${r.name} | ${r.up.toFixed(0)} | ${r.down.toFixed(0)} | ${ratio(e.up, r.up)}, ${ratio(e.down, r.down)} | ${ratio(e.up, local.up)}, ${ratio(e.down, local.down)} |`),
  '',
].join('\n');
if (QUICK) process.stdout.write(md);
else {
  writeFileSync(join(BENCH_DIR, 'RESULTS-blobs.md'), md);
  process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-blobs.md')}\n`);
}
