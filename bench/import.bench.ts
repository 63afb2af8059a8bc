/**
 * `npm run bench`, suite `import`: the import of an export archive (src/move/import) into an instance of a real Hearth
 * (embedded engines) in this process: an archive built here in the contract's layout (src/move/layout.ts, streamed by src/common/zip-writer.ts) with
 * 100,000 documents and 2 GiB of files (10,000 small ones of 4 to 12 kB, the rest in 4 large ones), imported from the file
 * (no export server); MB/s side by side with `unzip` of the same archive in the same run; every file's MD5 checked after
 * the import; the process's peak RSS growth during the import (the server runs in this process: target < 100 MB).
 * Writes bench/RESULTS-import.md. BENCH_QUICK=1: 5,000 documents, 500 small files and 64 MB. BENCH_PROFILE=<file>: a CPU
 * profile of the import alone. BENCH_IMPORT_KEEP=<file>: the archive kept there (a hard link, same file system), for
 * bench/import-probe.ts.
 */
import { execFileSync } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, linkSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pino } from 'pino';
import { createHearth } from '../src/server/compose.js';
import { testConfig } from '../test/helpers/hearth.js';
import { zipStream, type ZipEntry } from '../src/common/zip-writer.js';
import { docEntry, fileContentEntry } from '../src/move/layout.js';
import { BENCH_DIR, log, tempDir } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
// BENCH_IMPORT_SCALE=0.25: a quarter of the full size (documents, small files and bytes)
const SCALE = QUICK ? 1 : Math.min(1, Math.max(0.01, Number(process.env.BENCH_IMPORT_SCALE ?? 1) || 1));
const DOCS = QUICK ? 5000 : Math.round(100_000 * SCALE);
const SMALL = QUICK ? 500 : Math.round(10_000 * SCALE);
const TOTAL = QUICK ? 64 * 1024 ** 2 : Math.round(2 * 1024 ** 3 * SCALE);
const LARGE = 4;
const dir = tempDir('hearth-bench-import-');
const MiB = 1024 * 1024;

// the contents are kept as their MD5 only: the large ones are a repeated random block, streamed when written (the archive is
// written with the export's zip writer, which pulls the entries as its output is read: yazl held every buffer until the end)
const expected = new Map<string, string>();
const block = randomBytes(MiB);
const reversed = Buffer.from(block).reverse();
function* largeBlocks(size: number): Generator<Buffer> {
  for (let k = 0; k < size / MiB; k++) yield k % 2 ? block : reversed;
}
const md5Of = (chunks: Iterable<Buffer>) => {
  const h = createHash('md5');
  for (const c of chunks) h.update(c);
  return h.digest('base64');
};
const zipEntry = (name: string, body: ZipEntry['body']): ZipEntry => ({ name, mtime: new Date('2024-01-01T00:00:00Z'), mode: 0o100640, deflate: true, body });
function fileDoc(id: string, name: string, size: number, md5sum: string): ZipEntry {
  const d = { _id: id, _rev: '3-def', type: 'file', name, dir_id: 'io.cozy.files.root-dir', size: String(size), md5sum, mime: 'application/octet-stream', class: 'files', created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-02T00:00:00Z', tags: [], trashed: false, executable: false };
  return zipEntry(docEntry('io.cozy.files', id), Buffer.from(JSON.stringify(d)));
}
async function* entries(smallBytes: number): AsyncGenerator<ZipEntry> {
  for (let i = 0; i < DOCS; i++) yield zipEntry(docEntry('io.cozy.bench.docs', `d${i}`), Buffer.from(JSON.stringify({ _id: `d${i}`, i, title: `document ${i}`, tags: ['a', 'b'] })));
  for (let i = 0; i < SMALL; i++) {
    const content = randomBytes(4096 + (i % 8) * 1024);
    const md5 = md5Of([content]);
    expected.set(`s${i}`, md5);
    yield fileDoc(`s${i}`, `small-${i}.bin`, content.length, md5);
    yield zipEntry(fileContentEntry(`/small-${i}.bin`), content);
  }
  const largeSize = Math.floor((TOTAL - smallBytes) / LARGE / MiB) * MiB;
  const largeMd5 = md5Of(largeBlocks(largeSize));
  for (let i = 0; i < LARGE; i++) {
    expected.set(`l${i}`, largeMd5);
    yield fileDoc(`l${i}`, `large-${i}.bin`, largeSize, largeMd5);
    yield zipEntry(fileContentEntry(`/large-${i}.bin`), { size: largeSize, open: async () => Readable.from(largeBlocks(largeSize)) });
  }
}

const smallBytes = Array.from({ length: SMALL }, (_, i) => 4096 + (i % 8) * 1024).reduce((a, b) => a + b, 0);
const archive = join(dir, 'My Cozy.zip');
log(`[import] writing the archive: ${DOCS} documents, ${SMALL} small files, ${LARGE} large ones, ${Math.round(TOTAL / MiB)} MiB`);
await pipeline(zipStream(entries(smallBytes)), createWriteStream(archive));
const zipBytes = statSync(archive).size;
if (process.env.BENCH_IMPORT_KEEP) linkSync(archive, process.env.BENCH_IMPORT_KEEP);

let t = Date.now();
execFileSync('unzip', ['-q', '-o', archive, '-d', join(dir, 'unzipped')]);
const unzipS = (Date.now() - t) / 1000;
execFileSync('rm', ['-rf', join(dir, 'unzipped')]);

const hearth = await createHearth(testConfig(join(dir, 'data')), pino({ level: 'silent' }));
const instance = await hearth.registry.create({ domain: 'bench-import.localhost' });
global.gc?.();
const rssBefore = process.memoryUsage.rss();
let peak = rssBefore;
// memoryUsage.rss(): memoryUsage() also walks the heap spaces, 5 % of the import's profile at a 50 ms period
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
// what the memory is at its peak, by kind (memoryUsage() walks the heap's spaces: every 500 ms only)
const before = process.memoryUsage();
let atPeak = before;
const breakdown = setInterval(() => {
  const m = process.memoryUsage();
  if (m.rss > atPeak.rss) atPeak = m;
}, 500);
// BENCH_PROFILE=<file>: a CPU profile of the import alone (open it in Chrome's DevTools)
const profiler = process.env.BENCH_PROFILE ? new Session() : null;
profiler?.connect();
await profiler?.post('Profiler.enable');
await profiler?.post('Profiler.start');
t = Date.now();
const cpuBefore = process.cpuUsage();
const report = await hearth.imports.runClaimed(instance, await hearth.imports.claim(instance, archive));
const importS = (Date.now() - t) / 1000;
const cpu = process.cpuUsage(cpuBefore);
if (profiler) writeFileSync(process.env.BENCH_PROFILE!, JSON.stringify((await profiler.post('Profiler.stop')).profile));
clearInterval(sampler);
clearInterval(breakdown);
let bad = 0;
for (const [id, md5] of expected) {
  const d = await hearth.vfs.fs.stat(instance, id);
  const h = createHash('md5');
  for await (const c of await hearth.vfs.fs.open(instance, d)) h.update(c as Buffer);
  if (h.digest('base64') !== md5 || d.md5sum !== md5) bad++;
}
await hearth.close();
execFileSync('rm', ['-rf', dir]);

const mb = (TOTAL + DOCS * 60) / MiB;
const grow = (k: 'heapTotal' | 'heapUsed' | 'arrayBuffers') => ((atPeak[k] - before[k]) / MiB).toFixed(0);
const rows = [
  `| import (reset, ${DOCS} docs, ${SMALL + LARGE} files with MD5 checks) | ${importS.toFixed(1)} s | ${(mb / importS).toFixed(1)} MB/s |`,
  `| \`unzip -q\` of the same archive | ${unzipS.toFixed(1)} s | ${(mb / unzipS).toFixed(1)} MB/s |`,
];
const text = `# Import benchmark (bench/import.bench.ts)

${new Date().toISOString()}, ${QUICK ? 'BENCH_QUICK=1 (scaled down)' : SCALE < 1 ? `BENCH_IMPORT_SCALE=${SCALE} (scaled down)` : 'full size'}: an archive of ${DOCS} documents and ${Math.round(TOTAL / MiB)} MiB of files
(${SMALL} small, ${LARGE} large), ${(zipBytes / MiB).toFixed(0)} MiB zipped, imported from the file into an instance (embedded engines).

| run | time | throughput (inflated data) |
|---|---|---|
${rows.join('\n')}

- imported: ${report.docs} documents, ${report.files} files; left out: ${report.skipped_count}
- MD5 of every file read back after the import: ${expected.size - bad} of ${expected.size} match
- peak RSS growth of the process (server and bench) during the import: ${((peak - rssBefore) / MiB).toFixed(0)} MB (target < 100 MB)
- at the largest RSS sampled every 500 ms (${(atPeak.rss / MiB).toFixed(0)} MB), growth by kind: V8 heap ${grow('heapTotal')} MB (of it used ${grow('heapUsed')} MB), array buffers ${grow('arrayBuffers')} MB, the rest (native: SQLite's caches, threads' isolates, zlib, malloc) ${((atPeak.rss - before.rss - (atPeak.heapTotal - before.heapTotal) - (atPeak.arrayBuffers - before.arrayBuffers)) / MiB).toFixed(0)} MB
- CPU time of the import (user + system of this process, less sensitive to the machine's load than its time): ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s
- load average at the end (1, 5, 15 min): ${loadavg().map((l) => l.toFixed(1)).join(', ')}
`;
log(text);
writeFileSync(join(BENCH_DIR, 'RESULTS-import.md'), text);
if (bad) process.exitCode = 1;
