/**
 * What ran during each event-loop stall of a profiled farm server (`BENCH_PROFILE=1` runs bench/farm-server.ts with
 * --cpu-prof; it writes the stalls it saw, and its long garbage collections, to stalls-<pid>.json beside the profile):
 * for each stall, the functions that took most of it (self time) and the heaviest frames of the repository's own
 * sources (inclusive), and the collections that overlapped it, so a stall is attributed to garbage collection,
 * SQLite, a loop of our own… rather than guessed.
 * `node --import tsx bench/profile-stalls.ts bench/profiles/<file>.cpuprofile bench/profiles/stalls-<pid>.json [top=6]`;
 * BENCH_STALLS_BY=samples sorts them by their samples (the time on a core) rather than their wall time, and
 * BENCH_STALLS_FROM / BENCH_STALLS_TO (s since the profile's start) keep those of one phase.
 */
import { readFileSync } from 'node:fs';
import { label, loadProfile } from './cpuprofile.js';

const [file, stallsFile] = process.argv.slice(2);
if (!file || !stallsFile) throw new Error('usage: profile-stalls.ts <file.cpuprofile> <stalls-pid.json> [top]');
const top = Number(process.argv[4] ?? 6);
const { prof, byId, parent } = loadProfile(file);
interface Stretch { startMs: number; ms: number; gcs: string[]; samples: Array<[number, number]> }
const log = JSON.parse(readFileSync(stallsFile, 'utf8')) as { stalls: Array<[number, number]>; gcs: Array<[number, number, number]> };
const GC_KINDS: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weak callbacks' };
const stretches: Stretch[] = log.stalls.map(([from, to]) => ({
  startMs: (from - prof.startTime) / 1000, ms: (to - from) / 1000, samples: [],
  gcs: log.gcs.filter(([at, ms]) => at < to && at + ms * 1000 > from).map(([, ms, kind]) => `${GC_KINDS[kind] ?? kind} ${ms.toFixed(1)} ms`),
}));
let t = prof.startTime;
prof.samples.forEach((id, i) => {
  const dt = prof.timeDeltas[i] ?? 0;
  t += dt;
  for (const s of stretches) {
    const from = prof.startTime + s.startMs * 1000;
    if (t > from && t <= from + s.ms * 1000) s.samples.push([id, dt / 1000]);
  }
});

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const topOf = (m: Map<string, number>, ms: number) =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `    ${((100 * v) / ms).toFixed(0).padStart(3)} %  ${k}`).join('\n');

const from = Number(process.env.BENCH_STALLS_FROM ?? 0) * 1000;
const to = Number(process.env.BENCH_STALLS_TO ?? Infinity) * 1000;
const bySamples = process.env.BENCH_STALLS_BY === 'samples';
const kept = stretches.filter((s) => s.startMs >= from && s.startMs <= to);
console.log(`${file}: ${kept.length} stall(s) over 30 ms, the ${bySamples ? 'most sampled' : 'longest'} 20 below`);
for (const s of kept.sort((a, b) => (bySamples ? b.samples.length - a.samples.length : 0) || b.ms - a.ms).slice(0, 20)) {
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, dt] of s.samples) {
    add(self, label(byId.get(id)!), dt);
    const seen = new Set<string>();
    for (let c: number | undefined = id; c !== undefined; c = parent.get(c)) {
      const n = byId.get(c)!;
      if (!/\/src\//.test(n.callFrame.url)) continue;
      const l = label(n);
      if (!seen.has(l)) add(inclusive, l, dt);
      seen.add(l);
    }
  }
  console.log(`\n${s.ms.toFixed(1)} ms stall at ${(s.startMs / 1000).toFixed(2)} s (${s.samples.length} samples; collections: ${s.gcs.join(', ') || 'none over 10 ms'})\n  self:\n${topOf(self, s.ms)}\n  src/ inclusive:\n${topOf(inclusive, s.ms)}`);
}
