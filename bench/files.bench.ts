/**
 * `npm run bench`, second part: Hearth's /files API against Community Solid Server (a Node server that
 * keeps files as plain files on disk) and against the raw limits of this machine — the disk itself
 * (write + fsync, read with the page cache dropped) and loopback HTTP (a bare node:http server that
 * streams from memory or discards what it receives) — side by side in one run, same client. Each
 * server runs in its own child process with a private temporary directory and port (bench/lib.ts,
 * as bench/data.bench.ts does); all are stopped at the end. Prints tables and writes
 * bench/RESULTS-files.md.
 *
 * Workloads: a large file (1 GiB) uploaded and downloaded, with Hearth's RSS growth meanwhile;
 * 10,000 small files (1–4 KiB) PUT then GET with 16 requests in flight; paging through the
 * listing of a directory of 10,000 files (Hearth, 30 per page) and CSS's whole container listing.
 *
 * Environment knobs (all optional):
 *   BENCH_QUICK=1                            short smoke run (128 MiB, 1,000 small files, one run each); no RESULTS-files.md
 *   BENCH_FILES_SERVERS=hearth,css,loopback,disk  only these references; no RESULTS-files.md
 *   BENCH_FILES_WORKLOADS=large,small,list   only these workloads (list lists the files that small created); no RESULTS-files.md
 *   BENCH_FILES_LARGE_MB=1024                size of the large file in MiB; no RESULTS-files.md unless 1024
 *   BENCH_CONCURRENCY=16                     in-flight requests for the small files (shared with data.bench.ts); no RESULTS-files.md unless 16
 *   BENCH_FILES_REPEATS=3                    runs of the large file and of the small files; no RESULTS-files.md unless 3
 *   BENCH_FILES_WATCHDOG_MIN=12              stop the run after this many minutes
 *   BENCH_PROFILE=1                          start Hearth with --cpu-prof into bench/profiles/ (then see bench/profile-top.ts); no RESULTS-files.md
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  BENCH_DIR, ROOT, cpuSnap, cpuUse, fmtMs, fmtOps, fmtRatio, fsType, gitInfo, killChildren, log, machine, medianRun, pkgVersion, resetPeakRss,
  rssMB, runLoad, send, setMeasured, startChild, startWatchdog, stopChild, summarize, targetTable, tempDir, type Child, type Res, type Stats,
  type Target,
} from './lib.js';
import { PATTERN_BYTES, patternSlice, writePattern } from './pattern.js';

const QUICK = process.env.BENCH_QUICK === '1';
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ALL_SERVERS = ['hearth', 'css', 'loopback', 'disk'];
const SERVERS = (process.env.BENCH_FILES_SERVERS ?? ALL_SERVERS.join(',')).split(',').map((s) => s.trim());
const ALL_WORKLOADS = ['large', 'small', 'list'];
const WORKLOADS = (process.env.BENCH_FILES_WORKLOADS ?? ALL_WORKLOADS.join(',')).split(',').map((s) => s.trim());
const LARGE_MIB = Number(process.env.BENCH_FILES_LARGE_MB ?? (QUICK ? 128 : 1024));
const PROFILE = process.env.BENCH_PROFILE === '1';
/** The large file and the small files run this many times per server, interleaved; the median is reported. */
const REPEATS = Number(process.env.BENCH_FILES_REPEATS ?? (QUICK ? 1 : 3));
const FULL_RUN = !QUICK && !PROFILE && SERVERS.length === ALL_SERVERS.length && WORKLOADS.length === ALL_WORKLOADS.length && LARGE_MIB === 1024 && CONCURRENCY === 16 && REPEATS === 3;

const LARGE_BYTES = LARGE_MIB * 2 ** 20;
const WARMUP_BYTES = Math.min(LARGE_BYTES, 32 * 2 ** 20);
const SMALL_FILES = QUICK ? 1_000 : 10_000;
/**
 * CSS gets slower as a container fills (in a trial here: ~78 PUT/s for the first 500 files, ~25/s past 2,500, so 10,000
 * would take several minutes): it PUTs only the first files, once, and the rest of its listed container is written
 * straight into its folder (CSS keeps each resource as a plain file of the same name, so that is what its PUTs would
 * have left there). Measuring CSS on the smaller container is in its favour.
 */
const CSS_SMALL_FILES = QUICK ? 300 : 2_000;
const SMALL_WARMUP = QUICK ? 50 : 200;
const PAGE_LIMIT = 30;
/** Hearth's listing: up to this many passes over the directory, but no new pass after LIST_BUDGET_MS. */
const LIST_PASSES = QUICK ? 1 : 3;
const LIST_BUDGET_MS = 20_000;
let listPasses = 0;
const CSS_LISTINGS = 3;
/** The client writes uploads (and the raw disk reference reads and writes) in pieces of this size. */
const CHUNK = 2 ** 20;
/** The whole run stops after this (minutes); on a machine shared with other work the small files and CSS alone can take 10. */
const WATCHDOG_MS = Number(process.env.BENCH_FILES_WATCHDOG_MIN ?? 12) * 60_000;
const MB = 1e6;

// ---------------------------------------------------------------------------------------------
// Servers

type ServerName = 'hearth' | 'css' | 'loopback';
/** `nodefile`: the loopback server streaming the raw disk's file from the page cache (bare Node's file download). */
type Column = ServerName | 'disk' | 'nodefile';
const COLUMNS: Column[] = ['disk', 'loopback', 'nodefile', 'css', 'hearth'];
const LABEL: Record<Column, string> = { disk: 'raw disk', loopback: 'loopback', nodefile: 'bare Node file stream', css: 'CSS', hearth: 'Hearth' };

interface Server {
  name: ServerName;
  child: Child;
  pid: number;
  port: number;
  /** Host (and for Hearth the bearer token) sent with every request. */
  headers: Record<string, string>;
  agent: Agent;
}

function server(name: ServerName, child: Child, headers: Record<string, string>): Server {
  const port = Number(child.line.port);
  return {
    name, child, pid: child.proc.pid ?? 0, port,
    headers: { host: `127.0.0.1:${port}`, ...headers },
    agent: new Agent({ keepAlive: true, maxSockets: CONCURRENCY, maxFreeSockets: CONCURRENCY }),
  };
}

async function startHearth(): Promise<Server> {
  const flags: string[] = [];
  if (PROFILE) {
    mkdirSync(join(BENCH_DIR, 'profiles'), { recursive: true });
    flags.push('--cpu-prof', '--cpu-prof-dir', join(BENCH_DIR, 'profiles'));
  }
  const child = await startChild('hearth', 'hearth-server.ts', [], flags);
  if (typeof child.line.filesToken !== 'string') throw new Error('bench/hearth-server.ts printed no filesToken');
  return server('hearth', child, { host: String(child.line.domain), authorization: `Bearer ${child.line.filesToken}`, accept: 'application/vnd.api+json' });
}

let cssVersion = '?';
async function startCss(): Promise<Server> {
  // Components.js instantiates the whole server from its JSON-LD config: a few seconds
  const child = await startChild('css', 'css-server.ts', [BENCH_DIR], [], 120_000);
  cssVersion = String(child.line.version);
  return server('css', child, {});
}

async function startLoopback(): Promise<Server> {
  return server('loopback', await startChild('loopback', 'loopback-server.ts', []), {});
}

async function stopServer(s: Server): Promise<void> {
  s.agent.destroy();
  await stopChild(s.child.proc, s.child.dir);
}

function call(s: Server, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Res> {
  const h: Record<string, string | number> = { ...s.headers, ...headers };
  if (body) h['content-length'] = body.length;
  return send({ port: s.port, method, path, headers: h, agent: s.agent, body, label: s.name });
}

async function callJson(s: Server, method: string, path: string, expect: number[], body?: Buffer, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const res = await call(s, method, path, body, headers);
  const text = res.body.toString('utf8');
  if (!expect.includes(res.status)) throw new Error(`${s.name} ${method} ${path} -> ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Streaming transfers of the pattern (bench/pattern.ts), checked byte for byte on the way back

/** Compares a stream, chunk by chunk, with the pattern (memcmp: a few ms per GiB). */
class Checker {
  bytes = 0;
  bad = false;
  push(c: Buffer): void {
    let at = 0;
    while (at < c.length) {
      const piece = patternSlice(this.bytes, c.length - at);
      if (!this.bad && c.compare(piece, 0, piece.length, at, at + piece.length) !== 0) this.bad = true;
      at += piece.length;
      this.bytes += piece.length;
    }
  }
}

/** Sends `size` bytes of the pattern as the body (Content-Length, written in CHUNK pieces with back-pressure). */
function streamUp(s: Server, method: string, path: string, size: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    const headers = { ...s.headers, 'content-type': 'application/octet-stream', 'content-length': String(size) };
    const req = httpRequest({ host: '127.0.0.1', port: s.port, method, path, headers, agent: s.agent, timeout: 600_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${s.name} ${method} ${path}: no answer in 600 s`)));
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const piece = patternSlice(sent, Math.min(CHUNK, size - sent));
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** GETs `path` and checks that it is `size` bytes of the pattern. */
function streamDown(s: Server, path: string, size: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: s.port, method: 'GET', path, headers: s.headers, agent: s.agent, timeout: 600_000 }, (res) => {
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => reject(new Error(`${s.name} GET ${path} -> ${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`)));
        return;
      }
      const check = new Checker();
      res.on('data', (c: Buffer) => check.push(c));
      res.on('end', () => {
        if (check.bytes !== size) reject(new Error(`${s.name} GET ${path}: ${check.bytes} bytes instead of ${size}`));
        else if (check.bad) reject(new Error(`${s.name} GET ${path}: the content differs from what was uploaded`));
        else resolve();
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${s.name} GET ${path}: no answer in 600 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** The raw disk: the same bytes written in CHUNK pieces to a new file, fsynced, and its folder fsynced (as Hearth's blob store does). */
/** The raw disk reference: 1 MiB writes, fsync. `seconds`: paced to last that long (the recycled reference at an upload's pace). */
async function diskWrite(file: string, size: number, seconds = 0): Promise<void> {
  const fh = await open(file, 'wx');
  try {
    await writePattern(fh, size, seconds);
    await fh.sync();
  } finally {
    await fh.close();
  }
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Drops the file's pages from the page cache (`dd iflag=nocache count=0`: posix_fadvise DONTNEED on that file only). */
function dropCache(file: string): void {
  execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
}

async function diskRead(file: string, size: number): Promise<void> {
  const check = new Checker();
  for await (const c of createReadStream(file, { highWaterMark: CHUNK })) check.push(c as Buffer);
  if (check.bytes !== size || check.bad) throw new Error(`raw disk read: ${check.bytes} bytes, ${check.bad ? 'different' : 'same'} content`);
}

let expectedMd5: string | null = null;
/**
 * Wait before the timed large transfers other than the matched uploads (memoryState), after their
 * `sync`: part of the memory freed by the step before is back with the host by then, not all of it.
 */
const SETTLE_MS = 1_500;

/**
 * The two memory states a large upload can start in, set up alike for the raw disk and Hearth
 * (the "matched" upload steps):
 * - `fresh`: the guest has handed every freed page back to its host, so each page that the write
 *   puts in the page cache is faulted in again by the host (2–3 s of CPU per GiB here). The wait ends
 *   once the guest's free page reporting (`/sys/module/page_reporting/parameters/reported_kib`) has not
 *   moved for 3 s (at most 45 s; 10 s where that file does not exist).
 * - `recycled`: right after a scratch file of the same size plus 128 MiB was written, synced and deleted:
 *   the write reuses its freed pages (0.25 s of CPU per GiB). A long-running server whose page cache
 *   fills its memory writes this way.
 */
type MemState = 'fresh' | 'recycled';
const REPORTED = '/sys/module/page_reporting/parameters/reported_kib';

async function memoryState(state: MemState, scratchDir: string): Promise<void> {
  if (state === 'recycled') {
    const scratch = join(scratchDir, 'scratch.bin');
    const fh = await open(scratch, 'w');
    try {
      for (let off = 0; off < LARGE_BYTES + 128 * CHUNK;) {
        const piece = patternSlice(off % PATTERN_BYTES, Math.min(CHUNK, PATTERN_BYTES - (off % PATTERN_BYTES)));
        await fh.write(piece, 0, piece.length, off);
        off += piece.length;
      }
    } finally {
      await fh.close();
    }
    execFileSync('sync');
    unlinkSync(scratch);
    return;
  }
  const read = () => { try { return readFileSync(REPORTED, 'utf8').trim(); } catch { return null; } };
  if (read() === null) return void (await new Promise((r) => setTimeout(r, 10_000)));
  let last = read();
  let still = 0;
  for (let waited = 0; waited < 45_000 && still < 3_000; waited += 500) {
    await new Promise((r) => setTimeout(r, 500));
    const now = read();
    still = now === last ? still + 500 : 0;
    last = now;
  }
}

/** MD5 of the large file (base64), computed once. */
function largeMd5(): string {
  if (expectedMd5) return expectedMd5;
  md5MBps = 0;
  for (let i = 0; i < 2; i++) {
    // twice, the second timed: the speed of MD5 alone on one core, a ceiling for any upload that computes it
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const h = createHash('md5');
    for (let off = 0; off < LARGE_BYTES;) {
      const piece = patternSlice(off, Math.min(PATTERN_BYTES, LARGE_BYTES - off));
      h.update(piece);
      off += piece.length;
    }
    expectedMd5 = h.digest('base64');
    md5MBps = LARGE_BYTES / MB / ((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    md5CpuUs = c.user + c.system;
  }
  return expectedMd5!;
}
/** MB/s of node:crypto's MD5 over the large file's bytes in this process (largeMd5), and its CPU (user + system, µs). */
let md5MBps = NaN;
let md5CpuUs = NaN;

// ---------------------------------------------------------------------------------------------
// Results

interface Transfer extends Stats {
  /**
   * Hearth's CPU over the transfer by thread (µs): its main thread (the event loop), the other threads that spent
   * more user than system time (the MD5 thread, V8's helpers), and those that spent more system time (libuv's writers).
   */
  threads?: { loop: number; user: number; sys: number };
  /** RSS of the server just before, and its peak during the transfer (MB). */
  rssBefore?: number;
  rssPeak?: number;
}

type Row = Map<Column, Transfer | null>;
const large = { up: new Map() as Row, down: new Map() as Row };
/** The raw disk's and Hearth's uploads in recycled memory (the `up` row is in fresh memory). */
const recycledUp = new Map<'disk' | 'hearth', Transfer>();
const small = { put: new Map() as Row, get: new Map() as Row };
const listing = new Map<Column, Stats | null>();
/** The worst RSS growth (peak − before) over the runs, per server and direction. */
const rssGrowth = new Map<string, { before: number; peak: number }>();
const notes: string[] = [];
/**
 * CPU per GiB of each large transfer, per run (`hearth up`: the server's, threads included; `disk up`: this
 * process's write + fsync; `loopback up`: the bare server's, receiving and discarding), for the upload's CPU budget.
 */
const cpuRuns = new Map<string, number[]>();

function fail(what: string, e: unknown): void {
  const msg = `${what} failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 400);
  log(`  ${msg}`);
  notes.push(msg);
}

/**
 * One timed transfer: the server's CPU (and for Hearth and CSS its RSS, VmHWM reset before through
 * /proc/<pid>/clear_refs, sampled every 20 ms as a fallback) over the transfer. Dirty pages of the
 * previous steps are written out first (`sync`, not timed), so that no step pays for another's.
 */
async function timed(s: Server | null, bytes: number, run: () => Promise<void>, state?: { mem: MemState; dir: string }): Promise<Transfer> {
  execFileSync('sync');
  if (state) await memoryState(state.mem, state.dir);
  else await new Promise((r) => setTimeout(r, SETTLE_MS));
  setMeasured(s?.pid ?? null);
  const watchRss = s !== null && s.name !== 'loopback';
  let reset = false;
  let before = NaN;
  let sampled = 0;
  let sampler: NodeJS.Timeout | undefined;
  if (watchRss && s) {
    reset = resetPeakRss(s.pid);
    before = rssMB(s.pid).rss;
    sampled = before;
    sampler = setInterval(() => (sampled = Math.max(sampled, rssMB(s.pid).rss)), 20);
  }
  const threads0 = s?.name === 'hearth' ? threadsCpuMs(s.pid) : null;
  const c0 = cpuSnap();
  try {
    await run();
  } finally {
    clearInterval(sampler);
  }
  const c1 = cpuSnap();
  const threads1 = s?.name === 'hearth' ? threadsCpuMs(s.pid) : null;
  const seconds = (c1.t - c0.t) / 1000;
  const out: Transfer = { ops: 1, seconds, opsPerSec: bytes / MB / seconds, p50: NaN, p99: NaN, errors: 0, cpu: cpuUse(c0, c1, 1) };
  if (s && threads0 && threads1) out.threads = byThread(s.pid, threads0, threads1);
  if (watchRss && s) {
    const now = rssMB(s.pid);
    out.rssBefore = before;
    out.rssPeak = Math.max(reset ? now.hwm : 0, sampled);
  }
  return out;
}

/** User and system CPU (ms) of each thread of a process, by thread id. */
function threadsCpuMs(pid: number): Map<string, { user: number; sys: number }> {
  const out = new Map<string, { user: number; sys: number }>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, { user: (Number(f[11]) * 1000) / CLOCK_TICKS, sys: (Number(f[12]) * 1000) / CLOCK_TICKS });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}
/** /proc's clock ticks per second (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/** The CPU each thread used between two snapshots (µs), grouped as in Transfer.threads. */
function byThread(pid: number, a: Map<string, { user: number; sys: number }>, b: Map<string, { user: number; sys: number }>): { loop: number; user: number; sys: number } {
  const out = { loop: 0, user: 0, sys: 0 };
  for (const [tid, t] of b) {
    const was = a.get(tid) ?? { user: 0, sys: 0 };
    const user = t.user - was.user;
    const sys = t.sys - was.sys;
    if (tid === String(pid)) out.loop += (user + sys) * 1000;
    else if (user >= sys) out.user += (user + sys) * 1000;
    else out.sys += (user + sys) * 1000;
  }
  return out;
}

function recordRss(key: string, t: Transfer): void {
  if (t.rssBefore === undefined || t.rssPeak === undefined) return;
  const prev = rssGrowth.get(key);
  if (!prev || t.rssPeak - t.rssBefore > prev.peak - prev.before) rssGrowth.set(key, { before: t.rssBefore, peak: t.rssPeak });
}

// ---------------------------------------------------------------------------------------------
// Workload 1: the large file

async function wlLarge(servers: Map<ServerName, Server>): Promise<void> {
  const runs = new Map<string, Transfer[]>();
  const add = (key: string, t: Transfer) => {
    runs.set(key, [...(runs.get(key) ?? []), t]);
    if (t.cpu) cpuRuns.set(key, [...(cpuRuns.get(key) ?? []), perGiB(key.startsWith('disk') ? t.cpu.clientUsPerOp : t.cpu.serverUsPerOp)]);
    for (const [part, us] of Object.entries(t.threads ?? {})) cpuRuns.set(`${key} ${part}`, [...(cpuRuns.get(`${key} ${part}`) ?? []), perGiB(us)]);
    const cpu = t.cpu ? `, server CPU ${(t.cpu.serverUsPerOp / 1e6).toFixed(2)} s, client ${(t.cpu.clientUsPerOp / 1e6).toFixed(2)} s, others' CPU ${t.cpu.foreignPct.toFixed(0)} %` : '';
    const rss = t.rssPeak !== undefined && t.rssBefore !== undefined ? `, RSS ${t.rssBefore.toFixed(0)} → peak ${t.rssPeak.toFixed(0)} MB` : '';
    const th = t.threads ? ` (event loop ${(t.threads.loop / 1e6).toFixed(2)}, user-time threads ${(t.threads.user / 1e6).toFixed(2)}, system-time threads ${(t.threads.sys / 1e6).toFixed(2)})` : '';
    log(`    ${key}: ${fmtOps(t.opsPerSec)} MB/s in ${t.seconds.toFixed(2)} s${cpu}${th}${rss}`);
  };
  const failed = new Set<string>();
  const attempt = async (key: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      failed.add(key);
      fail(`large file ${key}`, e);
    }
  };
  const hearth = servers.get('hearth');
  if (hearth) largeMd5();
  // warm-up, not measured: each server's upload and download paths once with a smaller file
  for (const s of servers.values()) {
    const path = { hearth: `/files/io.cozy.files.root-dir?Type=file&Name=warm-up.bin`, css: '/large/warm-up.bin', loopback: '/sink' }[s.name];
    try {
      const res = await streamUp(s, s.name === 'hearth' ? 'POST' : 'PUT', path, WARMUP_BYTES);
      if (res.status >= 300) throw new Error(`${s.name} ${path} -> ${res.status} ${res.body.toString().slice(0, 300)}`);
      const down = s.name === 'hearth' ? `/files/download/${encodeURIComponent((JSON.parse(res.body.toString()) as { data: { id: string } }).data.id)}` : s.name === 'css' ? path : `/blob?size=${WARMUP_BYTES}`;
      await streamDown(s, down, WARMUP_BYTES);
    } catch (e) {
      fail(`large file warm-up on ${s.name}`, e);
    }
  }
  const diskDir = SERVERS.includes('disk') ? tempDir('bench-disk-') : null;
  const scratchDir = diskDir ?? tempDir('bench-scratch-');
  /** Hearth's upload of a new file named `name`: checks its size and MD5, returns its id. */
  const hearthUp = async (name: string): Promise<string> => {
    const res = await streamUp(hearth!, 'POST', `/files/io.cozy.files.root-dir?Type=file&Name=${name}`, LARGE_BYTES);
    if (res.status !== 201) throw new Error(`Hearth POST /files -> ${res.status} ${res.body.toString().slice(0, 300)}`);
    const data = (JSON.parse(res.body.toString()) as { data: { id: string; attributes: { size?: string | number; md5sum?: string } } }).data;
    if (Number(data.attributes.size) !== LARGE_BYTES) throw new Error(`Hearth stored ${String(data.attributes.size)} bytes instead of ${LARGE_BYTES}`);
    const md5 = String(data.attributes.md5sum);
    if (md5 !== largeMd5() && md5 !== Buffer.from(largeMd5(), 'base64').toString('hex')) throw new Error(`Hearth md5sum ${md5}, expected ${largeMd5()}`);
    return data.id;
  };
  /** To the trash, then out of it (best effort: without these routes the blob stays until the end). */
  const hearthDelete = async (id: string) => {
    const trashed = await call(hearth!, 'DELETE', `/files/${encodeURIComponent(id)}`).catch(() => null);
    if (trashed?.status === 200) await call(hearth!, 'DELETE', `/files/trash/${encodeURIComponent(id)}`).catch(() => undefined);
  };
  for (let rep = 0; rep < REPEATS; rep++) {
    log(`  run ${rep + 1}/${REPEATS}`);
    if (diskDir) {
      const file = join(diskDir, `big-${rep}.bin`);
      await attempt('disk up', async () => add('disk up', await timed(null, LARGE_BYTES, () => diskWrite(file, LARGE_BYTES), { mem: 'fresh', dir: scratchDir })));
      await attempt('disk down', async () => {
        dropCache(file);
        add('disk down', await timed(null, LARGE_BYTES, () => diskRead(file, LARGE_BYTES)));
      });
      // the same file, now in the page cache, streamed by bare node:http + fs.createReadStream
      const lb = servers.get('loopback');
      if (lb) await attempt('nodefile down', async () => add('nodefile down', await timed(lb, LARGE_BYTES, () => streamDown(lb, `/file?path=${encodeURIComponent(file)}`, LARGE_BYTES))));
      unlinkSync(file);
    }
    const lb = servers.get('loopback');
    if (lb) {
      await attempt('loopback up', async () => {
        add('loopback up', await timed(lb, LARGE_BYTES, async () => {
          const res = await streamUp(lb, 'PUT', '/sink', LARGE_BYTES);
          if (res.status !== 201 || (JSON.parse(res.body.toString()) as { size: number }).size !== LARGE_BYTES) throw new Error(`loopback sink -> ${res.status} ${res.body.toString()}`);
        }));
      });
      await attempt('loopback down', async () => add('loopback down', await timed(lb, LARGE_BYTES, () => streamDown(lb, `/blob?size=${LARGE_BYTES}`, LARGE_BYTES))));
    }
    const css = servers.get('css');
    if (css) {
      const path = `/large/big-${rep}.bin`;
      let stored = false;
      await attempt('css up', async () => {
        const t = await timed(css, LARGE_BYTES, async () => {
          const res = await streamUp(css, 'PUT', path, LARGE_BYTES);
          if (res.status !== 201 && res.status !== 205 && res.status !== 204) throw new Error(`CSS PUT ${path} -> ${res.status} ${res.body.toString().slice(0, 300)}`);
        });
        stored = true;
        add('css up', t);
        recordRss('css up', t);
      });
      if (stored) {
        await attempt('css down', async () => {
          const t = await timed(css, LARGE_BYTES, () => streamDown(css, path, LARGE_BYTES));
          add('css down', t);
          recordRss('css down', t);
        });
        await call(css, 'DELETE', path).catch(() => undefined);
      } else failed.add('css down');
    }
    if (hearth) {
      let id: string | null = null;
      await attempt('hearth up', async () => {
        const t = await timed(hearth, LARGE_BYTES, async () => void (id = await hearthUp(`big-${rep}.bin`)), { mem: 'fresh', dir: scratchDir });
        add('hearth up', t);
        recordRss('hearth up', t);
      });
      const fileId: string | null = id;
      if (fileId !== null) {
        await attempt('hearth down', async () => {
          const t = await timed(hearth, LARGE_BYTES, () => streamDown(hearth, `/files/download/${encodeURIComponent(fileId)}`, LARGE_BYTES));
          add('hearth down', t);
          recordRss('hearth down', t);
        });
        await hearthDelete(fileId);
      } else failed.add('hearth down');
    }
    // the same uploads, both right after a scratch file's pages were freed (see memoryState)
    if (diskDir) {
      const file = join(diskDir, `big-${rep}-recycled.bin`);
      await attempt('disk up recycled', async () => add('disk up recycled', await timed(null, LARGE_BYTES, () => diskWrite(file, LARGE_BYTES), { mem: 'recycled', dir: scratchDir })));
      unlinkSync(file);
    }
    let hearthSeconds = 0;
    if (hearth) {
      let id: string | null = null;
      await attempt('hearth up recycled', async () => {
        const t = await timed(hearth, LARGE_BYTES, async () => void (id = await hearthUp(`big-${rep}-recycled.bin`)), { mem: 'recycled', dir: scratchDir });
        add('hearth up recycled', t);
        recordRss('hearth up', t);
        hearthSeconds = t.seconds;
      });
      if (id !== null) await hearthDelete(id);
    }
    // the raw disk's write once more from the same state, paced to last as long as Hearth's upload just did: the freed
    // pages go back to the host within seconds, so a slower writer meets fresh pages for its later part (see the method)
    if (diskDir && hearthSeconds > 0) {
      const file = join(diskDir, `big-${rep}-recycled-paced.bin`);
      await attempt('disk up recycled paced', async () => add('disk up recycled paced', await timed(null, LARGE_BYTES, () => diskWrite(file, LARGE_BYTES, hearthSeconds), { mem: 'recycled', dir: scratchDir })));
      unlinkSync(file);
    }
  }
  for (const key of ['disk up recycled', 'hearth up recycled']) {
    const median = medianRun(runs.get(key) ?? []);
    if (median && !failed.has(key)) recycledUp.set(key.split(' ')[0] as 'disk' | 'hearth', median);
  }
  for (const dir of ['up', 'down'] as const) {
    for (const col of COLUMNS) {
      const key = `${col} ${dir}`;
      if (!runs.has(key) && !failed.has(key)) continue;
      const median = medianRun(runs.get(key) ?? []);
      large[dir].set(col, failed.has(key) || !median ? null : median);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Workload 2: small files; workload 3: listing the directory they went into

const smallSize = (i: number) => 1024 + ((i * 2654435761) % 3073);
/** File i's content: a piece of the pattern (never across its end). */
const smallBody = (i: number) => patternSlice((i * 4099) % (PATTERN_BYTES - 4096), smallSize(i));
const smallName = (i: number) => `f-${String(i).padStart(6, '0')}`;

interface SmallDir {
  /** Hearth: the directory's id; CSS: the container's path (ending in /). */
  ref: string;
  ids: string[];
  /** When each PUT completed (performance.now()), to see whether the rate drops as the directory fills. */
  done: number[];
}
/** The directory of the first run, per server, that the listing workload pages through. */
const listed = new Map<ServerName, SmallDir>();

async function mkdir(s: Server, name: string): Promise<SmallDir> {
  if (s.name === 'hearth') {
    const res = await callJson(s, 'POST', `/files/io.cozy.files.root-dir?Type=directory&Name=${name}`, [201]);
    return { ref: String((res.data as { id: string }).id), ids: [], done: [] };
  }
  const path = `/${name}/`;
  const res = await call(s, 'PUT', path, Buffer.alloc(0), { 'content-type': 'text/turtle' });
  if (res.status !== 201) throw new Error(`CSS PUT ${path} -> ${res.status} ${res.body.toString().slice(0, 300)}`);
  return { ref: path, ids: [], done: [] };
}

async function putOne(s: Server, dir: SmallDir, i: number): Promise<boolean> {
  const headers = { 'content-type': 'application/octet-stream' };
  if (s.name === 'hearth') {
    const res = await call(s, 'POST', `/files/${encodeURIComponent(dir.ref)}?Type=file&Name=${smallName(i)}`, smallBody(i), headers);
    if (res.status !== 201) throw new Error(`Hearth POST file -> ${res.status} ${res.body.toString().slice(0, 200)}`);
    dir.ids[i] = (JSON.parse(res.body.toString()) as { data: { id: string } }).data.id;
    dir.done.push(performance.now());
    return true;
  }
  const res = await call(s, 'PUT', `${dir.ref}${smallName(i)}`, smallBody(i), headers);
  if (res.status !== 201) throw new Error(`CSS PUT file -> ${res.status} ${res.body.toString().slice(0, 200)}`);
  dir.ids[i] = `${dir.ref}${smallName(i)}`;
  dir.done.push(performance.now());
  return true;
}

async function getOne(s: Server, dir: SmallDir, i: number): Promise<boolean> {
  const id = dir.ids[i];
  if (id === undefined) return false;
  const res = await call(s, 'GET', s.name === 'hearth' ? `/files/download/${encodeURIComponent(id)}` : id);
  if (res.status !== 200) throw new Error(`${s.name} GET file -> ${res.status} ${res.body.toString().slice(0, 200)}`);
  return res.body.equals(smallBody(i));
}

/** PUT/s over the first and the last quarter of the PUTs (a rate that falls shows a cost that grows with the directory). */
function quarterRates(done: number[]): string {
  const t = done.slice().sort((a, b) => a - b);
  const q = Math.floor(t.length / 4);
  if (q < 2) return '';
  const rate = (a: number, b: number) => fmtOps((b - a) / (((t[b] ?? 0) - (t[a] ?? 0)) / 1000));
  return `${rate(0, q)} PUT/s over the first quarter, ${rate(t.length - 1 - q, t.length - 1)} over the last`;
}

async function smallRun(s: Server, name: string, count: number, rep: number): Promise<[Stats, Stats]> {
  setMeasured(s.pid);
  const dir = await mkdir(s, name);
  execFileSync('sync');
  const put = await runLoad({ concurrency: CONCURRENCY, count, op: (i) => putOne(s, dir, i) });
  if (rep >= 0) put.note = [put.note, quarterRates(dir.done)].filter(Boolean).join('; ');
  execFileSync('sync');
  const get = await runLoad({ concurrency: CONCURRENCY, count, op: (i) => getOne(s, dir, i) });
  if (rep === 0) listed.set(s.name, dir);
  return [put, get];
}

async function wlSmall(servers: Server[]): Promise<void> {
  for (const s of servers) {
    await smallRun(s, 'warm-up', SMALL_WARMUP, -1).catch((e: unknown) => fail(`small files warm-up on ${s.name}`, e));
  }
  const runs = new Map<string, Stats[]>();
  const failed = new Set<string>();
  for (let rep = 0; rep < REPEATS; rep++) {
    for (const s of servers) {
      if (s.name === 'css' && rep > 0) continue;
      try {
        const [put, get] = await smallRun(s, `small-${rep}`, s.name === 'css' ? CSS_SMALL_FILES : SMALL_FILES, rep);
        for (const [key, st] of [[`${s.name} put`, put], [`${s.name} get`, get]] as const) {
          runs.set(key, [...(runs.get(key) ?? []), st]);
          if (st.errors) notes.push(`small files ${key}, run ${rep + 1}: ${st.errors} bad answers: ${st.note ?? ''}`);
          log(`    run ${rep + 1}/${REPEATS} ${key}: ${fmtOps(st.opsPerSec)} ops/s, p50 ${fmtMs(st.p50)} ms, p99 ${fmtMs(st.p99)} ms, server CPU ${st.cpu?.serverUsPerOp.toFixed(0)} µs/op, client ${st.cpu?.clientUsPerOp.toFixed(0)} µs/op, others' CPU ${st.cpu?.foreignPct.toFixed(0)} %${st.note ? ` (${st.note})` : ''}`);
          if (st.note && !st.errors && rep === 0) notes.push(`small files ${key}, run 1: ${st.note}`);
        }
      } catch (e) {
        failed.add(`${s.name} put`).add(`${s.name} get`);
        fail(`small files on ${s.name}, run ${rep + 1}`, e);
      }
    }
  }
  for (const s of servers) {
    for (const [op, row] of [['put', small.put], ['get', small.get]] as const) {
      const key = `${s.name} ${op}`;
      const median = medianRun(runs.get(key) ?? []);
      row.set(s.name, failed.has(key) || !median ? null : median);
    }
  }
}

/** Hearth: every page of the directory, following links.next, LIST_PASSES times; one op = one page. */
async function listHearth(s: Server, dir: SmallDir): Promise<Stats> {
  setMeasured(s.pid);
  const lat: number[] = [];
  let errors = 0;
  const c0 = cpuSnap();
  const start = performance.now();
  for (let pass = 0; pass < LIST_PASSES && (pass === 0 || performance.now() - start < LIST_BUDGET_MS); pass++) {
    listPasses = pass + 1;
    const seen = new Set<string>();
    let path: string | null = `/files/${encodeURIComponent(dir.ref)}?page[limit]=${PAGE_LIMIT}`;
    let pages = 0;
    while (path !== null && pages <= SMALL_FILES / PAGE_LIMIT + 2) {
      const t0 = performance.now();
      const res = await call(s, 'GET', path);
      lat.push(performance.now() - t0);
      pages++;
      if (res.status !== 200) throw new Error(`Hearth GET ${path} -> ${res.status} ${res.body.toString().slice(0, 300)}`);
      const body = JSON.parse(res.body.toString()) as { included?: Array<{ id: string }>; links?: { next?: string } };
      for (const f of body.included ?? []) seen.add(f.id);
      if ((body.included?.length ?? 0) > PAGE_LIMIT) errors++;
      path = body.links?.next ?? null;
    }
    if (seen.size !== SMALL_FILES) {
      errors++;
      notes.push(`Hearth listing, pass ${pass + 1}: ${seen.size} distinct files over ${pages} pages instead of ${SMALL_FILES}`);
    }
  }
  const c1 = cpuSnap();
  return { ...summarize(lat, (performance.now() - start) / 1000, errors), cpu: cpuUse(c0, c1, lat.length) };
}

/** CSS: GET of the whole container (Turtle, one `ldp:contains` per file), CSS_LISTINGS times. */
async function listCss(s: Server, dir: SmallDir): Promise<Stats> {
  setMeasured(s.pid);
  const lat: number[] = [];
  let errors = 0;
  const c0 = cpuSnap();
  const start = performance.now();
  for (let i = 0; i < CSS_LISTINGS; i++) {
    const t0 = performance.now();
    const res = await call(s, 'GET', dir.ref, undefined, { accept: 'text/turtle' });
    lat.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`CSS GET ${dir.ref} -> ${res.status} ${res.body.toString().slice(0, 300)}`);
    const names = new Set(res.body.toString().match(/f-\d{6}/g) ?? []);
    if (names.size !== SMALL_FILES) {
      errors++;
      notes.push(`CSS container listing: ${names.size} distinct files instead of ${SMALL_FILES}`);
    }
  }
  const c1 = cpuSnap();
  return { ...summarize(lat, (performance.now() - start) / 1000, errors), cpu: cpuUse(c0, c1, lat.length) };
}

async function wlList(servers: Map<ServerName, Server>): Promise<void> {
  for (const [name, fn] of [['hearth', listHearth], ['css', listCss]] as const) {
    const s = servers.get(name);
    if (!s) continue;
    const dir = listed.get(name);
    if (!dir) {
      notes.push(`listing on ${name}: no directory of ${SMALL_FILES} files (the small-files workload did not run or failed)`);
      listing.set(name, null);
      continue;
    }
    try {
      if (name === 'css') {
        // the files CSS did not PUT itself (see CSS_SMALL_FILES), straight into its folder (not timed)
        const folder = join(s.child.dir, 'data', dir.ref);
        for (let i = CSS_SMALL_FILES; i < SMALL_FILES; i++) await writeFile(join(folder, smallName(i)), smallBody(i));
      }
      const st = await fn(s, dir);
      listing.set(name, st);
      log(`  listing / ${name}: ${st.ops} requests, p50 ${fmtMs(st.p50)} ms, p99 ${fmtMs(st.p99)} ms, server CPU ${st.cpu?.serverUsPerOp.toFixed(0)} µs/request, others' CPU ${st.cpu?.foreignPct.toFixed(0)} %`);
    } catch (e) {
      listing.set(name, null);
      fail(`listing on ${name}`, e);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const has = (col: Column) => (col === 'nodefile' ? SERVERS.includes('disk') && SERVERS.includes('loopback') : SERVERS.includes(col));
const mbps = (t: Transfer | null | undefined) => t?.opsPerSec;
const cell = (row: Row, col: Column, show: (t: Transfer) => string) => {
  if (!has(col) || !row.has(col)) return 'n/a';
  const t = row.get(col);
  return t ? show(t) : 'failed';
};
const withRange = (t: Stats) => `${fmtOps(t.opsPerSec)}${t.range ? ` (${fmtOps(t.range[0])}–${fmtOps(t.range[1])})` : ''}`;
const perGiB = (us: number) => ((us / 1e6) * 2 ** 30) / LARGE_BYTES;

function largeTable(): string {
  const head = ['direction', ...COLUMNS.map((c) => `${LABEL[c]} MB/s`), 'Hearth / raw disk', 'Hearth / loopback', 'Hearth / bare Node file stream', 'Hearth / CSS'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  const what = { up: `upload ${LARGE_MIB} MiB (disk: write + fsync)`, down: `download ${LARGE_MIB} MiB (disk: read, page cache dropped)` };
  for (const dir of ['up', 'down'] as const) {
    const row = large[dir];
    const h = mbps(row.get('hearth'));
    lines.push(`| ${what[dir]} | ${COLUMNS.map((c) => cell(row, c, withRange)).join(' | ')} | ${fmtRatio(h, mbps(row.get('disk')))} | ${fmtRatio(h, mbps(row.get('loopback')))} | ${fmtRatio(h, mbps(row.get('nodefile')))} | ${fmtRatio(h, mbps(row.get('css')))} |`);
  }
  return lines.join('\n');
}

/** The raw disk's and Hearth's uploads, each in both memory states (memoryState). */
function matchedTable(): string {
  const lines = ['| memory state at the start (both alike) | raw disk MB/s | Hearth MB/s | Hearth / raw disk | raw disk CPU s/GiB | Hearth server CPU s/GiB |', '|---|---:|---:|---:|---:|---:|'];
  const rows: Array<[string, Transfer | null | undefined, Transfer | null | undefined]> = [
    ['fresh: freed memory handed back to the host', large.up.get('disk'), large.up.get('hearth')],
    ['recycled: right after 1.1 GiB of page cache was freed', recycledUp.get('disk'), recycledUp.get('hearth')],
  ];
  for (const [label, d, h] of rows) {
    const show = (t: Transfer | null | undefined) => (t ? withRange(t) : 'n/a');
    lines.push(`| ${label} | ${show(d)} | ${show(h)} | ${fmtRatio(mbps(h), mbps(d))} | ${d?.cpu ? perGiB(d.cpu.clientUsPerOp).toFixed(2) : '–'} | ${h?.cpu ? perGiB(h.cpu.serverUsPerOp).toFixed(2) : '–'} |`);
  }
  if (Number.isFinite(md5MBps)) {
    lines.push('', `MD5 alone (node:crypto, one core, the same ${LARGE_MIB} MiB in this process): ${fmtOps(md5MBps)} MB/s, ${(100 * md5MBps / (mbps(recycledUp.get('disk')) || NaN)).toFixed(0)} % of the recycled raw disk write. Hearth must compute it (\`md5sum\`, \`Content-MD5\`), and MD5 cannot be split over cores, so no upload that computes it reaches more than that share in that state. Hearth hashes on a thread of its own while the event loop reads the socket and libuv's threads write, so that the upload's CPU is spread over both cores; the client's sending shares them too.`);
  }
  return lines.join('\n');
}

function largeCpuTable(): string {
  const lines = [
    `| direction | ${COLUMNS.filter((c) => c !== 'disk').map((c) => `${LABEL[c]} server CPU s/GiB`).join(' | ')} | client CPU s/GiB (${COLUMNS.map((c) => LABEL[c]).join(' / ')}) | others' CPU % (max) |`,
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const dir of ['up', 'down'] as const) {
    const row = large[dir];
    const cpu = (c: Column) => row.get(c)?.cpu;
    const foreign = Math.max(...COLUMNS.map((c) => cpu(c)?.foreignPct ?? 0));
    lines.push(`| ${dir === 'up' ? 'upload' : 'download'} | ${COLUMNS.filter((c) => c !== 'disk').map((c) => (cpu(c) ? perGiB(cpu(c)?.serverUsPerOp ?? NaN).toFixed(2) : '–')).join(' | ')} | ${COLUMNS.map((c) => (cpu(c) ? perGiB(cpu(c)?.clientUsPerOp ?? NaN).toFixed(2) : '–')).join(' / ')} | ${foreign.toFixed(0)} |`);
  }
  return lines.join('\n');
}

/** Median of the runs' CPU per GiB for `key`, with the range when there are several. */
function cpuMedian(key: string): { median: number; text: string } | null {
  const list = (cpuRuns.get(key) ?? []).slice().sort((a, b) => a - b);
  const median = list[Math.floor(list.length / 2)];
  if (median === undefined) return null;
  const range = list.length > 1 ? ` (${list[0]!.toFixed(2)}–${list[list.length - 1]!.toFixed(2)})` : '';
  return { median, text: `${median.toFixed(2)}${range}` };
}

/** The upload's CPU against what it cannot avoid: the disk's write + fsync, MD5, and receiving the bytes. */
function uploadBudget(state: MemState | 'recycled paced'): { hearth: number; sum: number; cells: string[] } | null {
  const suffix = state === 'fresh' ? '' : ' recycled';
  const h = cpuMedian(`hearth up${suffix}`);
  const d = cpuMedian(`disk up${state === 'recycled paced' ? ' recycled paced' : suffix}`);
  const l = cpuMedian('loopback up');
  const m = Number.isFinite(md5CpuUs) ? perGiB(md5CpuUs) : NaN;
  if (!h || !d || !l || !Number.isFinite(m)) return null;
  const sum = d.median + m + l.median;
  const part = (name: string) => cpuMedian(`hearth up${suffix} ${name}`)?.text ?? '–';
  return {
    hearth: h.median, sum,
    cells: [h.text, sum.toFixed(2), `${(h.median / sum).toFixed(2)}×`, part('loop'), l.text, part('user'), m.toFixed(2), part('sys'), d.text],
  };
}

/** What the profiles showed about the gap (static: see budgetGaps for this run's numbers). */
const BUDGET_NOTE = 'Where the gap came from, and what is left (perf record -g of a Hearth server during a 512 MiB upload, 2026-12-07, on a machine at load 8 to 26): the event loop\'s thread was a quarter of the process\'s samples, the MD5 thread 27 %, libuv\'s writers 44 %, V8\'s helper threads 4 % (few collections: none of them full during the upload). In the event loop, 22 % of the samples went to copying each 64 KiB chunk into the 4 MiB batch buffers, 26 % to Node\'s HTTP parser copying each chunk out of its read buffer (more than half of it in page faults on the memory it allocates), and 20 % to the kernel\'s socket read. The batch copy is gone: a batch is now the list of the parser\'s chunks, moved (transferred) to the MD5 thread, which hashes it, starts its writev and frees the chunks once written (src/files/blobs/md5-thread.ts). What the event loop does beyond the bare server is now the hand-off of one message per 4 MiB batch and its share of the parser\'s page faults. On this shared VM every CPU figure grows with the other sessions\' load (MD5 alone: 1.35 s/GiB on a quiet machine).';

/** Where Hearth's upload CPU exceeds the references, part by part (fresh memory). */
function budgetGaps(): string {
  const part = (name: string) => cpuMedian(`hearth up ${name}`)?.median ?? NaN;
  const d = cpuMedian('disk up')?.median ?? NaN;
  const l = cpuMedian('loopback up')?.median ?? NaN;
  const m = Number.isFinite(md5CpuUs) ? perGiB(md5CpuUs) : NaN;
  const b = uploadBudget('fresh');
  if (!b) return '';
  const gap = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`;
  return `In fresh memory Hearth used ${gap(b.hearth - b.sum)} s/GiB against the sum: event loop ${gap(part('loop') - l)} against receiving alone, user-time threads ${gap(part('user') - m)} against MD5 alone, system-time threads ${gap(part('sys') - d)} against the raw disk's write + fsync.`;
}

function budgetTable(): string {
  const lines = [
    '| memory state at the start | Hearth server CPU | sum of the three references | Hearth / sum | Hearth\'s event loop thread | loopback receive (bare server) | Hearth\'s threads mostly in user time (MD5, V8\'s helpers) | MD5 alone (one core) | Hearth\'s threads mostly in system time (libuv\'s writers) | raw disk write + fsync |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const state of ['fresh', 'recycled', 'recycled paced'] as const) {
    const b = uploadBudget(state);
    const name = state === 'recycled paced' ? 'recycled, the raw disk write paced to last as long as Hearth\'s upload' : state;
    lines.push(`| ${name} | ${b ? b.cells.join(' | ') : `not measured${' | '.repeat(9)}`} |`);
  }
  return lines.join('\n');
}

function rssTable(): string {
  const lines = ['| server, transfer | RSS before (MB) | peak during (MB) | growth (MB) |', '|---|---:|---:|---:|'];
  for (const key of ['hearth up', 'hearth down', 'css up', 'css down']) {
    const g = rssGrowth.get(key);
    if (!g) continue;
    const [name, dir] = key.split(' ');
    lines.push(`| ${name === 'hearth' ? 'Hearth' : 'CSS'}, ${dir === 'up' ? 'upload' : 'download'} | ${g.before.toFixed(1)} | ${g.peak.toFixed(1)} | ${(g.peak - g.before).toFixed(1)} |`);
  }
  return lines.join('\n');
}

function smallTable(): string {
  const cols: ServerName[] = ['hearth', 'css'];
  const head = ['workload', ...cols.flatMap((c) => [`${LABEL[c]} ops/s`, 'p50 ms', 'p99 ms']), 'Hearth / CSS', `server CPU µs/op (${cols.map((c) => LABEL[c]).join(' / ')})`, 'client CPU µs/op (H / C)', "others' CPU % (max)"];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  const what = {
    put: `PUT ${SMALL_FILES.toLocaleString('en')} files of 1–4 KiB into a new directory (CSS: the first ${CSS_SMALL_FILES.toLocaleString('en')}, one run), c=${CONCURRENCY}`,
    get: `GET them back, c=${CONCURRENCY}`,
  };
  for (const op of ['put', 'get'] as const) {
    const row = small[op];
    const cells = cols.flatMap((c) => {
      if (!row.has(c)) return ['n/a', '', ''];
      const t = row.get(c);
      return t ? [`${withRange(t)}${t.errors ? ` (${t.errors} errors!)` : ''}`, fmtMs(t.p50), fmtMs(t.p99)] : ['failed', '', ''];
    });
    const cpu = (c: ServerName) => row.get(c)?.cpu;
    lines.push(`| ${what[op]} | ${cells.join(' | ')} | ${fmtRatio(mbps(row.get('hearth')), mbps(row.get('css')))} | ${cols.map((c) => cpu(c)?.serverUsPerOp.toFixed(0) ?? '–').join(' / ')} | ${cols.map((c) => cpu(c)?.clientUsPerOp.toFixed(0) ?? '–').join(' / ')} | ${Math.max(...cols.map((c) => cpu(c)?.foreignPct ?? 0)).toFixed(0)} |`);
  }
  return lines.join('\n');
}

function listingTable(): string {
  const lines = ['| server, request | requests | p50 ms | p99 ms | server CPU µs/request | others\' CPU % |', '|---|---:|---:|---:|---:|---:|'];
  const row = (label: string, st: Stats | null | undefined, present: boolean) => {
    if (!present) return;
    if (!st) return void lines.push(`| ${label} | failed | | | | |`);
    lines.push(`| ${label} | ${st.ops}${st.errors ? ` (${st.errors} errors!)` : ''} | ${fmtMs(st.p50)} | ${fmtMs(st.p99)} | ${st.cpu?.serverUsPerOp.toFixed(0) ?? '–'} | ${st.cpu?.foreignPct.toFixed(0) ?? '–'} |`);
  };
  row(`Hearth, one page of ${PAGE_LIMIT} (\`GET /files/<dir>?page[limit]=${PAGE_LIMIT}\`, then \`links.next\`), ${listPasses} pass(es) over ${SMALL_FILES.toLocaleString('en')} files`, listing.get('hearth'), listing.has('hearth'));
  row(`CSS, the whole container (\`GET /small-0/\`, Turtle, ${SMALL_FILES.toLocaleString('en')} entries), ${CSS_LISTINGS} times`, listing.get('css'), listing.has('css'));
  return lines.join('\n');
}

function targets(): Target[] {
  const fullSize = LARGE_MIB === 1024;
  const ratio = (name: string, goal: string, a: Transfer | null | undefined, b: Transfer | null | undefined, min: number, what: string): Target => {
    if (!a || !b) return { name, goal, measured: 'not measured', pass: null };
    const r = a.opsPerSec / b.opsPerSec;
    return { name, goal, measured: `${(100 * r).toFixed(0)} % (${fmtOps(a.opsPerSec)} vs ${fmtOps(b.opsPerSec)} MB/s ${what})`, pass: r >= min };
  };
  const hp = small.put.get('hearth');
  const cp = small.put.get('css');
  const list = listing.get('hearth');
  const growth = ['hearth up', 'hearth down'].map((k) => rssGrowth.get(k)).filter((g) => g !== undefined);
  const worst = Math.max(...growth.map((g) => g.peak - g.before));
  const budget = uploadBudget('fresh');
  return [
    budget
      ? { name: `large upload (${LARGE_MIB} MiB) server CPU, fresh memory`, goal: '≤ 1.15 × (raw disk write + MD5 + loopback receive)', measured: `${(budget.hearth / budget.sum).toFixed(2)}× (${budget.hearth.toFixed(2)} vs ${budget.sum.toFixed(2)} s/GiB)`, pass: budget.hearth <= 1.15 * budget.sum }
      : { name: 'large upload server CPU', goal: '≤ 1.15 × (raw disk write + MD5 + loopback receive)', measured: 'not measured', pass: null },
    ratio(`large upload (${LARGE_MIB} MiB), both starting in fresh memory`, '≥ 70 % of raw disk write', large.up.get('hearth'), large.up.get('disk'), 0.7, 'write + fsync'),
    ratio(`large upload (${LARGE_MIB} MiB), both starting in recycled memory`, '≥ 70 % of raw disk write', recycledUp.get('hearth'), recycledUp.get('disk'), 0.7, 'write + fsync'),
    ratio(`large download (${LARGE_MIB} MiB)`, '≥ 80 % of loopback', large.down.get('hearth'), large.down.get('loopback'), 0.8, 'from memory'),
    hp && cp && !hp.errors && !cp.errors
      ? { name: `small-file PUT (1–4 KiB, c=${CONCURRENCY}; Hearth ${SMALL_FILES.toLocaleString('en')} files, CSS the first ${CSS_SMALL_FILES.toLocaleString('en')})`, goal: '≥ 10× CSS', measured: `${(hp.opsPerSec / cp.opsPerSec).toFixed(2)}× (${fmtOps(hp.opsPerSec)} vs ${fmtOps(cp.opsPerSec)} ops/s; server CPU per op ${hp.cpu && cp.cpu ? `${(cp.cpu.serverUsPerOp / hp.cpu.serverUsPerOp).toFixed(2)}× less` : '?'})`, pass: hp.opsPerSec / cp.opsPerSec >= 10 }
      : { name: 'small-file PUT', goal: '≥ 10× CSS', measured: hp?.errors || cp?.errors ? 'invalid: bad answers (see notes)' : 'not measured', pass: null },
    list && !list.errors
      ? { name: `listing page p50 (${SMALL_FILES.toLocaleString('en')} files, ${PAGE_LIMIT} per page)`, goal: '< 20 ms', measured: `${fmtMs(list.p50)} ms (p99 ${fmtMs(list.p99)} ms)`, pass: SMALL_FILES >= 10_000 ? list.p50 < 20 : null }
      : { name: 'listing page p50', goal: '< 20 ms', measured: list?.errors ? 'invalid: bad answers (see notes)' : 'not measured', pass: null },
    growth.length
      ? { name: `Hearth RSS growth during the ${LARGE_MIB} MiB upload / download`, goal: '< 64 MB', measured: ['hearth up', 'hearth down'].map((k) => { const g = rssGrowth.get(k); return g ? `${(g.peak - g.before).toFixed(1)} MB` : '–'; }).join(' / '), pass: fullSize ? worst < 64 : null }
      : { name: 'Hearth RSS growth during the large transfers', goal: '< 64 MB', measured: 'not measured', pass: null },
  ];
}

function versions(): Record<string, string> {
  return {
    node: process.version,
    fastify: pkgVersion(join(ROOT, 'node_modules/fastify/package.json')),
    'better-sqlite3': pkgVersion(join(ROOT, 'node_modules/better-sqlite3/package.json')),
    '@solid/community-server': cssVersion !== '?' ? cssVersion : pkgVersion(join(BENCH_DIR, 'node_modules/@solid/community-server/package.json')),
  };
}

function report(ts: Target[]): string {
  return [
    `Large file (MB/s, 1 MB = 10^6 bytes; median of ${REPEATS} run(s), range in parentheses; the uploads of the raw disk and Hearth start in fresh memory, see below):`, '', largeTable(), '',
    'The large upload, raw disk and Hearth each starting in the same memory state (see the method), in both states:', '', matchedTable(), '',
    'Server CPU for the large file (user + system from /proc/<pid>/stat, seconds per GiB) and the CPU that processes outside the benchmark used meanwhile:', '', largeCpuTable(), '',
    `The large upload's server CPU (all its threads: the event loop, the MD5 thread, libuv's writers, V8's) against the sum of what it cannot avoid, each measured in this run (s/GiB, median of ${REPEATS} run(s), range in parentheses): writing the bytes and fsyncing them (the raw disk reference's CPU, starting in the same memory state), MD5 over them (node:crypto in this process), and receiving them over loopback HTTP (the bare server's CPU, which reads and discards the body). Each part of Hearth's CPU (its threads, from /proc/<pid>/task) stands next to the reference it should match: the event loop reads the socket (Node's HTTP parser copies each chunk) and gathers the chunks into batches, which it moves to the MD5 thread; that thread hashes them and starts their writes; libuv's writers copy them into the page cache and fsync:`, '', budgetTable(), '', budgetGaps(), '', BUDGET_NOTE, '',
    `RSS of the servers while they move the large file (the worst of the ${REPEATS} run(s); peak = VmHWM after resetting it through /proc/<pid>/clear_refs, or the highest 20 ms sample):`, '', rssTable(), '',
    `Small files (ops/s; median of ${REPEATS} run(s), range in parentheses; p50/p99 = request latency in ms as seen by the client):`, '', smallTable(), '',
    'Listing a directory of the small files (one request at a time):', '', listingTable(), '',
    targetTable(ts),
  ].join('\n');
}

function resultsMd(ts: Target[], minutes: number): string {
  const v = versions();
  return `# Hearth /files benchmark

Generated by \`npm run bench\` (bench/run.sh → bench/files.bench.ts, after bench/data.bench.ts whose results are in
[RESULTS.md](RESULTS.md)) on ${new Date().toISOString()}; this part took ${minutes.toFixed(1)} min.

- Code: ${gitInfo()}
- Machine: ${machine()}
- Versions: ${Object.entries(v).map(([k, x]) => `${k} ${x}`).join(', ')}

## Results

${report(ts).replace(/\n\| target \| goal/, '\n## Targets (2 cores)\n\n| target | goal')}
${notes.length ? `\nNotes from the run:\n\n${notes.map((n) => `- ${n}`).join('\n')}\n` : ''}
## Method

One client process (this script, Node ${process.version}) drives three servers, each a separate child process with its own
temporary directory (all on the same ${fsType(tmpdir())} filesystem, ${tmpdir()}) and an ephemeral port on 127.0.0.1, started together and
measured one at a time (the others idle), all compiled to plain JS by \`tsc\` (bench/tsconfig.servers.json):
**Hearth** (bench/hearth-server.ts: \`createHearth(testConfig(dir))\`, one instance \`localhost:<port>\`, a CLI token for
\`io.cozy.files\` sent as \`Authorization: Bearer\`, \`Host\` = the instance domain; its blob store fsyncs each file and its
folder before answering), **Community Solid Server ${v['@solid/community-server']}** (bench/css-server.ts: its AppRunner with
bench/css-config.json, which is the shipped \`@css:config/file-root.json\` — resources as plain files under the temporary
directory, WAC authorization with a root ACL that lets anyone read and write, so no authentication — with one override: its
resource locks expire after 10 minutes instead of 6 s, because a write does not renew its lock and with the shipped value
any PUT that takes over 6 s fails with \`500 Lock expired after 6000ms\` (a 1 GiB upload slower than ~180 MB/s, as 2 of 3 CSS
uploads did in an earlier run of this benchmark under outside load); its log is at level \`warn\`; it writes files with a plain write stream and never
fsyncs, so an acknowledged upload can be lost on a power cut), and a **bare node:http server**
(bench/loopback-server.ts) that streams the same bytes from memory in 64 KiB writes (Node's file-stream chunk) or reads a
body and discards it: the loopback ceiling; the same server also streams the raw disk reference's file, just read and so in the
page cache, with \`fs.createReadStream\` (64 KiB reads) piped into the response — "bare Node file stream", what a download costs in
Node without any framework, an extra reference for the download. The **raw disk** reference runs in this process: it writes the same bytes in
1 MiB pieces to a new file in a temporary directory of the same filesystem, fsyncs the file and its folder, then drops the
file from the page cache (\`dd iflag=nocache count=0\`, posix_fadvise DONTNEED on that file only) and reads it back in 1 MiB
reads. Every byte is the same pseudo-random 16 MiB block (bench/pattern.ts) repeated; every download and read is compared
with it byte for byte by the client (memcmp), and Hearth's \`md5sum\` and \`size\` of the upload are checked.

Large file: ${LARGE_MIB} MiB sent as one raw body with \`Content-Length\` (the client writes 1 MiB pieces with back-pressure) —
Hearth \`POST /files/io.cozy.files.root-dir?Type=file&Name=big-N.bin\` then \`GET /files/download/<id>\`, CSS \`PUT /large/big-N.bin\`
then \`GET\`, loopback \`PUT /sink\` and \`GET /blob\`. MB/s = bytes over the time from the first byte sent to the answer (upload)
or to the last byte received (download). Before each timed step \`sync\` (not timed) writes out the dirty pages of the steps
before, so that none pays for another's writeback. This virtual machine hands freed memory back to its host over a few
seconds (free page reporting), and a write into pages the host must provide again costs 2–3 s of CPU per GiB instead of
0.25 s: the same 1 GiB write and fsync goes at 1,650 MB/s right after a 1 GiB file was deleted, 710 two seconds later,
560 after four and 370 after eight. What a large upload measures thus depends on what came just before, so the uploads
of the raw disk and Hearth each run twice per run, every time from a state set up alike (\`memoryState\` in the script):
**fresh** (the wait ends once the guest's \`reported_kib\` counter has not moved for 3 s: every page is new to the host) and
**recycled** (right after a scratch file of 1.1 GiB was written, synced and deleted, so the write reuses its pages, as a
long-running server whose page cache fills its memory does). The recycled pages go back to the host within seconds
too, so that state favours the faster writer: the raw disk's write (under 1 s) finds them all, while an upload that takes
2–4 s meets fresh pages for its later part (Hearth's server CPU per GiB in that state shows how much): the raw disk's write
thus runs a third time from that state, paced to last as long as Hearth's upload just did (the CPU table's last row). The first table shows the fresh uploads; the other steps
(CSS, loopback, the downloads) wait ${SETTLE_MS / 1000} s after their \`sync\`. Hearth's and CSS's downloads read a file they have just written (in the
page cache, as for most downloads of recent files), while the raw disk read is cold; the download target therefore compares
Hearth with the loopback server streaming from memory. Each server first moves a ${WARMUP_BYTES / 2 ** 20} MiB file each way (not measured); the ${REPEATS} run(s) then go raw disk (fresh), loopback, CSS, Hearth (fresh), raw disk (recycled), Hearth (recycled) in turn, and the
tables show the median run with the range. RSS growth = peak RSS (VmHWM, reset just before through
\`/proc/<pid>/clear_refs\`, with a 20 ms RSS sampling as fallback) minus VmRSS just before the transfer, the worst run shown.

Small files: ${SMALL_FILES.toLocaleString('en')} files of 1–4 KiB (sizes spread evenly) with ${CONCURRENCY} requests in flight over a keep-alive
\`node:http\` Agent (${CONCURRENCY} sockets) into a new directory per run — Hearth \`POST /files/<dir-id>?Type=file&Name=f-NNNNNN\`
(raw body), CSS \`PUT /small-N/f-NNNNNN\` into a container created first — then a GET of each (Hearth
\`/files/download/<id>\`, checked against what was sent); ${SMALL_WARMUP} files into a warm-up directory first; ${REPEATS} run(s) for
Hearth. CSS PUTs only the first ${CSS_SMALL_FILES.toLocaleString('en')} files, in one run: its PUT rate falls as its container fills
(see the notes for the rate over the first and the last quarter of each server's PUTs), so ${SMALL_FILES.toLocaleString('en')} would take
several minutes; measuring it on the smaller container is in its favour. The other ${(SMALL_FILES - CSS_SMALL_FILES).toLocaleString('en')} files of
its listed container are written straight into its folder before the listing (CSS keeps each resource as a plain file of
the same name, as its own PUTs left the first ones). Listing: the first run's directory of ${SMALL_FILES.toLocaleString('en')} files, on Hearth page by page with
\`page[limit]=${PAGE_LIMIT}\` following \`links.next\` until there is none (up to ${LIST_PASSES} passes, none started after
${LIST_BUDGET_MS / 1000} s; here ${listPasses}; each pass checked to see every file once), on CSS the whole container as Turtle (${CSS_LISTINGS} times, each checked to name every file). Server CPU per op comes from
\`/proc/<pid>/stat\` (user + system time of the server process over the measured window), client CPU from this process, and
"others' CPU" is the machine's busy time from \`/proc/stat\` minus the benchmark's processes: other sessions' tests share
this 2-core machine, so a high value there makes that row's throughput and latencies pessimistic, while the CPU figures are
not affected much.
`;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  startWatchdog(WATCHDOG_MS);
  const started = performance.now();
  log(`files: starting servers (${SERVERS.filter((s) => s !== 'disk').join(', ')}), large file ${LARGE_MIB} MiB, ${SMALL_FILES} small files, concurrency ${CONCURRENCY}${QUICK ? ', QUICK' : ''}`);
  const starters: Record<ServerName, () => Promise<Server>> = { hearth: startHearth, css: startCss, loopback: startLoopback };
  const list = await Promise.all(
    (['hearth', 'css', 'loopback'] as const).filter((n) => SERVERS.includes(n)).map((n) =>
      starters[n]().catch((e: unknown) => {
        fail(`starting ${n}`, e);
        return null;
      }),
    ),
  );
  const servers = new Map<ServerName, Server>(list.filter((s): s is Server => s !== null).map((s) => [s.name, s]));
  try {
    if (WORKLOADS.includes('large')) {
      log(`large file (${LARGE_MIB} MiB, ${REPEATS} run(s))`);
      await wlLarge(servers);
    }
    const stores = (['hearth', 'css'] as const).map((n) => servers.get(n)).filter((s): s is Server => s !== undefined);
    if (WORKLOADS.includes('small')) {
      log(`small files (${SMALL_FILES}, c=${CONCURRENCY}, ${REPEATS} run(s))`);
      await wlSmall(stores);
    }
    if (WORKLOADS.includes('list')) {
      log(`listing a directory of ${SMALL_FILES} files`);
      await wlList(servers);
    }
  } finally {
    log('stopping servers');
    await Promise.all([...servers.values()].map((s) => stopServer(s)));
  }
  const minutes = (performance.now() - started) / 60_000;
  const ts = targets();
  const out = [report(ts), ...(notes.length ? ['', 'Notes:', ...notes.map((n) => `- ${n}`)] : [])].join('\n');
  process.stdout.write(`\n${out}\n\nfiles benchmark took ${minutes.toFixed(1)} min\n`);
  if (FULL_RUN) {
    writeFileSync(join(BENCH_DIR, 'RESULTS-files.md'), resultsMd(ts, minutes));
    process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-files.md')}\n`);
  }
}

main().catch((e: unknown) => {
  log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  killChildren();
  process.exit(1);
});
