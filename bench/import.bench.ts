/**
 * `npm run bench`, suite `import`: the import of an export archive (src/move/import) into an instance of a real
 * `hearth serve` of this build (bin/hearth.js, embedded engines: build first), asked through its admin API as
 * `hearth instances import` does (bench/import-server.ts): an archive built here in the contract's layout
 * (src/move/layout.ts, streamed by src/common/zip-writer.ts) with 100,000 documents and 2 GiB of files (10,000 small
 * ones of 4 to 12 kB, the rest in 4 large ones); MB/s side by side with `unzip` of the same archive in the same run;
 * every file's MD5 checked after the import; the server process's peak RSS growth during the import (target < 100 MB)
 * and its memory by kind at its largest. Writes its run at the top of bench/RESULTS-import.md (the sections after it,
 * earlier runs' notes, are kept). BENCH_QUICK=1: 5,000 documents, 500 small files and 64 MB. BENCH_PROFILE=<dir>: the
 * server run with `--cpu-prof` into that folder. BENCH_IMPORT_KEEP=<file>: the archive kept there (a hard link, same
 * file system), for bench/import-probe.ts.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, linkSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pino } from 'pino';
import { createHearth } from '../src/server/compose.js';
import { testConfig } from '../test/helpers/hearth.js';
import { zipStream, type ZipEntry } from '../src/common/zip-writer.js';
import { docEntry, fileContentEntry } from '../src/move/layout.js';
import { importServed } from './import-server.js';
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

const loadStart = loadavg().map((l) => l.toFixed(1)).join(', ');
const t = Date.now();
execFileSync('unzip', ['-q', '-o', archive, '-d', join(dir, 'unzipped')]);
const unzipS = (Date.now() - t) / 1000;
execFileSync('rm', ['-rf', join(dir, 'unzipped')]);

// the import, by a \`hearth serve\` of this build (bench/import-server.ts): its process's own peak RSS, CPU and memory by kind
const dataDir = join(dir, 'data');
const domain = 'bench-import.localhost';
const served = await importServed(dataDir, domain, archive, process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []);
const { report, seconds: importS } = served;
// every file read back, by this process on the same data once the server stopped
const hearth = await createHearth(testConfig(dataDir), pino({ level: 'silent' }));
const instance = (await hearth.registry.get(domain))!;
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
const f0 = (n: number) => n.toFixed(0);
const { own, sampled } = served;
const rows = [
  `| import (reset, ${DOCS} docs, ${SMALL + LARGE} files with MD5 checks) | ${importS.toFixed(1)} s | ${(mb / importS).toFixed(1)} MB/s |`,
  `| \`unzip -q\` of the same archive | ${unzipS.toFixed(1)} s | ${(mb / unzipS).toFixed(1)} MB/s |`,
];
const text = `## The last run (written by bench/import.bench.ts)

${new Date().toISOString()}, ${QUICK ? 'BENCH_QUICK=1 (scaled down)' : SCALE < 1 ? `BENCH_IMPORT_SCALE=${SCALE} (scaled down)` : 'full size'}: an archive of ${DOCS} documents and ${Math.round(TOTAL / MiB)} MiB of files
(${SMALL} small, ${LARGE} large), ${(zipBytes / MiB).toFixed(0)} MiB zipped, imported from the file into an instance of a \`hearth serve\` of this
build (embedded engines) through the admin API (bench/import-server.ts).

| run | time | throughput (inflated data) |
|---|---|---|
${rows.join('\n')}

- imported: ${report.docs} documents, ${report.files} files; left out: ${report.skipped_count}
- MD5 of every file read back after the import: ${expected.size - bad} of ${expected.size} match
- the server's peak RSS growth during the import (VmHWM, reset just before it, over its RSS then, ${f0(served.rssBefore)} MB): ${f0(served.peakGrowth)} MB (target < 100 MB)
- at its largest RSS sampled every 250 ms (+${f0(sampled.growth)} MB), by the kernel: malloc's heaps ${f0(sampled.mallocHeaps)} MB, other anonymous memory (V8's heap, large buffers) ${f0(sampled.otherAnon)} MB, file-backed ${f0(sampled.file)} MB; by the server itself (+${f0(own.rss)} MB): V8 heap ${f0(own.heapTotal)} MB (of it used ${f0(own.heapUsed)}; new space ${f0(own.newSpace)}, old space ${f0(own.oldSpace)}), array buffers ${f0(own.arrayBuffers)} MB, external ${f0(own.external)} MB
- CPU time of the server during the import (user + system, every thread; less sensitive to the machine's load than its time): ${served.cpuSeconds.toFixed(1)} s
- load average at the start (1, 5, 15 min): ${loadStart}; at the end: ${loadavg().map((l) => l.toFixed(1)).join(', ')}
`;
log(text);
// the run at the top, the notes of earlier runs (every section after the bench's own) kept
const results = join(BENCH_DIR, 'RESULTS-import.md');
const earlier = readFileSync(results, 'utf8').split(/^(?=## )/m).filter((sec) => sec.startsWith('## ') && !sec.startsWith('## The last run'));
writeFileSync(results, ['# Import benchmark (bench/import.bench.ts)\n\n', text, '\n', ...earlier].join(''));
if (bad) process.exitCode = 1;
