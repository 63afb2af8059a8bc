/**
 * Summarises a V8 .cpuprofile (from `BENCH_PROFILE=1 npm run bench`, which starts Hearth with
 * --cpu-prof): the functions with the most self time, the same grouped by file or package, and
 * the heaviest "inclusive" frames from the repository's own sources.
 * `node --import tsx bench/profile-top.ts bench/profiles/<file>.cpuprofile [top=25]`
 */
import { label, loadProfile, short, type Node } from './cpuprofile.js';

const file = process.argv[2];
if (!file) throw new Error('usage: profile-top.ts <file.cpuprofile> [top]');
const top = Number(process.argv[3] ?? 25);
const { prof, byId, parent } = loadProfile(file);

// self time per node from the samples and their time deltas (µs)
const selfUs = new Map<number, number>();
prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const pkg = (n: Node) => {
  const s = short(n.callFrame.url);
  if (!n.callFrame.url) return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native/builtin)';
  if (s.startsWith('node:')) return s;
  if (/^(src|test|bench)\//.test(s)) return s;
  const parts = s.split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? s);
};

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const selfByLabel = new Map<string, number>();
const selfByPkg = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  if (!n) continue;
  add(selfByLabel, label(n), us);
  add(selfByPkg, pkg(n), us);
}
// inclusive time of the repository's own functions (each counted once per sample)
const inclusive = new Map<string, number>();
prof.samples.forEach((id, i) => {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur);
    if (!n || !/\/(src)\//.test(n.callFrame.url)) continue;
    const l = label(n);
    if (!seen.has(l)) {
      seen.add(l);
      add(inclusive, l, prof.timeDeltas[i] ?? 0);
    }
  }
});

const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
  }
};
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
print('self time by function', selfByLabel);
print('self time by file / package', selfByPkg);
print('inclusive time, src/ functions', inclusive);
