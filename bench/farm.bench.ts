/**
 * `npm run bench`, fifth part: a farm of 10,000 instances on one Hearth process, and start-up.
 *   - farm (bench/farm-server.ts, under `prlimit --nofile=1024`, the usual default): create the instances,
 *     touch each once over HTTP (a durable PUT on /data, which opens its database), a few /status, then
 *     housekeeping as the issue's hourly round (every instance due for both cleaning jobs: 20,000 jobs);
 *     for each phase the server reports its longest event-loop stall, peak RSS and peak descriptors;
 *   - start-up: `hearth serve` (compiled and bundled, as bin/hearth.js runs it: scripts/bundle.mjs) from process
 *     start to its first 200 on /status, with 0 and with the farm's instances, then its idle RSS; pouchdb-server's
 *     start-up beside it.
 * Writes bench/RESULTS-farm.md. Knobs: BENCH_QUICK=1 (1,000 instances, no results file), BENCH_FARM_INSTANCES,
 * BENCH_PROFILE=1 (the farm server runs with --cpu-prof into bench/profiles/; then bench/profile-top.ts),
 * BENCH_STARTUP_ONLY=1 (only create the instances, then the start-ups, each beside the first start after a build (no V8 code
 * cache yet) and one with the route schemas compiled at run time, and the first use of /data's routes both ways,
 * bench/first-use.ts: about 6 minutes, writes bench/RESULTS-startup.md; BENCH_STARTUP_BEFORE=<a built checkout> adds the
 * start-ups of its bin/hearth.js, in turn with the others),
 * BENCH_STARTS (starts per row, 3 by default), BENCH_FARM_NODE_FLAGS (Node's flags for the farm server, e.g. V8's GC flags to compare),
 * BENCH_IDLE_USED=1 (the idle memory of a used farm: `hearth serve` on the instances, each touched once, then read after
 * BENCH_IDLE_AT seconds idle, "5,30,70" by default; BENCH_IDLE_BEFORE=<a built checkout> runs its bin/hearth.js beside;
 * BENCH_IDLE_VARIANTS='{"name": {environment}}' runs each beside; BENCH_IDLE_TRIM_PROBE=1 adds the RSS after one more
 * malloc_trim at each reading; the memory by kind: bench/memory-probe.ts;
 * bench/RESULTS-idle.md is written by hand from its output),
 * BENCH_FARM_ENGINES=sqlite,postgres (the farm on each document engine, side by side: bench/farm-engines.ts, writes
 * bench/RESULTS-farm-pg.md; `npm run bench` runs it as the suite farm-pg).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { hash } from '@node-rs/argon2';
import { storesFor } from '../src/data/sqlite/fd-limit.js';
import { ENGINES, engineFarms, type Farm, type Measures } from './farm-engines.js';
import { firstUse, firstUseTable } from './first-use.js';
import { memoryOf } from './memory-probe.js';
import { BENCH_DIR, buildServers, children, fmtMs, gitInfo, killChildren, log, machine, percentile, procCpuMs, rssMB, send, tempDir } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const N = Number(process.env.BENCH_FARM_INSTANCES ?? (QUICK ? 1000 : 10_000));
const NOFILE = 1024;
const CONCURRENCY = 16;
const STARTS = Number(process.env.BENCH_STARTS ?? 3);
const PROFILE = process.env.BENCH_PROFILE === '1';
const STARTUP_ONLY = process.env.BENCH_STARTUP_ONLY === '1';


async function startFarm(opts: { dir?: string; docsUrl?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Farm> {
  const out = buildServers();
  const dir = opts.dir ?? tempDir('bench-farm-');
  const proc = spawn('prlimit', [`--nofile=${NOFILE}`, process.execPath,
    ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(BENCH_DIR, 'profiles')}`] : []),
    ...(process.env.BENCH_FARM_NODE_FLAGS ?? '').split(' ').filter(Boolean), join(out, 'bench', 'farm-server.js'), dir], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: { ...process.env, NODE_ENV: 'production', ...(opts.docsUrl ? { BENCH_FARM_DOCS_URL: opts.docsUrl } : {}), ...opts.env },
  });
  children.add(proc);
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', (line) => resolve(JSON.parse(line) as { port: number }));
    proc.once('exit', (code) => reject(new Error(`the farm server exited with ${code}`)));
  });
  const call = (cmd: string, extra: object = {}) => new Promise<{ result: unknown; measures: Measures }>((resolve, reject) => {
    const onMessage = (raw: unknown) => {
      const msg = raw as { cmd: string; result: unknown; measures: Measures; error?: string };
      if (msg.cmd !== cmd) return;
      proc.off('message', onMessage);
      if (msg.error) reject(new Error(msg.error));
      else resolve(msg);
    };
    proc.on('message', onMessage);
    proc.send({ cmd, ...extra });
  });
  return { proc, port, dir, call };
}

async function touchAll(farm: Farm, instances: Array<{ domain: string; token: string }>, id = 'touched'): Promise<{ lat: Float64Array; failed: Record<number, number> }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const lat: number[] = [];
  const failed: Record<number, number> = {};
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let i = next++; i < instances.length; i = next++) {
      const { domain, token } = instances[i]!;
      const t = performance.now();
      const res = await send({
        port: farm.port, method: 'PUT', path: `/data/io.cozy.bench/${id}`, agent, body: Buffer.from(JSON.stringify({ i })),
        headers: { host: domain, authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
      lat.push(performance.now() - t);
      if (res.status !== 200) failed[res.status] = (failed[res.status] ?? 0) + 1;
    }
  }));
  agent.destroy();
  return { lat: Float64Array.from(lat).sort(), failed };
}

async function statusLatency(port: number, times: number): Promise<Float64Array> {
  const agent = new Agent({ keepAlive: true });
  const lat: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    const res = await send({ port, method: 'GET', path: '/status', headers: { host: 'status.example.net' }, agent });
    if (res.status !== 200) throw new Error(`/status answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
    lat.push(performance.now() - t);
  }
  agent.destroy();
  return Float64Array.from(lat).sort();
}

const get200 = (port: number, path: string) => new Promise<boolean>((resolve) => {
  const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, headers: { host: 'status.example.net' } }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode === 200));
  });
  req.on('error', () => resolve(false));
  req.end();
});

interface Start { ms: number; cpuMs: number; idleRssMB: number; minCpuMs?: number }

/** From spawn to the first 200 on `path` (wall time, and the CPU time the process used by then), then the RSS after 5 s idle. */
async function timeStart(args: string[], port: number, path: string, env: NodeJS.ProcessEnv = {}): Promise<Start> {
  const t0 = performance.now();
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_ENV: 'production', ...env } });
  children.add(proc);
  const exited = new Promise((r) => proc.once('exit', r));
  while (!(await get200(port, path))) {
    if (proc.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${proc.exitCode}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const ms = performance.now() - t0;
  const cpuMs = procCpuMs(proc.pid!);
  await new Promise((r) => setTimeout(r, 5000));
  const idleRssMB = rssMB(proc.pid!).rss;
  proc.kill('SIGTERM');
  await exited;
  children.delete(proc);
  return { ms, cpuMs, idleRssMB };
}

/**
 * One way to start `hearth serve`: this build with `env`, or `bin` (another checkout's bin/hearth.js); `coldCache` removes
 * this build's V8 code cache first (src/server/bundle-loader.ts): a start that compiles the whole start path and writes the
 * cache, as the first start after a build did before the build's warm-up start (scripts/warm-code-cache.mjs) wrote it.
 */
interface Way { env?: NodeJS.ProcessEnv; bin?: string; coldCache?: boolean }

/** `runs` starts of `hearth serve` on `dataDir` each way, the ways in turn and their order rotating each round; the medians. */
async function startups(dataDir: string, runs: number, ways: Way[] = [{}]): Promise<Start[]> {
  // bin/hearth.js's way: the bundled CLI read, the flags, then run (bench/hearth-main.ts)
  const out = buildServers();
  const bundle = join(out, 'dist', 'bundle', 'hearth.cjs');
  if (!existsSync(bundle)) execFileSync(process.execPath, [join(BENCH_DIR, '..', 'scripts', 'bundle.mjs'), join(out, 'src', 'main.js'), bundle], { stdio: 'inherit' });
  const entry = join(out, 'bench', 'hearth-main.js');
  const passphraseHash = await hash('bench-admin-passphrase');
  const results: Start[][] = ways.map(() => []);
  for (let i = 0; i < runs; i++) {
    // the first start of a round was slower whatever it was: each way takes its turn first
    for (let w = 0; w < ways.length; w++) {
      const k = (i + w) % ways.length;
      const { env = {}, bin, coldCache } = ways[k]!;
      if (coldCache) rmSync(`${bundle}.cache`, { force: true });
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      results[k]!.push(await timeStart([bin ?? entry, 'serve', '--data-dir', dataDir, '--port', String(port), '--admin-port', String(port + 1), '--log-level', 'silent'],
        port, '/status', { HEARTH_ADMIN_PASSPHRASE_HASH: passphraseHash, HEARTH_MAIL_MODE: 'outbox', ...env }));
    }
  }
  return results.map(median);
}

async function pouchStartups(runs: number): Promise<Start> {
  const out = buildServers();
  const results: Start[] = [];
  for (let i = 0; i < runs; i++) {
    // pouchdb-server picks its port (0) and prints it: wait for that line, then for its first 200
    const dir = tempDir('bench-pouch-start-');
    const t0 = performance.now();
    const proc = spawn(process.execPath, [join(out, 'bench', 'pouchdb-server.js'), dir, BENCH_DIR], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
    children.add(proc);
    const exited = new Promise((r) => proc.once('exit', r));
    const { port } = await new Promise<{ port: number }>((resolve) => createInterface({ input: proc.stdout! }).once('line', (l) => resolve(JSON.parse(l) as { port: number })));
    while (!(await get200(port, '/'))) await new Promise((r) => setTimeout(r, 5));
    const ms = performance.now() - t0;
    const cpuMs = procCpuMs(proc.pid!);
    await new Promise((r) => setTimeout(r, 5000));
    results.push({ ms, cpuMs, idleRssMB: rssMB(proc.pid!).rss });
    proc.kill('SIGTERM');
    await exited;
    children.delete(proc);
  }
  return median(results);
}

function median(rs: Start[]): Start {
  const pick = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { ms: pick(rs.map((r) => r.ms)), cpuMs: pick(rs.map((r) => r.cpuMs)), idleRssMB: pick(rs.map((r) => r.idleRssMB)), minCpuMs: Math.min(...rs.map((r) => r.cpuMs)) };
}

/** The start-up table: median of the starts, and the least CPU time one of them took (the least disturbed by the machine's load). */
function startupTable(rows: Array<[string, Start]>): string[] {
  return [
    `## Start-up (median of ${STARTS} starts each)`,
    '',
    '| server | first 200 after process start | CPU time used by then (median, least) | idle RSS 5 s later |',
    '|---|---|---|---|',
    ...rows.map(([name, s]) => `| ${name} | ${fmtMs(s.ms)} ms | ${fmtMs(s.cpuMs)} ms, ${fmtMs(s.minCpuMs ?? s.cpuMs)} ms | ${s.idleRssMB.toFixed(0)} MB |`),
    '',
    'The CPU time (user + system, from /proc) is what the start costs the machine; on a shared machine the wall time',
    'also holds the time the process waited for a core.',
    '',
  ];
}

async function createFarm(docsUrl?: string): Promise<{ farm: Farm; instances: Array<{ domain: string; token: string }>; created: Measures }> {
  const farm = await startFarm(docsUrl ? { docsUrl } : {});
  await farm.call('phase');
  const instances: Array<{ domain: string; token: string }> = [];
  let created!: Measures;
  for (let from = 0; from < N; from += 500) {
    const r = await farm.call('create', { from, to: Math.min(N, from + 500) });
    instances.push(...(r.result as typeof instances));
    created = r.measures;
  }
  log(`created ${N} instances in ${created.seconds.toFixed(1)} s, longest stall ${fmtMs(created.maxStallMs)} ms (on a core ${fmtMs(created.maxStallCpuMs)} ms)`);
  return { farm, instances, created };
}

async function stopFarm(farm: Farm): Promise<void> {
  await farm.call('stop').catch(() => undefined);
  await new Promise((r) => farm.proc.exitCode !== null ? r(null) : farm.proc.once('exit', r));
  children.delete(farm.proc);
}

/** A checkout's commit, short hash and subject; its directory's name if it is no git checkout (an extracted `git archive`). */
function commitOf(dir: string): string {
  try {
    return execFileSync('git', ['-C', dir, 'log', '-1', '--format=%h %s'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().slice(0, 60);
  } catch {
    return basename(dir);
  }
}

/** BENCH_STARTUP_ONLY=1: the instances, then the start-ups only, into bench/RESULTS-startup.md. */
async function startupOnly(): Promise<void> {
  process.on('exit', killChildren);
  const t0 = Date.now();
  const load0 = (await import('node:os')).loadavg()[0]!;
  const { farm } = await createFarm();
  await stopFarm(farm);
  // each start-up beside one without a code cache (it writes it), one whose first GET /status compiles its
  // schemas, and with BENCH_STARTUP_BEFORE=<a built checkout> that checkout's bin/hearth.js
  const before = process.env.BENCH_STARTUP_BEFORE;
  const ways: Way[] = [{}, { coldCache: true }, { env: { HEARTH_SERVER_PRECOMPILED_SCHEMAS: 'false' } }, ...(before ? [{ bin: join(before, 'bin', 'hearth.js') }] : [])];
  const beforeName = before ? commitOf(before) : '';
  const rows = (n: number, [main, cold, runtime, old]: Start[]): Array<[string, Start]> => [
    [`Hearth \`hearth serve\`, ${n.toLocaleString('en')} instances (GET /status)`, main!],
    ['the same, without a code cache (it writes it: a start after a build without the warm-up start, scripts/warm-code-cache.mjs)', cold!],
    ['the same, schemas compiled at run time (`server.precompiledSchemas: false`)', runtime!],
    ...(old ? [[`the same, the earlier commit (${beforeName})`, old] as [string, Start]] : []),
  ];
  const empty = await startups(tempDir('bench-start-empty-'), STARTS, ways);
  const full = await startups(farm.dir, STARTS, ways);
  const first = await firstUse(startFarm, stopFarm, STARTS);
  const load1 = (await import('node:os')).loadavg()[0]!;
  const md = [
    '# Start-up benchmark (`BENCH_SUITES=farm BENCH_STARTUP_ONLY=1 npm run bench`, bench/farm.bench.ts)',
    '',
    `Run ${new Date().toISOString()} on ${machine()}; ${gitInfo()}; ${((Date.now() - t0) / 1000).toFixed(0)} s.`,
    `The machine is shared: its 1-minute load average was ${load0.toFixed(1)} at the start and ${load1.toFixed(1)} at the end (2 cores).`,
    '',
    ...startupTable([...rows(0, empty), ...rows(N, full)]),
    ...firstUseTable(first),
  ].join('\n');
  if (!QUICK) {
    writeFileSync(join(BENCH_DIR, 'RESULTS-startup.md'), md);
    process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-startup.md')}\n`);
  } else process.stdout.write(md);
  killChildren();
}

/** A port free now, and the next one (the admin port). */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const free = (p: number) => new Promise<boolean>((resolve) => {
      const s = createServer().once('error', () => resolve(false)).listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (await free(port) && await free(port + 1)) return port;
  }
}

/** `hearth serve` as bin/hearth.js runs it (bundled, its V8 flags first), on `dataDir`, once it answers 200 on /status. */
async function serve(dataDir: string, env: NodeJS.ProcessEnv = {}, bin?: string): Promise<{ proc: ReturnType<typeof spawn>; port: number; exited: Promise<unknown> }> {
  const out = buildServers();
  const bundle = join(out, 'dist', 'bundle', 'hearth.cjs');
  if (!existsSync(bundle)) execFileSync(process.execPath, [join(BENCH_DIR, '..', 'scripts', 'bundle.mjs'), join(out, 'src', 'main.js'), bundle], { stdio: 'inherit' });
  const port = await freePort();
  const proc = spawn('prlimit', [`--nofile=${NOFILE}`, process.execPath, bin ?? join(out, 'bench', 'hearth-main.js'), 'serve', '--data-dir', dataDir, '--port', String(port),
    '--admin-port', String(port + 1), '--log-level', 'silent'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production', HEARTH_ADMIN_PASSPHRASE_HASH: await hash('bench-admin-passphrase'), HEARTH_MAIL_MODE: 'outbox', ...env },
  });
  children.add(proc);
  const exited = new Promise((r) => proc.once('exit', r));
  while (!(await get200(port, '/status'))) {
    if (proc.exitCode !== null) throw new Error(`hearth serve exited with ${proc.exitCode}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { proc, port, exited };
}

/**
 * BENCH_IDLE_USED=1: the idle RSS of a used farm. The instances are created, then `hearth serve` starts on them, each
 * instance is touched once over HTTP, and the RSS is read after the requests stop (BENCH_IDLE_AT, seconds). With
 * BENCH_IDLE_VARIANTS (JSON: name → environment), each variant runs beside the default, in turn.
 */
async function usedIdle(): Promise<void> {
  process.on('exit', killChildren);
  const { farm, instances } = await createFarm();
  await stopFarm(farm);
  const at = (process.env.BENCH_IDLE_AT ?? '5,30,70').split(',').map(Number);
  const before = process.env.BENCH_IDLE_BEFORE; // a built checkout of an earlier commit: its bin/hearth.js beside this one
  const variants: Array<[string, NodeJS.ProcessEnv, string?]> = [['this build', {}],
    ...Object.entries(JSON.parse(process.env.BENCH_IDLE_VARIANTS ?? '{}') as Record<string, NodeJS.ProcessEnv>),
    ...(before ? [[`before (${before})`, {}, join(before, 'bin', 'hearth.js')] as [string, NodeJS.ProcessEnv, string]] : [])];
  const results: string[] = [];
  for (let round = 0; round < Number(process.env.BENCH_IDLE_ROUNDS ?? 1); round++) {
    for (const [name, env, bin] of round % 2 ? [...variants].reverse() : variants) {
      const memFile = bin ? null : join(farm.dir, 'memory.json');
      const server = await serve(farm.dir, { ...env, ...(memFile ? { BENCH_MEMORY_FILE: memFile } : {}) }, bin);
      const pid = server.proc.pid!;
      const started = await memoryOf(pid, memFile);
      const t = performance.now();
      const touch = await touchAll({ ...farm, port: server.port }, instances, `touched-${round}-${variants.findIndex(([n]) => n === name)}`);
      const touchedAt = performance.now();
      log(`${name}: started: ${started}`);
      log(`${name}: touched ${instances.length} in ${((touchedAt - t) / 1000).toFixed(1)} s (failures ${JSON.stringify(touch.failed)}): ${await memoryOf(pid, memFile)}`);
      for (const s of at) {
        await new Promise((r) => setTimeout(r, Math.max(0, touchedAt + s * 1000 - performance.now())));
        const line = `| ${name} | ${s} s | ${await memoryOf(pid, memFile)} | ${(await import('node:os')).loadavg()[0]!.toFixed(1)} |`;
        log(line);
        results.push(line);
      }
      server.proc.kill('SIGTERM');
      await server.exited;
      children.delete(server.proc);
    }
  }
  process.stdout.write(['', '| server | idle for | memory | load |', '|---|---|---|---|', ...results, ''].join('\n'));
  killChildren();
}

const row = (name: string, m: Measures, extra = '') =>
  `| ${name} | ${m.seconds.toFixed(1)} s | ${fmtMs(m.maxStallMs)} ms | ${fmtMs(m.maxStallCpuMs)} ms (of ${fmtMs(m.wallOfMaxCpuStallMs)} ms) | ${gcCell(m)} | ${m.peakRssMB.toFixed(0)} MB | ${m.peakFds} | ${m.openStores} | ${extra} |`;
/** The collections inside the stall of the column before (ms each), and the phase's longest collection. */
const gcCell = (m: Measures) => `${m.gcInMaxCpuStall?.kinds || 'none'}; longest ${fmtMs(m.longestGcMs ?? 0)} ms (${m.longestGcKind ?? '?'})`;

async function main(): Promise<void> {
  process.on('exit', killChildren);
  const t0 = Date.now();
  const load0 = (await import('node:os')).loadavg()[0]!;
  log(`farm: ${N} instances, descriptors limited to ${NOFILE}`);
  const { farm, instances, created } = await createFarm();

  await farm.call('phase');
  const touch = await touchAll(farm, instances);
  const touched = (await farm.call('measure')).measures;
  log(`touch: longest stalls on a core: ${touched.topStalls?.join('; ')}; V8's new space up to ${touched.peakNewSpaceMB?.toFixed(0)} MB`);
  log(`touched each once in ${touched.seconds.toFixed(1)} s (p50 ${fmtMs(percentile(touch.lat, 0.5))} ms), failures ${JSON.stringify(touch.failed)}, longest stall ${fmtMs(touched.maxStallMs)} ms (on a core ${fmtMs(touched.maxStallCpuMs)} ms), peak fds ${touched.peakFds}`);

  await farm.call('phase');
  const status = await statusLatency(farm.port, 50);
  const statusM = (await farm.call('measure')).measures;

  await farm.call('phase');
  const hk = await farm.call('housekeep');
  const hkResult = hk.result as { marked: number; queued: number; queueSeconds: number; states: Record<string, number> };
  log(`housekeeping: longest stalls on a core (on a core/wall [collections inside]): ${hk.measures.topStalls?.join('; ')}; longest collection ${fmtMs(hk.measures.longestGcMs ?? 0)} ms (${hk.measures.longestGcKind}); V8's new space up to ${hk.measures.peakNewSpaceMB?.toFixed(0)} MB`);
  log(`housekeeping: ${hkResult.queued} jobs queued in ${hkResult.queueSeconds.toFixed(1)} s, all run in ${hk.measures.seconds.toFixed(1)} s, states ${JSON.stringify(hkResult.states)}, longest stall ${fmtMs(hk.measures.maxStallMs)} ms (on a core ${fmtMs(hk.measures.maxStallCpuMs)} ms), peak RSS ${hk.measures.peakRssMB.toFixed(0)} MB, peak fds ${hk.measures.peakFds}`);

  await farm.call('phase');
  await new Promise((r) => setTimeout(r, 5000));
  const idle = (await farm.call('measure')).measures;
  await stopFarm(farm);

  log('start-up: hearth serve with 0 instances, with the farm, pouchdb-server');
  const [empty] = await startups(tempDir('bench-start-empty-'), STARTS) as [Start];
  const [full] = await startups(farm.dir, STARTS) as [Start];
  const pouch = await pouchStartups(STARTS);
  log(`first 200: ${fmtMs(empty.ms)} ms (0 instances, CPU ${fmtMs(empty.cpuMs)} ms), ${fmtMs(full.ms)} ms (${N}, CPU ${fmtMs(full.cpuMs)} ms), pouchdb-server ${fmtMs(pouch.ms)} ms (CPU ${fmtMs(pouch.cpuMs)} ms); idle RSS ${empty.idleRssMB.toFixed(0)} / ${full.idleRssMB.toFixed(0)} MB`);

  const load1 = (await import('node:os')).loadavg()[0]!;
  const all = [created, touched, statusM, hk.measures, idle];
  const worstStall = Math.max(...all.map((m) => m.maxStallMs));
  const worstCpuStall = Math.max(...all.map((m) => m.maxStallCpuMs));
  const worstRss = Math.max(...all.map((m) => m.peakRssMB));
  const errored = hkResult.states.errored ?? 0;
  const md = [
    '# Farm benchmark (`npm run bench`, bench/farm.bench.ts)',
    '',
    `Run ${new Date().toISOString()} on ${machine()}; ${gitInfo()}; ${((Date.now() - t0) / 1000).toFixed(0)} s.`,
    `The machine is shared: its 1-minute load average was ${load0.toFixed(1)} at the start and ${load1.toFixed(1)} at the end (2 cores),`,
    'so wall times (and start-up above all) are longer than on an idle machine; stalls include time the process waited for a core.',
    '',
    '## Targets',
    '',
    '| target | goal | measured | pass |',
    '|---|---|---|---|',
    `| RSS of a ${N.toLocaleString('en')}-instance farm, peak over every phase | < 400 MB | ${worstRss.toFixed(0)} MB | ${worstRss < 400 ? 'yes' : 'no'} |`,
    `| longest event-loop stall, every phase | ≤ 50 ms | ${fmtMs(worstStall)} ms | ${worstStall <= 50 ? 'yes' : 'no'} |`,
    `| the same, counting only the main thread's time on a core (not its wait for one) | ≤ 50 ms | ${fmtMs(worstCpuStall)} ms | ${worstCpuStall <= 50 ? 'yes' : 'no'} |`,
    `| housekeeping jobs that failed | 0 | ${errored} | ${errored === 0 ? 'yes' : 'no'} |`,
    `| first 200 after process start, 0 instances (median of ${STARTS}) | < 500 ms | ${fmtMs(empty.ms)} ms | ${empty.ms < 500 ? 'yes' : 'no'} |`,
    `| first 200 after process start, ${N.toLocaleString('en')} instances | < 500 ms | ${fmtMs(full.ms)} ms | ${full.ms < 500 ? 'yes' : 'no'} |`,
    `| idle RSS after start (5 s after the first 200) | < 100 MB | ${empty.idleRssMB.toFixed(0)} MB (0 instances), ${full.idleRssMB.toFixed(0)} MB (${N.toLocaleString('en')}) | ${Math.max(empty.idleRssMB, full.idleRssMB) < 100 ? 'yes' : 'no'} |`,
    '',
    `## The farm, phase by phase (descriptors limited to ${NOFILE}: the pool keeps at most ${storesFor(NOFILE)} databases open)`,
    '',
    '| phase | wall time | longest stall | most time on a core in one stall (that stall\'s wall time) | garbage collection in that stall (ms); the phase\'s longest | peak RSS | peak descriptors | databases open at the end | notes |',
    '|---|---|---|---|---|---|---|---|---|',
    row(`create ${N.toLocaleString('en')} instances (in-process, one after the other)`, created),
    row(`touch each once (durable PUT, ${CONCURRENCY} clients)`, touched, `p50 ${fmtMs(percentile(touch.lat, 0.5))} ms, p99 ${fmtMs(percentile(touch.lat, 0.99))} ms; failures ${JSON.stringify(touch.failed)}`),
    row('50 × GET /status', statusM, `p50 ${fmtMs(percentile(status, 0.5))} ms, p99 ${fmtMs(percentile(status, 0.99))} ms`),
    row(`housekeeping, every instance due for both jobs (${hkResult.queued.toLocaleString('en')} jobs)`, hk.measures, `queued in ${hkResult.queueSeconds.toFixed(1)} s; states ${JSON.stringify(hkResult.states)}`),
    row('idle 5 s afterwards', idle, `RSS ${idle.rssMB.toFixed(0)} MB, ${idle.fds} descriptors`),
    '',
    'The housekeeping row is the worst case, run back to back: in service a round every 10 s queues at most 100 due jobs,',
    'and only the instances with a pending OAuth client or an old trash item are due (src/server/housekeeping.ts).',
    '',
    'Where the stalls come from: the registry\'s and the job broker\'s commits no longer fsync on the event loop (synchronous=NORMAL,',
    'their WAL fdatasynced in the thread pool before a write is acknowledged, as the instance databases do: src/data/sqlite/wal-sync.ts);',
    'the pool opens at most 10 ms worth of instance databases per turn of the event loop (src/data/sqlite/factory.ts: 16 clients',
    'touching 16 closed instances opened them all in one turn), and housekeeping writes its marks 1,000 per commit. What is left on',
    'the event loop: garbage collection, and opening or closing an instance database; the checkpoints of registry.sqlite and',
    'jobs.sqlite, which SQLite ran inside the COMMIT that crossed 1,000 WAL pages (a copy and two fsyncs), run on the thread that',
    'closes instance databases (src/data/sqlite/wal-sync.ts, checkpointOffThread). A stall measured by monitorEventLoopDelay includes',
    'the time the process waited for a core, which on this shared machine varies from run to run with the load average (above): the',
    'column "most time on a core" is the main thread\'s own share of the stalls (from /proc/<pid>/task/<pid>/schedstat), what Hearth',
    'can act on. `BENCH_PROFILE=1` profiles the farm and logs its stalls; `bench/profile-stalls.ts` says what ran in each.',
    '',
    ...startupTable([
      ['Hearth `hearth serve`, 0 instances (GET /status)', empty],
      [`Hearth \`hearth serve\`, ${N.toLocaleString('en')} instances (GET /status)`, full],
      ['pouchdb-server 4.2 (GET /)', pouch],
    ]),
  ].join('\n');
  if (!QUICK && !PROFILE) {
    writeFileSync(join(BENCH_DIR, 'RESULTS-farm.md'), md);
    process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-farm.md')}\n`);
  } else process.stdout.write(md);
  killChildren();
}

await (ENGINES ? engineFarms(ENGINES, N, startFarm, createFarm, stopFarm) : STARTUP_ONLY ? startupOnly() : process.env.BENCH_IDLE_USED === '1' ? usedIdle() : main());
