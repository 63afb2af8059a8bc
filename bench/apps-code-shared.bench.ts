/**
 * `npm run bench`, shared app code part (issue 16): reading an installed web app's files through the code store as the
 * serving path does (StoredAppFiles.open: index, negotiated encoding, body read to its end), on the local disk and on the
 * shared store of docs.engine postgres with its bytes in PostgreSQL, Swift or S3 (Swift's s3api), in one run:
 *   - warm: a 200 KB hashed bundle (brotli copy) and a 2 KB file requested again and again by 8 concurrent readers
 *     (the shared store answers from its memory once a file was read);
 *   - cold: a fresh store (no index nor file in memory, as a process just started), each of 60 distinct 20 KB files
 *     read once, 8 at a time.
 * In process, without HTTP (the HTTP part is the same for every engine: bench/apps-serve.bench.ts measures it).
 * Writes bench/RESULTS-apps-code-shared.md. BENCH_QUICK=1: shorter runs, no results file.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ObjectCodeBlobs, PgCodeBlobs, type CodeBlobs } from '../src/apps/code/code-blobs.js';
import { StoredAppFiles } from '../src/apps/code/file-source.js';
import { LocalAppCodeStore } from '../src/apps/code/local-store.js';
import { SharedAppCodeStore } from '../src/apps/code/shared-store.js';
import type { AddFile, AppCodeStore } from '../src/apps/code/store.js';
import { createPgPool, type PgPool } from '../src/engines/postgres.js';
import { blobStoreArea } from '../src/files/blobs/engine.js';
import { startPostgres } from '../test/helpers/servers/postgres.js';
import { startSwift } from '../test/helpers/servers/swift.js';
import { testConfig } from '../test/helpers/hearth.js';
import { BENCH_DIR, fmtMs, fmtOps, gitInfo, log, machine, medianRun, runLoad, startWatchdog, tempDir, type Stats } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const DURATION = QUICK ? 1000 : 3000;
const ROUNDS = QUICK ? 1 : 3;
const CONCURRENCY = 8;
const COLD_FILES = 60;
const SHA = 'b'.repeat(64);

const text = (bytes: number) => {
  const lines: string[] = [];
  for (let n = 0; n < bytes;) {
    const line = `var v${lines.length}="${randomBytes(24).toString('base64')}";function f${lines.length}(a){return a+${lines.length}}\n`;
    lines.push(line);
    n += line.length;
  }
  return lines.join('');
};
const FILES: Record<string, string> = { 'manifest.webapp': '{"slug":"bench","version":"1.0.0"}', 'app.0123456789ab.js': text(200 * 1024), 'small.css': text(2048) };
for (let i = 0; i < COLD_FILES; i++) FILES[`js/chunk.${i}.js`] = text(20 * 1024);
const fill = async (add: AddFile) => {
  for (const [path, body] of Object.entries(FILES)) await add(path, Readable.from([Buffer.from(body)]));
};

const files = (store: AppCodeStore) => new StoredAppFiles(store);
const app = { slug: 'bench', version: '1.0.0', checksum: SHA, source: 'registry://bench' };
async function get(source: StoredAppFiles, path: string, enc: string | undefined): Promise<boolean> {
  const opened = await source.open(app, 'webapp', path, enc);
  if (!opened) return false;
  for await (const chunk of opened.body as AsyncIterable<Buffer>) void chunk;
  return true;
}

startWatchdog(15 * 60_000);
log('starting PostgreSQL and Swift');
const [postgres, swift] = await Promise.all([startPostgres(), startSwift()]);
const pools: PgPool[] = [];
const blobsCfg = testConfig(tempDir('bench-cfg-')).blobs;
const localDir = tempDir('bench-code-local-');
const engines: Array<{ name: string; make: () => AppCodeStore }> = [
  { name: 'local disk (embedded)', make: () => new LocalAppCodeStore({ dir: join(localDir, 'apps-code'), dbFile: join(localDir, 'apps-code.sqlite') }) },
];
const shared = (name: string, blobs: (pool: PgPool) => CodeBlobs) => {
  const url = postgres.database_url(`code_${name}`);
  return async () => {
    const pool = createPgPool({ url: await url, max: 10, name: 'bench' });
    pools.push(pool);
    return () => new SharedAppCodeStore({ pool, blobs: blobs(pool), localDir: tempDir(`bench-code-${name}-`) });
  };
};
const swiftCfg = { ...blobsCfg, engine: 'swift' as const, swift: { authUrl: swift.authUrl, user: swift.user, key: swift.key, containerPrefix: 'bench-' } };
const s3Cfg = { ...blobsCfg, engine: 's3' as const, s3: { ...swift.s3, bucket: 'bench-code', forcePathStyle: true } };
for (const [name, label, blobs] of [
  ['pg', 'PostgreSQL (bytea)', (pool: PgPool) => new PgCodeBlobs(pool)],
  ['swift', 'PostgreSQL + Swift', () => new ObjectCodeBlobs(blobStoreArea(swiftCfg, localDir, 'apps-code'))],
  ['s3', 'PostgreSQL + S3 (Swift s3api)', () => new ObjectCodeBlobs(blobStoreArea(s3Cfg, localDir, 'apps-code'))],
] as const) engines.push({ name: label, make: await shared(name, blobs)() });

async function measureEngine(engine: { name: string; make: () => AppCodeStore }): Promise<string> {
  const writer = engine.make();
  await writer.acquire({ instanceId: 'bench', kind: 'webapp', slug: 'bench', sha256: SHA }, fill);
  const warm = files(writer);
  const big: Stats[] = [];
  const small: Stats[] = [];
  const cold: Stats[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    big.push(await runLoad({ concurrency: CONCURRENCY, durationMs: DURATION, warmupMs: 300, op: () => get(warm, 'app.0123456789ab.js', 'br') }));
    small.push(await runLoad({ concurrency: CONCURRENCY, durationMs: DURATION, warmupMs: 300, op: () => get(warm, 'small.css', undefined) }));
    const fresh = engine.make();
    cold.push(await runLoad({ concurrency: CONCURRENCY, count: COLD_FILES, op: (i) => get(files(fresh), `js/chunk.${i}.js`, undefined) }));
    await fresh.close();
  }
  await writer.close();
  const [b, s, c] = [medianRun(big)!, medianRun(small)!, medianRun(cold)!];
  for (const st of [b, s, c]) if (st.note) log(`${engine.name}: ${st.note}`);
  return `| ${engine.name} | ${fmtOps(b.opsPerSec)} (p99 ${fmtMs(b.p99)} ms) | ${fmtOps(s.opsPerSec)} (p99 ${fmtMs(s.p99)} ms) | ${fmtOps(c.opsPerSec)} (p50 ${fmtMs(c.p50)}, p99 ${fmtMs(c.p99)} ms) | ${b.errors + s.errors + c.errors} |`;
}

const rows: string[] = [];
for (const engine of engines) {
  log(engine.name);
  // an engine that fails (a server overwhelmed by the machine's load) is reported as such, the others still run
  rows.push(await measureEngine(engine).catch((e: unknown) => `| ${engine.name} | failed: ${String(e instanceof Error ? e.message : e).slice(0, 120)} | – | – | – |`));
}
await Promise.all(pools.map((p) => p.end()));
await Promise.all([postgres.stop(), swift.stop()]);

const md = `# Shared app code: benchmark results (bench/apps-code-shared.bench.ts)

${gitInfo()}; ${machine()}; Node ${process.version}; PostgreSQL and Swift on this machine (loopback); ${CONCURRENCY} concurrent
readers, ${DURATION / 1000} s per warm run, median of ${ROUNDS} rounds. Load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}.
Files read through StoredAppFiles as the serving path does (no HTTP): warm, the same file again and again; cold, a
fresh store (a process just started) reading ${COLD_FILES} distinct 20 KB files once each.

| engine | warm: 200 KB bundle, brotli, reads/s | warm: 2 KB file, reads/s | cold: first reads/s of a file | errors |
|---|---|---|---|---|
${rows.join('\n')}

The shared store keeps each index and every file up to 1 MB it served in memory (64 MB at most), so once warm it
answers without PostgreSQL or the object store; the local store reads the disk (the page cache) each time. Cold, each
first read is one query (PostgreSQL) or one GET (Swift, S3), plus one query for the version's index.
`;
process.stdout.write(md);
if (!QUICK) {
  writeFileSync(join(BENCH_DIR, 'RESULTS-apps-code-shared.md'), md);
  process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-apps-code-shared.md')}\n`);
}
process.exit(0);
