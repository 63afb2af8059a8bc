/**
 * A probe of the import's memory (issue 17), by hand, not part of `npm run bench`: imports an archive kept by
 * bench/import.bench.ts (BENCH_IMPORT_KEEP=<file>, then BENCH_IMPORT_ARCHIVE=<file> here) into a new instance of a
 * `hearth serve` of this build (bench/import-server.ts, build first) and prints the server's memory every PROBE_MS
 * (1000 ms; sampled every 250 ms): seconds, then MB over the baseline: RSS, V8's new space, old space, heap used,
 * array buffers, external; then its peak RSS growth, time and CPU. PROBE_NODE_FLAGS: node flags for the server (e.g.
 * `--max-semi-space-size=4`); PROBE_ENV: HEARTH_* settings for it, as `K=V,K=V`.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { importServed } from './import-server.js';
import { tempDir } from './lib.js';

const archive = process.env.BENCH_IMPORT_ARCHIVE;
if (!archive) throw new Error('BENCH_IMPORT_ARCHIVE=<an archive kept by bench/import.bench.ts> is needed');
const dir = tempDir('hearth-probe-import-');
const flags = (process.env.PROBE_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
const env = Object.fromEntries((process.env.PROBE_ENV ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const loadStart = load();
const r = await importServed(join(dir, 'data'), 'probe-import.localhost', archive, flags, env);
const every = Math.max(1, Math.round(Number(process.env.PROBE_MS ?? 1000) / 250));
console.log('s\trss\tnew\told\tused\tab\text');
for (const [i, row] of r.series.entries()) if (i % every === 0) console.log(row.join('\t'));
const f0 = (n: number) => n.toFixed(0);
console.log(`flags ${flags.join(' ') || '-'}; done ${r.seconds.toFixed(1)} s, cpu ${r.cpuSeconds.toFixed(1)} s, docs ${r.report.docs} files ${r.report.files} skipped ${r.report.skipped_count}; ` +
  `peak RSS growth ${f0(r.peakGrowth)} MB (before ${f0(r.rssBefore)}); at the largest sample: malloc ${f0(r.sampled.mallocHeaps)}, other anon ${f0(r.sampled.otherAnon)}; ` +
  `own: heap ${f0(r.own.heapTotal)} (new ${f0(r.own.newSpace)}, old ${f0(r.own.oldSpace)}), array buffers ${f0(r.own.arrayBuffers)}; load ${loadStart} -> ${load()}`);
