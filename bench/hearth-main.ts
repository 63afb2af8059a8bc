/**
 * `hearth` as bin/hearth.js runs it, compiled with the other benchmark servers: start-up is timed on it (farm.bench.ts).
 * As bin/hearth.js, it reads the bundle (src/server/bundle-loader.ts), sets V8's flags (src/server/young-gen.ts), then runs
 * the CLI bundled in one file, which farm.bench.ts writes beside this build (<build>/dist/bundle/hearth.cjs, from src/main.js): bundled
 * with it, this file's flags came after the whole bundle was compiled, and the idle RSS measured ~13 MB above bin/hearth.js's.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { getHeapCodeStatistics, getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { openBundle } from '../src/server/bundle-loader.js';
import { watchCoreStalls } from './core-stalls.js';

// as bin/hearth.js: the bundle read (with V8's code cache for `serve` and the Node modules its start loads), then the flags
const bundle = openBundle(fileURLToPath(new URL('../dist/bundle/hearth.cjs', import.meta.url)), { codeCache: process.argv[2] === 'serve' });
setFlagsFromString('--semi-space-growth-factor=1');
if (process.argv[2] === 'serve') setFlagsFromString('--no-turbofan');
// farm.bench.ts (BENCH_IDLE_USED): on SIGUSR2, the process's memory by kind into this file: V8's spaces (size, used),
// its code, and glibc's account of malloc (mallinfo2, every arena: in use, free, mmapped), read through koffi; and the
// longest event-loop stall since the last reading (perf_hooks monitorEventLoopDelay: the idle collection's block), the
// most time the main thread spent on a core in one stall (/proc/…/schedstat, as bench/farm-server.ts: on a loaded
// machine a stall is mostly the wait for a core) and the longest garbage-collection pause (Node's performance entries)
const memoryFile = process.env.BENCH_MEMORY_FILE;
if (memoryFile) {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const coreStalls = watchCoreStalls();
  let gcPauseMs = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcPauseMs = Math.max(gcPauseMs, e.duration);
  }).observe({ entryTypes: ['gc'] });
  // written beside, then renamed: the bench reads the file as soon as it exists
  const write = (text: string) => {
    writeFileSync(memoryFile + '.part', text);
    renameSync(memoryFile + '.part', memoryFile);
  };
  process.on('SIGUSR2', () => write(JSON.stringify({
    usage: process.memoryUsage(),
    spaces: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size])),
    used: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size])),
    code: getHeapCodeStatistics(),
    malloc: mallinfo(),
    stallMs: delay.max / 1e6, stallCpuMs: coreStalls.read().max, gcPauseMs,
  })));
  process.on('SIGUSR2', () => {
    delay.reset();
    coreStalls.reset();
    gcPauseMs = 0;
  });
  // BENCH_IDLE_TRIM_PROBE: on SIGWINCH, one malloc_trim(0) now (what a trim at that moment would give back), then the file
  process.on('SIGWINCH', () => {
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    koffi.load('libc.so.6').func('int malloc_trim(size_t pad)')(0);
    write('trimmed');
  });
}

interface KoffiLib { func(decl: string): (...args: unknown[]) => unknown }
interface Koffi { load(lib: string): KoffiLib; struct(name: string, def: Record<string, string>): unknown }
let mallinfo2: ((...args: unknown[]) => unknown) | null | undefined;
/** glibc's mallinfo2(): bytes in use (uordblks), free in the arenas (fordblks), in mmapped chunks (hblkhd), the main heap (arena). */
function mallinfo(): Record<string, number> | null {
  if (mallinfo2 === undefined) {
    try {
      const koffi = createRequire(import.meta.url)('koffi') as Koffi;
      const fields = ['arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost'];
      koffi.struct('mallinfo2_t', Object.fromEntries(fields.map((f) => [f, 'size_t'])));
      mallinfo2 = koffi.load('libc.so.6').func('mallinfo2_t mallinfo2()');
    } catch {
      mallinfo2 = null;
    }
  }
  return mallinfo2 ? mallinfo2() as Record<string, number> : null;
}

const { main } = bundle.run() as { main: (argv: string[]) => Promise<number> };
process.exitCode = await main(process.argv.slice(2));
