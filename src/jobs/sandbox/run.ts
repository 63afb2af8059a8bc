/**
 * Runs third-party JavaScript (konnectors, app services) in a separate Node process under Node 20's
 * permission model (`--experimental-permission`).
 *
 * Why the permission model and not bubblewrap/nsjail (cozy-stack uses nsjail): it runs unprivileged, needs no
 * user namespaces (often disabled in containers and on hardened hosts), and ships with the Node that runs
 * Hearth: nothing else to install (`bwrap` is not even present on the reference machine).
 *
 * What was checked on Node 20.20 (run.test.ts asserts the reads, writes, spawn, symlink and signal cases; the
 * others were checked by hand):
 * - reading outside the code and work dirs (the stack's data dir, `/etc/passwd`, `..` paths), even stat/exists,
 *   and writing, renaming, chmod outside the work dir: ERR_ACCESS_DENIED;
 * - child processes (spawn/exec), worker threads, WASI, the inspector, process.binding, native addons: refused
 *   (no --allow-child-process / --allow-worker / --allow-wasi / --allow-addons);
 * - symlinks: fs.symlink is refused unless the process has *full* read and write rights ("fs.symlink API
 *   requires full fs.read and fs.write permissions"), hard links are refused too; so the sandbox cannot make one.
 *   But the model checks the path named, not where it leads: a symlink that already sits in an allowed dir and
 *   points outside IS followed. Mitigation: the work dir is a fresh mkdtemp (empty), and the code dir is scanned
 *   before each run; a symlink there leading outside refuses the run (harden.ts). Allowed dirs are given as real
 *   paths (the loader reads modules by their real path). Hard links placed in the code dir by whoever installs
 *   it cannot be told apart from ordinary files: installing code is the operator's trust decision.
 * - the model does NOT cover signals: unhardened, `process.kill(process.ppid)` stops the stack and
 *   `process._debugProcess(ppid)` opens the stack's inspector (a full escape). A preload (`--import=data:`)
 *   removes those methods (harden.ts).
 * - the model has no network rule in Node 20: sandboxed code can reach any address the stack can, the admin
 *   port on loopback included. That port asks for the admin passphrase, except in --dev, where loopback calls
 *   are let through: in --dev a konnector can mint tokens through the admin API. Run untrusted konnectors only
 *   without --dev, and firewall the host (outgoing traffic of the stack's user) if they must not reach the LAN.
 * - 20.20 refuses comma-separated --allow-fs-* lists: one flag per path.
 * The environment is built from scratch (never the parent's: no HEARTH_* secrets), with a minimal PATH and LANG.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PRELOAD_URL, assertNoEscapingLinks, isInside } from './harden.js';

export interface SandboxLine {
  /** `{type, message, …}`: a JSON line as written, or a system line (`type: 'info'`). */
  event: Record<string, unknown> & { type: string; message: string };
  /** Not JSON (or written on stderr): kept in the system logs, not published as an event. */
  system: boolean;
  stream: 'stdout' | 'stderr';
}

export interface SandboxOptions {
  /** The code, readable by the process (never writable). */
  codeDir: string;
  /** The script to run, relative to codeDir (or absolute, inside it). */
  entry: string;
  /** COZY_* variables (and NODE_ENV, TZ); nothing else is passed. */
  env: Record<string, string>;
  timeoutMs: number;
  /** The cap on the process's resident memory (RSS): JS heap and Buffers alike. */
  memoryMb: number;
  /** stdout + stderr bytes before the process is stopped. */
  outputBytes: number;
  signal?: AbortSignal;
  onLine?: (line: SandboxLine) => void;
  /** Between SIGTERM and SIGKILL (default 2 s). */
  killGraceMs?: number;
}

export interface SandboxResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  outputExceeded: boolean;
  /** The RSS went over memoryMb and the process was killed (SIGKILL). */
  memoryExceeded: boolean;
  aborted: boolean;
  durationMs: number;
  /** The last bytes written on stderr (a crash's stack trace). */
  stderrTail: string;
}

const ENV_RE = /^(COZY_[A-Z0-9_]+|NODE_ENV|TZ)$/;
const TAIL = 4096;
/** What an empty Node process holds outside its JS heap (code, V8, libuv): kept out of the heap's share of the cap. */
const BASE_RSS_MB = 48;
const MEMORY_POLL_MS = 100;
const PAGE_BYTES = 4096;

/** The resident bytes of `pid` from /proc (Linux), or null once it is gone. */
function residentBytes(pid: number): number | null {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES;
  } catch {
    return null;
  }
}

/** The node arguments of a sandboxed run (exported for the start-up measurement and the tests). */
export function sandboxArgs(realCodeDir: string, realWorkDir: string, memoryMb: number): string[] {
  return [
    '--experimental-permission',
    `--allow-fs-read=${realCodeDir}`,
    `--allow-fs-read=${realWorkDir}`,
    `--allow-fs-write=${realWorkDir}`,
    // the heap gets the cap less an empty process's share: heap overflows end in V8's own error, the rest in the RSS watchdog
    `--max-old-space-size=${Math.max(16, Math.floor(memoryMb - BASE_RSS_MB))}`,
    '--disable-warning=ExperimentalWarning',
    `--import=${PRELOAD_URL}`,
  ];
}

export async function runSandboxed(opts: SandboxOptions): Promise<SandboxResult> {
  const codeDir = realpathSync(opts.codeDir);
  const entry = realpathSync(resolve(codeDir, opts.entry));
  if (!isInside(codeDir, entry)) throw new Error(`the entry ${opts.entry} is not inside ${codeDir}`);
  assertNoEscapingLinks(codeDir);
  for (const key of Object.keys(opts.env)) if (!ENV_RE.test(key)) throw new Error(`the sandbox passes only COZY_* variables, not ${key}`);
  const workDir = realpathSync(mkdtempSync(join(tmpdir(), 'hearth-sandbox-')));
  try {
    return await spawnIn(opts, codeDir, entry, workDir);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function spawnIn(opts: SandboxOptions, codeDir: string, entry: string, workDir: string): Promise<SandboxResult> {
  const started = performance.now();
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', HOME: workDir, TMPDIR: workDir, ...opts.env };
  const child = spawn(process.execPath, [...sandboxArgs(codeDir, workDir, opts.memoryMb), entry], { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const res: SandboxResult = { exitCode: null, signal: null, timedOut: false, outputExceeded: false, memoryExceeded: false, aborted: false, durationMs: 0, stderrTail: '' };
  let written = 0;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (child.exitCode !== null || child.signalCode !== null || killTimer) return;
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), opts.killGraceMs ?? 2000);
  };
  const timer = setTimeout(() => {
    res.timedOut = true;
    stop();
  }, opts.timeoutMs);
  const onAbort = () => {
    res.aborted = true;
    stop();
  };
  // Buffers and native memory are outside --max-old-space-size: the RSS is watched and over the cap the process is killed
  const memoryLimit = opts.memoryMb * 1024 * 1024;
  const watchdog = setInterval(() => {
    const rss = child.pid === undefined ? null : residentBytes(child.pid);
    if (rss === null || rss <= memoryLimit || res.memoryExceeded) return;
    res.memoryExceeded = true;
    child.kill('SIGKILL');
  }, MEMORY_POLL_MS);
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const deliver = (line: string, stream: 'stdout' | 'stderr') => {
    if (res.outputExceeded || line.trim() === '') return;
    if (stream === 'stderr') res.stderrTail = (res.stderrTail + line + '\n').slice(-TAIL);
    opts.onLine?.(parseLine(line, stream));
  };
  const reader = (stream: 'stdout' | 'stderr') => {
    let partial = '';
    return {
      data(chunk: Buffer) {
        written += chunk.length;
        if (written > opts.outputBytes) {
          if (!res.outputExceeded) stop();
          res.outputExceeded = true;
          return;
        }
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) deliver(line, stream);
      },
      end: () => deliver(partial, stream),
    };
  };
  const out = reader('stdout');
  const err = reader('stderr');
  child.stdout.on('data', out.data);
  child.stderr.on('data', err.data);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      clearInterval(watchdog);
      opts.signal?.removeEventListener('abort', onAbort);
      out.end();
      err.end();
      Object.assign(res, { exitCode: code, signal, durationMs: performance.now() - started });
      resolve(res);
    });
  });
}

function parseLine(line: string, stream: 'stdout' | 'stderr'): SandboxLine {
  if (stream === 'stdout' && line.startsWith('{')) {
    try {
      const v = JSON.parse(line) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        const o = v as Record<string, unknown>;
        const type = typeof o.type === 'string' && o.type ? o.type : 'info';
        const message = typeof o.message === 'string' ? o.message : o.message === undefined ? '' : JSON.stringify(o.message);
        return { event: { ...o, type, message }, system: false, stream };
      }
    } catch {
      // not JSON: a system line
    }
  }
  return { event: { type: 'info', message: line }, system: true, stream };
}

/** One line saying why a crashed process stopped, from its stderr: `Error: … (ERR_X)`. */
export function crashSummary(stderrTail: string): string {
  const lines = stderrTail.split('\n').map((l) => l.trim());
  const error = lines.find((l) => /^([A-Za-z]*Error|Uncaught)\b/.test(l));
  const code = lines.map((l) => /^code: '([A-Z0-9_]+)'/.exec(l)?.[1]).find(Boolean);
  const text = error ?? lines.filter(Boolean).slice(-1)[0] ?? '';
  return (code && !text.includes(code) ? `${text} (${code})` : text).slice(0, 300);
}

/** Start-up cost of an empty sandboxed run (runSandboxed: work dir, scan, process) against `node -e ''`, median ms: for the benchmarks. */
export async function measureStartupOverhead(runs = 5): Promise<{ plainMs: number; sandboxedMs: number }> {
  const codeDir = mkdtempSync(join(tmpdir(), 'hearth-empty-'));
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const plainRun = () =>
    new Promise<void>((resolve, reject) => {
      const c = spawn(process.execPath, ['-e', ''], { cwd: codeDir, env: { PATH: '/usr/bin:/bin' }, stdio: 'ignore' });
      c.on('error', reject);
      c.on('close', () => resolve());
    });
  const timed = async (f: () => Promise<unknown>) => {
    const t = performance.now();
    await f();
    return performance.now() - t;
  };
  try {
    writeFileSync(join(codeDir, 'index.js'), '');
    const plain: number[] = [];
    const boxed: number[] = [];
    for (let i = 0; i < runs; i++) {
      plain.push(await timed(plainRun));
      boxed.push(await timed(() => runSandboxed({ codeDir, entry: 'index.js', env: {}, timeoutMs: 30_000, memoryMb: 256, outputBytes: 1 << 20 })));
    }
    return { plainMs: median(plain), sandboxedMs: median(boxed) };
  } finally {
    rmSync(codeDir, { recursive: true, force: true });
  }
}
