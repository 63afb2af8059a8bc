/**
 * What the benchmarks share (bench/data.bench.ts, bench/files.bench.ts): servers as child processes
 * on private temporary directories (compiled to plain JS first), their RSS and CPU from /proc, the
 * CPU that other processes used meanwhile, a closed-loop load generator with latency percentiles,
 * number formatting, the PASS/FAIL target table, and the run's context (git, machine, versions).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type Agent, type OutgoingHttpHeaders } from 'node:http';
import { tmpdir, cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = dirname(BENCH_DIR);

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

// ---------------------------------------------------------------------------------------------
// Child processes and temporary directories, all removed when this process exits (whatever the outcome)

export const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

export function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
}
process.on('exit', () => {
  killChildren();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

/** A new temporary directory (in the OS temp filesystem), removed at exit. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Stops the whole run (killing the servers) if it takes longer than `ms`. */
export function startWatchdog(ms: number): void {
  const watchdog = setTimeout(() => {
    log(`watchdog: the run took more than ${ms / 60_000} min, stopping`);
    killChildren();
    process.exit(2);
  }, ms);
  watchdog.unref();
}

/**
 * The servers run compiled to plain JS (bench/tsconfig.servers.json, into a temporary directory
 * whose node_modules links to the repository's), as `hearth serve` runs from dist/: no tsx loader
 * in their process (it costs ~25 MB of RSS and some start-up time).
 */
let buildDir: string | null = null;
export function buildServers(): string {
  if (buildDir) return buildDir;
  const out = tempDir('bench-build-');
  buildDir = out;
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(BENCH_DIR, 'tsconfig.servers.json'), '--outDir', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    // type errors still emit JS; a missing file will fail at start-up with a clear message
    log(`tsc reported errors while compiling the servers (continuing):\n${String((e as { stdout?: Buffer }).stdout ?? e).slice(0, 2000)}`);
  }
  symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
  // with the version: the CLI and /version read it from there
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module', version }) + '\n');
  // the route schemas compiled as `npm run build` compiles them, where this build's server modules and its bundles look
  // (src/server/schema-code.ts: <out>/src/schemas for the compiled modules, <out>/dist/schemas for dist/bundle/)
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'precompile-schemas.mjs'), join(out, 'src', 'server', 'schema-precompile.js'), join(out, 'src', 'schemas')], { stdio: ['ignore', 'ignore', 'inherit'] });
  cpSync(join(out, 'src', 'schemas'), join(out, 'dist', 'schemas'), { recursive: true });
  return out;
}

/**
 * bench/<script> compiled, then bundled in one file as bin/hearth.js runs Hearth (scripts/bundle.mjs), at the place of
 * dist/bundle/ in the build (the version is read two levels up, from its package.json). Bundled once per run.
 */
export function bundledServer(script: string): string {
  const out = buildServers();
  const file = join(out, 'dist', 'bundle', script.replace(/\.ts$/, '.js'));
  if (!existsSync(file)) execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs'), join(out, 'bench', script.replace(/\.ts$/, '.js')), file], { stdio: 'inherit' });
  return file;
}

export interface Child {
  proc: ChildProcess;
  /** The first line the server printed on stdout, as JSON (its port, tokens…). */
  line: Record<string, unknown>;
  /** Its private temporary directory (its first argument). */
  dir: string;
  /** The last lines of its stderr. */
  stderr: string[];
}

/**
 * Starts bench/<script> (compiled; Hearth's hearth-server.ts also bundled, as bin/hearth.js runs Hearth) as
 * `node <flags> <script>.js <dir> <args…>` and waits for its first stdout line.
 */
export async function startChild(name: string, script: string, args: string[], nodeFlags: string[] = [], startTimeoutMs = 60_000, env: Record<string, string> = {}): Promise<Child> {
  const dir = tempDir(`bench-${name}-`);
  const js = script === 'hearth-server.ts' ? bundledServer(script) : join(buildServers(), 'bench', script.replace(/\.ts$/, '.js'));
  const proc = spawn(process.execPath, [...nodeFlags, js, dir, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production', ...env },
  });
  children.add(proc);
  const stderr: string[] = [];
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr.push(s);
    if (stderr.length > 50) stderr.shift();
  });
  const line = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start in ${startTimeoutMs / 1000} s: ${stderr.join('')}`)), startTimeoutMs);
    proc.stdout?.setEncoding('utf8').on('data', (s: string) => {
      buf += s;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
        } catch (e) {
          reject(new Error(`${name} printed ${buf.slice(0, 200)}: ${String(e)}`));
        }
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready: ${stderr.join('')}`));
    });
  });
  return { proc, line, dir, stderr };
}

/** SIGTERM (SIGKILL after 15 s), then removes its directory. */
export async function stopChild(proc: ChildProcess, dir: string): Promise<void> {
  const pid = proc.pid ?? 0;
  if (proc.exitCode === null && pid) {
    const exited = new Promise<void>((ok) => proc.once('exit', () => ok()));
    process.kill(pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (proc.exitCode === null) process.kill(pid, 'SIGKILL');
    }, 15_000);
    await exited;
    clearTimeout(timer);
  }
  children.delete(proc);
  rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Memory from /proc/<pid>/status

export function rssMB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** Resets VmHWM to the current RSS (`echo 5 > /proc/<pid>/clear_refs`); false where that is not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc: the server's CPU per op (robust to noise), and how much CPU other
// processes on the machine took during a measurement (other people's tests share these cores).

export interface CpuUse {
  serverUsPerOp: number;
  /** This process (the client, incl. PouchDB's memory adapter during replication). */
  clientUsPerOp: number;
  foreignPct: number;
}
export interface CpuSnap {
  t: number;
  sys: number;
  self: number;
  kids: number;
  server: number;
}

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);
const NCPU = cpus().length;
/** The process whose CPU cpuSnap() records as the server's. */
let measuredPid: number | null = null;

/** Which server the next measurements are about (its CPU is reported as "server CPU"). */
export function setMeasured(pid: number | null): void {
  measuredPid = pid;
}

export function procCpuMs(pid: number | 'self'): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

export function cpuSnap(): CpuSnap {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = (v[0] ?? 0) + (v[1] ?? 0) + (v[2] ?? 0) + (v[5] ?? 0) + (v[6] ?? 0) + (v[7] ?? 0);
  let kids = 0;
  for (const c of children) if (c.pid && c.exitCode === null) kids += procCpuMs(c.pid);
  return { t: performance.now(), sys: busy * TICK_MS, self: procCpuMs('self'), kids, server: measuredPid ? procCpuMs(measuredPid) : 0 };
}

export function cpuUse(a: CpuSnap, b: CpuSnap, ops: number): CpuUse {
  const foreign = b.sys - a.sys - (b.self - a.self) - (b.kids - a.kids);
  return {
    serverUsPerOp: ((b.server - a.server) * 1000) / Math.max(1, ops),
    clientUsPerOp: ((b.self - a.self) * 1000) / Math.max(1, ops),
    foreignPct: Math.max(0, (100 * foreign) / ((b.t - a.t) * NCPU)) };
}

// ---------------------------------------------------------------------------------------------
// Measurement

export interface Stats {
  ops: number;
  seconds: number;
  opsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  note?: string;
  /** Server CPU (user+system) per op, and the CPU that processes outside the benchmark used meanwhile. */
  cpu?: CpuUse;
  /** With repetitions: the lowest and highest ops/s. */
  range?: [number, number];
}

export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

export function summarize(lat: number[], seconds: number, errors: number, ops = lat.length): Stats {
  const sorted = Float64Array.from(lat).sort();
  return { ops, seconds, opsPerSec: ops / seconds, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), errors };
}

/**
 * `concurrency` workers call `op(i)` until `durationMs` passed (after `warmupMs` not
 * counted) or `count` ops were started; `op` returns false (or throws) on a bad answer.
 */
export async function runLoad(opts: { concurrency: number; durationMs?: number; count?: number; warmupMs?: number; op: (i: number) => Promise<boolean> }): Promise<Stats> {
  let errors = 0;
  let firstError: unknown = null;
  const phase = async (ms: number | undefined, count: number | undefined, record: boolean) => {
    const lat: number[] = [];
    let i = 0;
    const start = performance.now();
    const end = ms === undefined ? Infinity : start + ms;
    const worker = async () => {
      while (performance.now() < end && (count === undefined || i < count)) {
        const n = i++;
        const t0 = performance.now();
        let ok = false;
        try {
          ok = await opts.op(n);
        } catch (e) {
          firstError ??= e;
        }
        if (record) {
          lat.push(performance.now() - t0);
          if (!ok) errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    return { lat, seconds: (performance.now() - start) / 1000 };
  };
  if (opts.warmupMs) await phase(opts.warmupMs, undefined, false);
  const c0 = cpuSnap();
  const { lat, seconds } = await phase(opts.durationMs, opts.count, true);
  const stats = summarize(lat, seconds, errors);
  stats.cpu = cpuUse(c0, cpuSnap(), lat.length);
  if (errors) stats.note = `${errors} bad answers, first: ${String(firstError ?? 'unexpected status')}`.slice(0, 200);
  return stats;
}

/** Sorts runs by ops/s and returns the median one, with the range of ops/s when there are several. */
export function medianRun(runs: Stats[]): Stats | undefined {
  const list = runs.slice().sort((a, b) => a.opsPerSec - b.opsPerSec);
  const median = list[Math.floor(list.length / 2)];
  if (median && list.length > 1) median.range = [list[0]?.opsPerSec ?? NaN, list[list.length - 1]?.opsPerSec ?? NaN];
  return median;
}

// ---------------------------------------------------------------------------------------------
// HTTP on loopback

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request to 127.0.0.1:`port`, the whole answer buffered. */
export function send(opts: { port: number; method: string; path: string; headers: OutgoingHttpHeaders; agent: Agent; body?: Buffer; timeoutMs?: number; label?: string }): Promise<Res> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: opts.port, method: opts.method, path: opts.path, headers: opts.headers, agent: opts.agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${opts.label ?? ''} ${opts.method} ${opts.path}: no answer in ${timeoutMs} ms`.trim())));
    req.on('error', reject);
    req.end(opts.body);
  });
}

// ---------------------------------------------------------------------------------------------
// Report

export const fmtOps = (n: number) => (Number.isFinite(n) ? (n >= 100 ? Math.round(n).toString() : n.toFixed(1)) : '–');
export const fmtMs = (n: number) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)) : '–');
export const fmtRatio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–');

export interface Target {
  name: string;
  goal: string;
  measured: string;
  pass: boolean | null;
}

export function targetTable(ts: Target[]): string {
  return [
    '| target | goal | measured | result |',
    '|---|---|---|---|',
    ...ts.map((t) => `| ${t.name} | ${t.goal} | ${t.measured} | ${t.pass === null ? 'NOT MEASURED' : t.pass ? 'PASS' : 'FAIL'} |`),
  ].join('\n');
}

/** The `version` field of a package.json, '?' when it cannot be read. */
export function pkgVersion(file: string): string {
  try {
    return String((JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version);
  } catch {
    return '?';
  }
}

export function gitInfo(): string {
  try {
    const head = execFileSync('git', ['-C', ROOT, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'test/helpers'], { encoding: 'utf8' }).trim();
    return `commit ${head.slice(0, 100)}${dirty ? ` (plus uncommitted changes in ${dirty.split('\n').length} file(s) under src/ or test/helpers/)` : ''}`;
  } catch {
    return 'unknown (no git)';
  }
}

/** The filesystem type that holds `dir` (ext4, tmpfs…). */
export function fsType(dir: string): string {
  try {
    return execFileSync('df', ['-T', dir], { encoding: 'utf8' }).trim().split('\n').pop()?.split(/\s+/)[1] ?? '?';
  } catch {
    return '?';
  }
}

export function machine(): string {
  const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  return `nproc ${nproc} (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, temp dirs on ${fsType(tmpdir())} (${tmpdir()})`;
}
