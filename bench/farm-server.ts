/**
 * Hearth in its own process for the farm benchmark (farm.bench.ts), driven over IPC; it measures itself
 * while it works: the longest event-loop stall (perf_hooks monitorEventLoopDelay), the peak RSS and the
 * peak number of open descriptors (sampled every 100 ms), phase by phase.
 * `node bench/farm-server.js <dataDir>` (compiled like the other servers); prints one JSON line {port, pid}.
 * Messages: {cmd: 'phase'} starts a measured phase; {cmd: 'create', from, to} creates instances
 * farm<from>…farm<to-1>.example.net and answers their CLI tokens; {cmd: 'housekeep'} marks every
 * instance due for both cleaning jobs (20,000 jobs for 10,000 instances, the issue's hourly round)
 * and runs the rounds back to back until none is left, then waits for the jobs to finish;
 * {cmd: 'stop'} closes. BENCH_FARM_DOCS_URL=postgres://… puts its state on that PostgreSQL (docs.engine postgres);
 * BENCH_SCHEMAS=runtime compiles the route schemas on first use instead of loading the build's code (bench/first-use.ts). Each answer carries the phase's measures.
 * Started with --cpu-prof (BENCH_PROFILE=1), it also writes stalls-<pid>.json beside the profile: each event-loop stall
 * over 30 ms as [from, to] in µs of the monotonic clock the profile's timestamps use, and each garbage collection over
 * 10 ms; bench/profile-stalls.ts then says what ran during each stall.
 */
import Database from 'better-sqlite3';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { pino } from 'pino';
import { createHearth } from '../src/server/compose.js';
import { watchCoreStalls } from './core-stalls.js';
import { testConfig } from '../test/helpers/hearth.js';

const dataDir = process.argv[2];
if (!dataDir || !process.send) throw new Error('usage: farm-server.js <dataDir>, with an IPC channel');
const send = (msg: unknown) => process.send!(msg);
const config = testConfig(dataDir);
// farm.bench.ts with BENCH_FARM_ENGINES=…,postgres: the documents (and the registry, jobs, sessions) on this PostgreSQL
if (process.env.BENCH_FARM_DOCS_URL) config.docs = { engine: 'postgres', url: process.env.BENCH_FARM_DOCS_URL, poolSize: 10 };
// bench/first-use.ts: the route schemas compiled on first use (as before the build compiled them), not loaded from the build
if (process.env.BENCH_SCHEMAS === 'runtime') config.server.precompiledSchemas = false;
const hearth = await createHearth(config, pino({ level: 'silent' }));
await hearth.publicApp.listen({ host: '127.0.0.1', port: 0 });
const port = (hearth.publicApp.server.address() as AddressInfo).port;

const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
// the same stalls, by the main thread's time on a core (bench/core-stalls.ts): `maxStallCpuMs`
const stallCpu = watchCoreStalls();
// garbage collection, always watched: the phase's longest pause, and how much of its worst stall on a core was collection
// (the pauses of the last 10 s, [start, duration, kind] in performance.now() ms)
const GC_KINDS: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weak callbacks' };
let gcs: Array<[number, number, number]> = [];
let longestGc: [number, number] = [0, 0];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail: { kind: number } }).detail.kind;
    gcs.push([e.startTime, e.duration, kind]);
    if (e.duration > longestGc[0]) longestGc = [e.duration, kind];
  }
  const now = performance.now();
  if (gcs.length > 1000) gcs = gcs.filter(([at]) => at > now - 10_000);
}).observe({ entryTypes: ['gc'] });
/** The collections inside a stall: their total and each one's kind and pause (ms). */
const gcInside = (end: number, wall: number) => {
  const inside = gcs.filter(([at, ms]) => at < end && at + ms > end - wall);
  return { ms: inside.reduce((sum, [, ms]) => sum + ms, 0), kinds: inside.map(([, ms, k]) => `${GC_KINDS[k] ?? k} ${ms.toFixed(1)}`).join(', ') };
};
// read while the collections of the phase's top stalls are still in `gcs` (the last 10 s), kept by the stall's end
const gcOfStall = new Map<number, { ms: number; kinds: string }>();
const gcInWorstStall = () => {
  const { top } = stallCpu.read();
  for (const s of top) if (!gcOfStall.has(s.end)) gcOfStall.set(s.end, gcInside(s.end, s.wall));
  return gcOfStall.get(top[0]?.end ?? -1) ?? { ms: 0, kinds: '' };
};
/** The phase's top stalls on a core: "cpu/wall ms [collections inside]". */
const topStalls = () => {
  gcInWorstStall();
  return stallCpu.read().top.map((s) => `${s.cpu.toFixed(1)}/${s.wall.toFixed(1)} ms [${gcOfStall.get(s.end)?.kinds || 'no GC'}]`);
};
setInterval(gcInWorstStall, 500).unref();
let peak = { rss: 0, fds: 0, newSpace: 0 };
let started = performance.now();
const sample = () => {
  peak = {
    rss: Math.max(peak.rss, process.memoryUsage.rss()), fds: Math.max(peak.fds, readdirSync('/proc/self/fd').length),
    newSpace: Math.max(peak.newSpace, getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0),
  };
};
setInterval(sample, 100).unref();
const measures = () => {
  sample();
  return {
    seconds: (performance.now() - started) / 1000, maxStallMs: delay.max / 1e6, p99StallMs: delay.percentile(99) / 1e6,
    maxStallCpuMs: stallCpu.read().max, wallOfMaxCpuStallMs: stallCpu.read().wallOfMax,
    gcInMaxCpuStall: gcInWorstStall(), topStalls: topStalls(), longestGcMs: longestGc[0], longestGcKind: GC_KINDS[longestGc[1]] ?? String(longestGc[1]),
    peakRssMB: peak.rss / 1048576, peakNewSpaceMB: peak.newSpace / 1048576, rssMB: process.memoryUsage.rss() / 1048576, peakFds: peak.fds, fds: readdirSync('/proc/self/fd').length,
    openStores: hearth.openStores(),
  };
};
const phase = () => {
  delay.reset();
  stallCpu.reset();
  longestGc = [0, 0];
  gcOfStall.clear();
  peak = { rss: 0, fds: 0, newSpace: 0 };
  started = performance.now();
};

// with --cpu-prof: the stalls and long collections, in the profile's clock (µs), for bench/profile-stalls.ts
const profileDir = process.execArgv.find((a) => a.startsWith('--cpu-prof-dir='))?.slice('--cpu-prof-dir='.length);
const stalls: { stalls: Array<[number, number]>; gcs: Array<[number, number, number]> } = { stalls: [], gcs: [] };
if (profileDir) {
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  let last = nowUs();
  setInterval(() => {
    const now = nowUs();
    if (now - last > 30_000) stalls.stalls.push([last, now]);
    last = now;
  }, 2).unref();
  new PerformanceObserver((list) => {
    const offsetUs = nowUs() - performance.now() * 1000;
    for (const e of list.getEntries()) {
      if (e.duration > 10) stalls.gcs.push([offsetUs + e.startTime * 1000, e.duration, (e as unknown as { detail: { kind: number } }).detail.kind]);
    }
  }).observe({ entryTypes: ['gc'] });
}
const writeStalls = () => {
  if (profileDir) writeFileSync(join(profileDir, `stalls-${process.pid}.json`), JSON.stringify(stalls));
};

// opened on the first housekeeping round only (on PostgreSQL there is no jobs.sqlite; that mode runs no housekeeping)
let jobsDb: Database.Database | null = null;
const states = () => Object.fromEntries(((jobsDb ??= new Database(join(dataDir, 'jobs.sqlite'), { readonly: true })).prepare(
  "SELECT state, count(*) AS n FROM jobs WHERE worker IN ('clean-clients', 'clean-old-trashed') GROUP BY state",
).all() as Array<{ state: string; n: number }>).map((r) => [r.state, r.n]));

async function create(from: number, to: number): Promise<Array<{ domain: string; token: string }>> {
  const out: Array<{ domain: string; token: string }> = [];
  for (let i = from; i < to; i++) {
    const instance = await hearth.registry.create({ domain: `farm${i}.example.net` });
    out.push({ domain: instance.domain, token: await hearth.tokens.issue(instance, { aud: 'cli', sub: 'bench', scope: 'io.cozy.bench' }) });
    await yieldToLoop(); // an admin creating instances one request at a time
  }
  return out;
}

async function housekeep(): Promise<Record<string, unknown>> {
  const hk = hearth.jobs.housekeeping;
  let marked = 0;
  for (let after: string | undefined; ;) {
    const page = await hearth.registry.page({ limit: 500, ...(after ? { after } : {}) });
    for (const instance of page) {
      hk.mark(instance, 'clean-clients', Date.now() - 3_600_000);
      hk.mark(instance, 'clean-old-trashed', Date.now() - 3_600_000);
      marked += 2;
    }
    await yieldToLoop();
    if (page.length < 500) break;
    after = page[page.length - 1]!.domain;
  }
  let queued = 0;
  const queueStart = performance.now();
  for (let n = -1; n !== 0; queued += n) n = await hk.run(Date.now(), 100);
  const queueSeconds = (performance.now() - queueStart) / 1000;
  for (;;) {
    const s = states();
    if (!s.queued && !s.running) return { marked, queued, queueSeconds, states: s };
    await new Promise((r) => setTimeout(r, 200));
  }
}

process.on('message', (raw) => {
  const msg = raw as { cmd: string; from?: number; to?: number };
  const reply = (result: unknown) => send({ cmd: msg.cmd, result, measures: measures() });
  const fail = (err: unknown) => send({ cmd: msg.cmd, error: String((err as Error).stack ?? err) });
  if (msg.cmd === 'phase') return reply(phase());
  if (msg.cmd === 'measure') return reply(null);
  if (msg.cmd === 'create') return void create(msg.from!, msg.to!).then(reply, fail);
  if (msg.cmd === 'housekeep') return void housekeep().then(reply, fail);
  if (msg.cmd === 'stop') return void hearth.close().then(() => { jobsDb?.close(); writeStalls(); reply(null); process.exit(0); }, fail);
});
process.stdout.write(JSON.stringify({ port, pid: process.pid }) + '\n');
