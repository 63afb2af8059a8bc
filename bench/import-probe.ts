/**
 * A probe of the import's memory (issue 17), by hand, not part of `npm run bench`: imports an archive kept by
 * bench/import.bench.ts (BENCH_IMPORT_KEEP=<file>, then BENCH_IMPORT_ARCHIVE=<file> here) into a fresh instance and
 * prints, every PROBE_MS (250 ms), the growth of RSS, of V8's heap in use, of array buffers and external memory, and of
 * V8's spaces' sizes; the end of the documents (the first 100,000 entries: the bench's archive); the import's time, CPU
 * and peak RSS growth. `node --import tsx bench/import-probe.ts`, with V8's `--trace-gc-nvp` to see each collection.
 * PROBE_DOCS_ONLY=1: stops after the documents. PROBE_SMAPS_AT=<ms>: the mappings whose RSS grew then (/proc/self/smaps).
 * PROBE_SNAPSHOT_AT=<ms> PROBE_SNAPSHOT_FILE=<file>: a heap snapshot then. PROBE_MALLOC=1: glibc's malloc thresholds
 * fixed as `hearth serve` does a second after it listens (src/common/malloc-trim.ts); the bench leaves them to glibc.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { pino } from 'pino';
import { fixMallocThresholds } from '../src/common/malloc-trim.js';
import { createHearth } from '../src/server/compose.js';
import { testConfig } from '../test/helpers/hearth.js';
import { tempDir } from './lib.js';

if (process.env.PROBE_MALLOC === '1') console.log('malloc thresholds fixed:', fixMallocThresholds());
const archive = process.env.BENCH_IMPORT_ARCHIVE;
if (!archive) throw new Error('BENCH_IMPORT_ARCHIVE=<an archive kept by bench/import.bench.ts> is needed');
const dir = tempDir('hearth-probe-import-');
const hearth = await createHearth(testConfig(join(dir, 'data')), pino({ level: 'silent' }));
const instance = await hearth.registry.create({ domain: 'probe-import.localhost' });
global.gc?.();
const MiB = 1024 * 1024;
const spaces = () => Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name.replace('_space', ''), s.space_size]));
const smaps = () => {
  const out = new Map<string, number>();
  let key = '';
  for (const l of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(l);
    if (m) {
      const size = (parseInt(m[2]!, 16) - parseInt(m[1]!, 16)) / 1024;
      key = m[3] ? m[3].replace(/.*\//, '') : `anon ${size >= 65536 ? '64M+' : size >= 1024 ? '1M+' : size >= 256 ? '256K+' : 'small'}`;
    } else if (l.startsWith('Rss:')) out.set(key, (out.get(key) ?? 0) + Number(l.split(/\s+/)[1]));
  }
  return out;
};
const smaps0 = smaps();
if (process.env.PROBE_SMAPS_AT) setTimeout(() => {
  const now = smaps();
  for (const [k, v] of now) if (Math.abs(v - (smaps0.get(k) ?? 0)) > 2048) console.log(`smaps ${k}: ${((v - (smaps0.get(k) ?? 0)) / 1024).toFixed(0)} MB`);
}, Number(process.env.PROBE_SMAPS_AT));
const b = process.memoryUsage();
const bs = spaces();
let peak = b.rss;
let t0 = Date.now();
const line = () => {
  const m = process.memoryUsage();
  const s = spaces();
  peak = Math.max(peak, m.rss);
  const d = (k: string) => ((s[k]! - bs[k]!) / MiB).toFixed(0);
  console.log(`${((Date.now() - t0) / 1000).toFixed(1)}s rss +${((m.rss - b.rss) / MiB).toFixed(0)} used +${((m.heapUsed - b.heapUsed) / MiB).toFixed(0)} ab +${((m.arrayBuffers - b.arrayBuffers) / MiB).toFixed(0)} ext +${((m.external - b.external) / MiB).toFixed(0)} new ${d('new')} old ${d('old')} lo ${d('large_object')} nlo ${d('new_large_object')} code ${d('code')}`);
};
const timer = setInterval(line, Number(process.env.PROBE_MS ?? 250));
t0 = Date.now();
if (process.env.PROBE_SNAPSHOT_AT) setTimeout(() => console.log(writeHeapSnapshot(process.env.PROBE_SNAPSHOT_FILE)), Number(process.env.PROBE_SNAPSHOT_AT));
const cpu = process.cpuUsage();
const report = await hearth.imports.runClaimed(instance, await hearth.imports.claim(instance, archive), (p) => {
  if (p.entries !== 100_000) return;
  console.log(`docs phase over at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (process.env.PROBE_DOCS_ONLY) process.exit(0);
});
clearInterval(timer);
const c = process.cpuUsage(cpu);
line();
console.log(`done ${((Date.now() - t0) / 1000).toFixed(1)} s, cpu ${((c.user + c.system) / 1e6).toFixed(1)} s, docs ${report.docs} files ${report.files} skipped ${report.skipped_count}, peak rss growth ${((peak - b.rss) / MiB).toFixed(0)} MB, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
await hearth.close();
