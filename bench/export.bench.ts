/**
 * `npm run bench`, suite `export`: an instance of 100,000 documents and 2 GiB of files (10,000 small ones of 20 kB in 100
 * folders, and 4 large ones making up the rest) exported by a real Hearth (createHearth, embedded engines) in this
 * process: the `export` job (which copies the documents for the export's snapshot), then every part in one zip streamed
 * to a file as `hearth instances export` does. Measured:
 * the export's MB/s (bytes of file contents per second, the zip written to disk), side by side, in the same run, with
 * `zip -r` of the same blobs (level 6, as the export) and `tar -cf` of the whole data directory; the process's RSS sampled every
 * 20 ms during the export (peak growth over the RSS before it: target < 100 MB); target export ≥ 60 % of `zip -r`.
 * Then the same export again with the large files typed video/mp4, which the export stores (zip -r deflates everything).
 * Writes bench/RESULTS-export.md. BENCH_QUICK=1: 10,000 documents and 200 MB, no results file; BENCH_EXPORT_SCALE=0.5:
 * half of everything (the results file says so).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pino } from 'pino';
import { createHearth } from '../src/server/compose.js';
import { exportPartZip } from '../src/move/export/archive.js';
import { docsOf } from '../src/move/export/snapshot.js';
import type { ExportDoc } from '../src/move/types.js';
import { FILES_DOCTYPE } from '../src/move/layout.js';
import { ROOT_DIR_ID } from '../src/files/types.js';
import { testConfig } from '../test/helpers/hearth.js';
import { BENCH_DIR, gitInfo, log, machine, tempDir } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
/** BENCH_EXPORT_SCALE: a fraction of the full size (documents, small files and bytes alike), e.g. 0.25 or 0.5. */
const SCALE = QUICK ? 0.1 : Number(process.env.BENCH_EXPORT_SCALE ?? 1);
const DOCS = Math.round(100_000 * SCALE);
const TOTAL = Math.round(2 * 2 ** 30 * SCALE);
const SMALL = Math.round(10_000 * SCALE);
const SMALL_SIZE = 20_000;
const LARGE = 4;
const MB = 2 ** 20;

const dir = tempDir('hearth-bench-export-');
const dataDir = join(dir, 'data');
const hearth = await createHearth(testConfig(dataDir), pino({ level: 'silent' }), { exports: { sweepMs: 0 } });
const instance = await hearth.registry.create({ domain: 'bench.export.example', email: 'owner@example.org' });
const store = hearth.storeOf(instance);
const fs = hearth.vfs.fs;

log(`[export] filling: ${DOCS} documents, ${SMALL} small files and ${LARGE} large ones (${(TOTAL / MB).toFixed(0)} MB)`);
for (let i = 0; i < DOCS; i += 1000) {
  await store.bulkDocs('io.cozy.contacts', Array.from({ length: Math.min(1000, DOCS - i) }, (_, j) => ({ _id: `c-${i + j}`, fullname: `Person ${i + j}`, email: [{ address: `p${i + j}@example.org` }], note: 'x'.repeat(150) })), true);
}
const folders = [];
for (let d = 0; d < 100; d++) folders.push(await fs.createDir(instance, { dirId: ROOT_DIR_ID, name: `folder ${d}` }));
let bytes = 0;
for (let i = 0; i < SMALL; i++) {
  const body = randomBytes(SMALL_SIZE);
  await fs.upload(instance, { dirId: folders[i % 100]!._id, name: `small-${i}.bin`, body: Readable.from([body]), size: body.length });
  bytes += body.length;
}
const largeSize = Math.floor((TOTAL - bytes) / LARGE);
for (let i = 0; i < LARGE; i++) {
  const chunks = (async function* () {
    for (let left = largeSize; left > 0; left -= 4 * MB) yield randomBytes(Math.min(4 * MB, left));
  })();
  await fs.upload(instance, { dirId: ROOT_DIR_ID, name: `large-${i}.bin`, body: Readable.from(chunks), size: largeSize });
  bytes += largeSize;
}
log(`[export] filled: ${(bytes / MB).toFixed(0)} MB of files`);

// the export: the job, then every part in one zip on disk; RSS sampled meanwhile
const loadBefore = loadavg().map((l) => l.toFixed(1)).join(', ');
global.gc?.();
const memBefore = process.memoryUsage();
const rssBefore = memBefore.rss;
let rssPeak = rssBefore;
let heapPeak = memBefore.heapUsed;
let externalPeak = memBefore.external;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  rssPeak = Math.max(rssPeak, m.rss);
  heapPeak = Math.max(heapPeak, m.heapUsed);
  externalPeak = Math.max(externalPeak, m.external);
}, 20);
/** Runs the export job to its end: the export. */
async function exportJob(): Promise<ExportDoc> {
  const before = (await hearth.exports.list(instance))[0]?._id;
  await hearth.exports.request(instance, { admin: true });
  let doc = (await hearth.exports.list(instance))[0];
  while (!doc || doc._id === before || doc.state === 'exporting') {
    await new Promise((r) => setTimeout(r, 50));
    doc = (await hearth.exports.list(instance))[0];
  }
  if (doc.state !== 'done') throw new Error(`the export failed: ${doc.error}`);
  return doc;
}
const wholeZip = (doc: ExportDoc) => exportPartZip({ store: hearth.exports.store, fs }, instance, doc, { number: 0, start: { doctype: FILES_DOCTYPE, id: '' }, end: null });
const t0 = performance.now();
const doc = await exportJob();
const jobMs = performance.now() - t0;
const copyBytes = ['', '-wal'].reduce((n, ext) => n + (statSync(join(dataDir, `exports.sqlite${ext}`), { throwIfNoEntry: false })?.size ?? 0), 0);
const out = join(dir, 'export.zip');
await pipeline(wholeZip(doc), createWriteStream(out));
const exportMs = performance.now() - t0;
clearInterval(sampler);
const zipBytes = statSync(out).size;
const heapGrowth = `JS heap +${((heapPeak - memBefore.heapUsed) / MB).toFixed(0)} MB, external (buffers) +${((externalPeak - memBefore.external) / MB).toFixed(0)} MB`;
log(`[export] exported in ${(exportMs / 1000).toFixed(1)} s (job ${(jobMs / 1000).toFixed(1)} s), zip ${(zipBytes / MB).toFixed(0)} MB, RSS +${((rssPeak - rssBefore) / MB).toFixed(0)} MB (${heapGrowth})`);

// the same files, the large ones typed as video (mime-db: not compressible): the export stores them, `zip -r` deflates all
const large = [];
for await (const d of docsOf(store, FILES_DOCTYPE)) if (String(d.name).startsWith('large-')) large.push(d);
await store.putAll(FILES_DOCTYPE, large.map((d) => ({ ...d, mime: 'video/mp4', class: 'video' })));
const t1 = performance.now();
// a new export (its own snapshot: the previous one is of the files as they were)
await pipeline(wholeZip(await exportJob()), createWriteStream(join(dir, 'export-stored.zip')));
const storedMs = performance.now() - t1;
log(`[export] with the large files stored: ${(storedMs / 1000).toFixed(1)} s`);

const timed = (cmd: string, args: string[], cwd: string): number => {
  const s = performance.now();
  execFileSync(cmd, args, { cwd, stdio: 'ignore' });
  return performance.now() - s;
};
const zipMs = timed('zip', ['-r', '-q', join(dir, 'zip-r.zip'), 'files'], join(dataDir, 'instances', instance.id));
const tarMs = timed('tar', ['-cf', join(dir, 'data.tar'), '.'], dataDir);
await hearth.close();

const mbps = (ms: number) => bytes / MB / (ms / 1000);
const ratio = mbps(exportMs) / mbps(zipMs);
const growth = (rssPeak - rssBefore) / MB;
const rows = [
  ['export (job + every part in one zip), every content deflated', `${(exportMs / 1000).toFixed(1)} s`, mbps(exportMs).toFixed(1)],
  [`a new export (job + zip), the ${LARGE} large files typed video/mp4 (stored, the rest deflated)`, `${(storedMs / 1000).toFixed(1)} s`, mbps(storedMs).toFixed(1)],
  ['`zip -r` of the same blobs', `${(zipMs / 1000).toFixed(1)} s`, mbps(zipMs).toFixed(1)],
  ['`tar -cf` of the data directory', `${(tarMs / 1000).toFixed(1)} s`, mbps(tarMs).toFixed(1)],
];
const report = `# Export benchmark

${DOCS.toLocaleString('en')} documents (io.cozy.contacts), ${SMALL.toLocaleString('en')} files of ${SMALL_SIZE / 1000} kB in 100 folders and
${LARGE} large files: ${(bytes / MB).toFixed(0)} MB of random (incompressible) contents. MB/s are MB of file contents per second.

| what | time | MB/s |
|---|---|---|
${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

- the job (records the export, copies the documents for its snapshot and measures the files for the parts): ${(jobMs / 1000).toFixed(1)} s; zip written: ${(zipBytes / MB).toFixed(0)} MB
- the snapshot's copy of the documents, kept with the export until it ends (exports.sqlite and its WAL): ${(copyBytes / MB).toFixed(0)} MB; no content is copied
- export / \`zip -r\`: ${(ratio * 100).toFixed(0)} % (target ≥ 60 %): **${ratio >= 0.6 ? 'PASS' : 'FAIL'}** (both deflate every content, level 6)
- export with the large files stored / \`zip -r\` (which deflates everything): ${(mbps(storedMs) / mbps(zipMs) * 100).toFixed(0)} %
- load average (1, 5, 15 min) before the export: ${loadBefore}; after \`tar\`: ${loadavg().map((l) => l.toFixed(1)).join(', ')} (2 cores shared with other work)
- peak RSS growth of the server process during the export: ${growth.toFixed(0)} MB (target < 100 MB): **${growth < 100 ? 'PASS' : 'FAIL'}**; peaks of the same samples: ${heapGrowth}

The server runs in the benchmark's process (createHearth with the embedded engines); its RSS is sampled every 20 ms.

${machine()}
${gitInfo()}
`;
process.stdout.write(report);
if (!QUICK) writeFileSync(join(BENCH_DIR, 'RESULTS-export.md'), report);
process.exit(0);
