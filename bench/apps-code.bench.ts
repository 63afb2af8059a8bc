/**
 * `npm run bench`, apps code part (issue 14, "Install"): a 5 MB app installed on 1,000 instances through the code
 * store and the `registry://` source (src/apps/code), from a registry on loopback (an HTTP server for the tarball
 * and a resolver giving cozy's version object, as the registry of a local folder does). The first install
 * downloads, checks, unpacks and compresses; each next instance only records its reference (one fsynced SQLite row):
 *   - first install: time and bytes written to disk (/proc/self/io write_bytes);
 *   - 1,000 more instances one after the other, then 1,000 more 16 at a time: time and bytes written per instance;
 *   - reference: one durable SQLite insert (WAL, fdatasync) in a bare loop, the disk's bound for a durable row.
 * Writes bench/RESULTS-apps-code.md. BENCH_QUICK=1: 100 instances, no results file.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { fdatasyncSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { openAppCodeStore } from '../src/apps/code/local-store.js';
import { fetchPackage, type FetchOptions } from '../src/apps/code/sources.js';
import { makeTarball } from '../test/helpers/app-tarball.js';
import { bigAppEntries } from './big-app.js';
import { BENCH_DIR, fmtMs, gitInfo, log, machine, percentile, tempDir } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const INSTANCES = QUICK ? 100 : 1000;
const CONCURRENCY = 16;
const limits = { maxEntries: 5000, maxUnpackedBytes: 200 * 1024 * 1024 };

const written = (): number => Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);
const mb = (n: number) => (n / 1e6).toFixed(2);
const kb = (n: number) => (n / 1e3).toFixed(1);

/** The disk's bound for one durable row: an insert in a WAL database, then the WAL's fdatasync (what a reference costs). */
function durableInsertMs(dir: string, n: number): number {
  const file = join(dir, 'ref.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE refs (a TEXT, b TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID');
  const ins = db.prepare('INSERT INTO refs VALUES (?, ?)');
  ins.run('warm', 'x');
  const fd = openSync(`${file}-wal`, 'r');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    ins.run(`i${i}`, 'x');
    fdatasyncSync(fd);
  }
  const ms = (performance.now() - t0) / n;
  closeSync(fd);
  db.close();
  return ms;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const dir = tempDir('hearth-bench-appcode-');
  const tarball = join(dir, 'bigapp.tar.gz');
  const entries = bigAppEntries();
  await makeTarball(tarball, entries);
  const bytes = readFileSync(tarball);
  const unpacked = entries.reduce((n, e) => n + Buffer.byteLength(e.body ?? ''), 0);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let downloads = 0;
  const server = createServer((_req, res) => {
    downloads++;
    res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bigapp.tar.gz`;
  const store = openAppCodeStore(join(dir, 'data'));
  const resolveRegistry = async () => ({ version: '1.0.0', url, sha256, type: 'webapp', tar_prefix: '' });
  const opts = (instanceId: string): FetchOptions => ({ instanceId, dev: false, limits, resolveRegistry, expectedSlug: 'bigapp' });
  log(`app: ${entries.length} files, ${mb(unpacked)} MB unpacked, tarball ${mb(bytes.length)} MB`);

  let w = written();
  let t = performance.now();
  const cpu0 = process.cpuUsage();
  await fetchPackage(store, 'registry://bigapp/stable', 'webapp', opts('i0'));
  const cpu = process.cpuUsage(cpu0);
  const first = { ms: performance.now() - t, bytes: written() - w, cpuMs: (cpu.user + cpu.system) / 1000 };
  log(`first install ${fmtMs(first.ms)} ms (${fmtMs(first.cpuMs)} ms of CPU), ${mb(first.bytes)} MB written`);

  const seq: number[] = [];
  w = written();
  t = performance.now();
  for (let i = 1; i <= INSTANCES; i++) {
    const s = performance.now();
    await fetchPackage(store, 'registry://bigapp/stable', 'webapp', opts(`s${i}`));
    seq.push(performance.now() - s);
  }
  const sequential = { ms: (performance.now() - t) / INSTANCES, bytes: (written() - w) / INSTANCES };
  seq.sort((a, b) => a - b);
  const sorted = Float64Array.from(seq);
  log(`${INSTANCES} more, one at a time: ${fmtMs(sequential.ms)} ms and ${kb(sequential.bytes)} KB written each`);

  w = written();
  t = performance.now();
  let next = 1;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next <= INSTANCES) await fetchPackage(store, 'registry://bigapp/stable', 'webapp', opts(`c${next++}`));
  }));
  const concurrent = { ms: (performance.now() - t) / INSTANCES, bytes: (written() - w) / INSTANCES };
  log(`${INSTANCES} more, ${CONCURRENCY} at a time: ${fmtMs(concurrent.ms)} ms and ${kb(concurrent.bytes)} KB written each`);
  const refs = (await store.refs({ sha256 })).length;
  await store.close();
  await new Promise((resolve) => server.close(resolve));
  const reference = durableInsertMs(dir, QUICK ? 100 : 500);
  log(`reference: one durable SQLite insert ${fmtMs(reference)} ms`);

  const md = [
    '# Apps code benchmark (`npm run bench`, bench/apps-code.bench.ts)',
    '',
    `Run ${new Date().toISOString()} on ${machine()}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${gitInfo()}; ${((Date.now() - t0) / 1000).toFixed(0)} s.`,
    '',
    `A ${mb(unpacked)} MB web app (${entries.length} files, tarball ${mb(bytes.length)} MB) installed from \`registry://\` on ${1 + 2 * INSTANCES} instances;`,
    `the tarball was downloaded ${downloads} time(s), ${refs} references name the one stored copy.`,
    '',
    '| measure | time | written to disk |',
    '|---|---|---|',
    `| first install (download, check, unpack, brotli + gzip copies, fsync) | ${fmtMs(first.ms)} ms (${fmtMs(first.cpuMs)} ms of CPU, all threads) | ${mb(first.bytes)} MB |`,
    `| each next instance, one at a time (${INSTANCES}) | ${fmtMs(sequential.ms)} ms (p50 ${fmtMs(percentile(sorted, 0.5))}, p99 ${fmtMs(percentile(sorted, 0.99))}) | ${kb(sequential.bytes)} KB |`,
    `| each next instance, ${CONCURRENCY} at a time (${INSTANCES}) | ${fmtMs(concurrent.ms)} ms | ${kb(concurrent.bytes)} KB |`,
    `| reference: one durable SQLite insert (WAL + fdatasync) | ${fmtMs(reference)} ms | – |`,
    '',
    'Target (issue 14): under 1 ms of disk writes per instance beyond the first. An instance beyond the first writes',
    'no file of the app: only its reference row, made durable by one fdatasync of the references\' WAL, so one at a',
    'time it costs what the reference row costs on this disk; installs running together share their fdatasyncs.',
    'The first install\'s wall time grows with the machine\'s load (its CPU time less so); brotli at quality 9 takes',
    'about 0.13 s of CPU per MB of minified JS.',
    '',
  ].join('\n');
  if (!QUICK) {
    writeFileSync(join(BENCH_DIR, 'RESULTS-apps-code.md'), md);
    process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-apps-code.md')}\n`);
  } else process.stdout.write(md);
}

await main();
