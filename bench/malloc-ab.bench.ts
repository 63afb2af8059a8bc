/**
 * A/B of glibc's malloc thresholds fixed (at 128 KiB, or each of BENCH_AB_THRESHOLDS) (src/common/malloc-trim.ts, `fixMallocThresholds`, which `hearth
 * serve` applies 1 s after it listens) against glibc's own dynamic thresholds, on the same build in one run:
 * `node --import tsx bench/malloc-ab.bench.ts` (about 4 minutes; BENCH_AB_ROUNDS, BENCH_AB_MS). Two bench/hearth-server.ts
 * processes (one with BENCH_MALLOC_FIX=1), each workload run on both in turn, the order swapped each round (A B, B A…):
 *   - create: POST /data of a small document, 16 clients;
 *   - read: GET /data of one of 1,000 documents, 16 clients;
 *   - large doc: PUT /data of a 512 KiB document (new id each time), 4 clients;
 *   - upload: POST /files of 8 MiB, 2 clients.
 * BENCH_AB_VARIANTS (JSON, name → environment) compares those servers instead (see below).
 * Reports the median ops/s per workload and server (its range over the rounds) and the server's CPU per op. Written to
 * stdout; bench/RESULTS-idle.md quotes it by hand.
 */
import { Agent } from 'node:http';
import { loadavg } from 'node:os';
import { children, fmtMs, fmtOps, killChildren, log, machine, medianRun, procCpuMs, runLoad, send, startChild, stopChild, type Stats } from './lib.js';

const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 4);
const MS = Number(process.env.BENCH_AB_MS ?? 4000);
process.on('exit', killChildren);

interface Side { name: string; pid: number; port: number; domain: string; token: string; filesToken: string; agent: Agent }
async function start(name: string, env: Record<string, string>): Promise<Side & { stop(): Promise<void>; stderr(): string }> {
  const c = await startChild(name.replace(/[^a-z0-9]+/gi, '-'), 'hearth-server.ts', [], [], 60_000, env);
  const l = c.line as { port: number; domain: string; token: string; filesToken: string };
  return { name, pid: c.proc.pid!, ...l, agent: new Agent({ keepAlive: true, maxSockets: 16 }), stop: () => stopChild(c.proc, c.dir), stderr: () => c.stderr.join('') };
}

const call = (s: Side, method: string, path: string, body?: Buffer, token = s.token, type = 'application/json') =>
  send({ port: s.port, method, path, agent: s.agent, body, headers: { host: s.domain, authorization: `Bearer ${token}`, 'content-type': type } });

const bigValue = 'x'.repeat(512 * 1024);
const upload = Buffer.alloc(8 * 1024 * 1024, 7);
let seq = 0;
const allWorkloads: Record<string, { concurrency: number; op: (s: Side, i: number) => Promise<boolean> }> = {
  create: { concurrency: 16, op: async (s, i) => (await call(s, 'POST', '/data/io.cozy.bench.ab/', Buffer.from(JSON.stringify({ i, name: `document ${i}`, tags: ['a', 'b'] })))).status === 201 },
  read: { concurrency: 16, op: async (s, i) => (await call(s, 'GET', `/data/io.cozy.bench.read/doc-${i % 1000}`)).status === 200 },
  'large doc': { concurrency: 4, op: async (s) => (await call(s, 'PUT', `/data/io.cozy.bench.big/big-${seq++}`, Buffer.from(JSON.stringify({ value: bigValue })))).status < 300 },
  upload: { concurrency: 2, op: async (s) => (await call(s, 'POST', `/files/io.cozy.files.root-dir?Type=file&Name=up-${seq++}.bin`, upload, s.filesToken, 'application/octet-stream')).status === 201 },
};

const THRESHOLDS = (process.env.BENCH_AB_THRESHOLDS ?? '131072').split(',');
const only = process.env.BENCH_AB_WORKLOADS?.split(',');
const workloads = Object.fromEntries(Object.entries(allWorkloads).filter(([w]) => !only || only.includes(w)));
// BENCH_AB_VARIANTS='{"name": {environment}}': the servers compared are these (e.g. {"NODE_OPTIONS": "--max-semi-space-size=4"}),
// both with the thresholds fixed as hearth serve has them, instead of the thresholds
const variants = process.env.BENCH_AB_VARIANTS ? Object.entries(JSON.parse(process.env.BENCH_AB_VARIANTS) as Record<string, Record<string, string>>) : null;
const sides = variants
  ? await Promise.all(variants.map(([name, env]) => start(name, { BENCH_MALLOC_FIX: '1', ...env })))
  : [await start('dynamic', {}), ...await Promise.all(THRESHOLDS.map((t) => {
    const [mmap, trim = mmap] = t.split('/') as [string, string?];
    return start(`fixed ${Number(mmap) / 1024}${trim === mmap ? '' : `/${Number(trim) / 1024}`} KiB`, { BENCH_MALLOC_FIX: '1', BENCH_MALLOC_THRESHOLD: mmap, BENCH_MALLOC_TRIM: trim });
  }))];
await new Promise((r) => setTimeout(r, 1500)); // the fix is applied 1 s after listening, as hearth serve does
for (const s of variants ? sides : sides.slice(1)) if (!s.stderr().includes('malloc thresholds fixed: true')) throw new Error(`the thresholds were not fixed: ${s.stderr()}`);
for (const s of sides) {
  for (let i = 0; i < 1000; i++) {
    const res = await call(s, 'PUT', `/data/io.cozy.bench.read/doc-${i}`, Buffer.from(JSON.stringify({ i, name: `document ${i}` })));
    if (res.status >= 300) throw new Error(`${s.name}: seeding answered ${res.status} ${res.body.toString().slice(0, 200)}`);
  }
}
const runs = new Map<string, Array<Stats & { cpuPerOp: number }>>();
const loads: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const [w, { concurrency, op }] of Object.entries(workloads)) {
    for (const s of round % 2 ? [...sides].reverse() : sides) {
      loads.push(loadavg()[0]!);
      const cpu0 = procCpuMs(s.pid);
      const stats = await runLoad({ concurrency, durationMs: MS, warmupMs: 500, op: (i) => op(s, i) });
      const cpuPerOp = (procCpuMs(s.pid) - cpu0) / stats.ops;
      runs.set(`${w}|${s.name}`, [...(runs.get(`${w}|${s.name}`) ?? []), { ...stats, cpuPerOp }]);
      log(`round ${round} ${w} ${s.name}: ${fmtOps(stats.opsPerSec)} ops/s, p50 ${fmtMs(stats.p50)} ms, server CPU ${fmtMs(cpuPerOp)} ms/op${stats.errors ? `, ${stats.errors} errors: ${stats.note}` : ''}`);
    }
  }
}
for (const s of sides) await s.stop();
const lines = ['', `${machine()}; ${ROUNDS} rounds of ${MS / 1000} s per workload and server, load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`, '',
  `| workload | ${sides.map((s) => `${s.name}: ops/s (range), server CPU per op`).join(' | ')} | ${sides.slice(1).map((s) => `${s.name} / dynamic, CPU per op`).join(' | ')} |`,
  `|---|${sides.map(() => '---|').join('')}${sides.slice(1).map(() => '---|').join('')}`];
const cpu = (rs: Array<{ cpuPerOp: number }>) => rs.map((r) => r.cpuPerOp).sort((x, y) => x - y)[Math.floor(rs.length / 2)]!;
const range = (m: Stats) => (m.range ? ` (${fmtOps(m.range[0])}-${fmtOps(m.range[1])})` : '');
for (const w of Object.keys(workloads)) {
  const rs = sides.map((s) => runs.get(`${w}|${s.name}`)!);
  const cells = rs.map((r) => `${fmtOps(medianRun(r)!.opsPerSec)}${range(medianRun(r)!)}, ${fmtMs(cpu(r))} ms`);
  const ratios = rs.slice(1).map((r) => `${(cpu(r) / cpu(rs[0]!)).toFixed(2)}`);
  lines.push(`| ${w} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
}
process.stdout.write(lines.join('\n') + '\n');
children.clear();
