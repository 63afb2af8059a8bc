/**
 * The import of bench/import.bench.ts run by a real `hearth serve` (bin/hearth.js, build first): the same process, flags
 * and settings as in production (the bundle, V8's start-up flags given back once it listens, glibc's malloc thresholds
 * fixed a second after it listens: src/server/young-gen.ts, src/common/malloc-trim.ts), the import asked through the
 * admin API (`POST /instances/:domain/import?source=<file>`, as `hearth instances import` does) and its NDJSON read to
 * the end. Measured on the server process from outside: its peak RSS (VmHWM, reset to the RSS just before the import:
 * not a sample), its CPU time (/proc/<pid>/stat: every thread, the hashing one included), and, at the largest RSS sampled
 * every 250 ms, the kernel's view of it (malloc's heaps against the rest of the anonymous memory, bench/memory-probe.ts)
 * and the process's own (V8's heap and spaces, array buffers: a few lines loaded with `--import` before bin/hearth.js,
 * sampling every 250 ms, idle otherwise). The server is stopped (SIGTERM) before this resolves; its data stays.
 * BENCH_IMPORT_TRACE=<file>: those samples written there (seconds, then MB over the baseline: RSS, new space, old space,
 * heap used, array buffers, external).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { freePort } from '../test/helpers/ports.js';
import { kernelView } from './memory-probe.js';
import { procCpuMs, resetPeakRss, ROOT, rssMB } from './lib.js';

const PASS = 'bench-import-admin';
const MiB = 1024 * 1024;

/**
 * Loaded in the server before bin/hearth.js: on a first SIGUSR2 it takes its memory as the baseline and samples it every
 * 250 ms, keeping the sample of the largest RSS; on the second it writes both to BENCH_IMPORT_MEMORY_FILE and stops.
 */
const PROBE = `
import { writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
const take = () => ({ ...process.memoryUsage(), spaces: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size])) });
const MB = (n) => Math.round(n / 1048576);
let base = null, peak = null, timer = null, series = [], t0 = 0;
process.on('SIGUSR2', () => {
  if (!timer) {
    base = peak = take();
    t0 = Date.now();
    timer = setInterval(() => {
      const m = take();
      if (m.rss > peak.rss) peak = m;
      series.push([(Date.now() - t0) / 1000, MB(m.rss - base.rss), MB(m.spaces.new_space - base.spaces.new_space), MB(m.spaces.old_space - base.spaces.old_space), MB(m.heapUsed - base.heapUsed), MB(m.arrayBuffers - base.arrayBuffers), MB(m.external - base.external)]);
    }, 250);
    return;
  }
  clearInterval(timer);
  timer = null;
  writeFileSync(process.env.BENCH_IMPORT_MEMORY_FILE, JSON.stringify({ base, peak, series }));
});
`;

type Usage = NodeJS.MemoryUsage & { spaces: Record<string, number> };

export interface ServedImport {
  report: { docs: number; files: number; skipped_count: number };
  seconds: number;
  /** CPU time of the server process during the import (user + system, every thread). */
  cpuSeconds: number;
  rssBefore: number;
  /** VmHWM after the import, reset to the RSS just before it. */
  peakGrowth: number;
  /** The largest RSS sampled every 250 ms (kernel side), and its view by kind then, MB over the baseline. */
  sampled: { growth: number; mallocHeaps: number; otherAnon: number; file: number };
  /** The server's own account at its largest RSS sampled (MB over its baseline). */
  own: { rss: number; heapTotal: number; heapUsed: number; newSpace: number; oldSpace: number; arrayBuffers: number; external: number };
}

function admin(port: number, method: string, path: string, body?: unknown, onLine?: (line: string) => void): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, method, path, headers: { authorization: `Basic ${Buffer.from(`:${PASS}`).toString('base64')}`, ...(payload ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text = (text + d).slice(-1_000_000);
        if (!onLine) return;
        const lines = (rest + d).split('\n');
        rest = lines.pop()!;
        for (const l of lines) if (l) onLine(l);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Imports `archive` into a new instance of a `hearth serve` on `dataDir`. `nodeFlags`: extra flags for its node (a CPU profile). */
export async function importServed(dataDir: string, domain: string, archive: string, nodeFlags: string[] = [], env: Record<string, string> = {}): Promise<ServedImport & { series: number[][] }> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const memoryFile = join(dataDir, '..', 'server-memory.json');
  const child = spawn(process.execPath, [...nodeFlags, '--import', `data:text/javascript,${encodeURIComponent(PROBE)}`, join(ROOT, 'bin', 'hearth.js'), 'serve'], {
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', BENCH_IMPORT_MEMORY_FILE: memoryFile,
      HEARTH_DATA_DIR: dataDir, HEARTH_SERVER_PORT: String(port), HEARTH_ADMIN_PORT: String(adminPort), HEARTH_ADMIN_PASSPHRASE: PASS,
      HEARTH_LOG_LEVEL: 'warn', HEARTH_MAIL_MODE: 'outbox', HEARTH_APPS_REGISTRIES: '', HEARTH_APPS_BUILTIN_REGISTRY: '', ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const pid = child.pid!;
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`hearth serve exited with ${child.exitCode}: ${stderr}`);
      const up = await admin(adminPort, 'GET', '/instances').then((r) => r.status === 200, () => false);
      if (up) break;
      if (i > 600) throw new Error(`hearth serve did not start in 60 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const created = await admin(adminPort, 'POST', '/instances', { domain });
    if (created.status !== 201) throw new Error(`the instance was not created: ${created.status} ${created.text}`);
    // past the server's first seconds (glibc's thresholds are fixed 1 s after it listens), as a server that has been up a while
    await new Promise((r) => setTimeout(r, 3000));
    const rssBefore = rssMB(pid).rss;
    const before = kernelView(pid);
    if (!resetPeakRss(pid)) throw new Error('cannot reset the server\'s VmHWM (/proc/<pid>/clear_refs)');
    process.kill(pid, 'SIGUSR2');
    let largest = before;
    const sampler = setInterval(() => {
      const k = kernelView(pid);
      if (k.rss > largest.rss) largest = k;
    }, 250);
    const cpu0 = procCpuMs(pid);
    const t0 = performance.now();
    let last = '';
    const res = await admin(adminPort, 'POST', `/instances/${encodeURIComponent(domain)}/import?source=${encodeURIComponent(archive)}`, undefined, (l) => (last = l));
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = (procCpuMs(pid) - cpu0) / 1000;
    clearInterval(sampler);
    const hwm = rssMB(pid).hwm;
    process.kill(pid, 'SIGUSR2');
    const end = JSON.parse(last || '{}') as { type?: string; data?: ServedImport['report']; error?: string };
    if (res.status !== 200 || end.type !== 'done' || !end.data) throw new Error(`the import failed: ${res.status} ${last || res.text.slice(0, 500)}`);
    for (let t = 0; t < 100; t++) {
      try {
        readFileSync(memoryFile);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const { base, peak, series } = JSON.parse(readFileSync(memoryFile, 'utf8')) as { base: Usage; peak: Usage; series: number[][] };
    if (process.env.BENCH_IMPORT_TRACE) writeFileSync(process.env.BENCH_IMPORT_TRACE, ['s\trss\tnew\told\tused\tab\text', ...series.map((r) => r.join('\t'))].join('\n') + '\n');
    const d = (k: 'rss' | 'heapTotal' | 'heapUsed' | 'arrayBuffers' | 'external') => (peak[k] - base[k]) / MiB;
    const ds = (k: string) => ((peak.spaces[k] ?? 0) - (base.spaces[k] ?? 0)) / MiB;
    return {
      series, report: end.data, seconds, cpuSeconds, rssBefore, peakGrowth: hwm - rssBefore,
      sampled: { growth: (largest.rss - before.rss) / MiB, mallocHeaps: (largest.heap + largest.arenas - before.heap - before.arenas) / MiB, otherAnon: (largest.other - before.other) / MiB, file: (largest.file - before.file) / MiB },
      own: { rss: d('rss'), heapTotal: d('heapTotal'), heapUsed: d('heapUsed'), newSpace: ds('new_space'), oldSpace: ds('old_space'), arrayBuffers: d('arrayBuffers'), external: d('external') },
    };
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
  }
}
