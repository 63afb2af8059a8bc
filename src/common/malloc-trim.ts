/**
 * Gives the C heap's free pages back to the system (glibc's `malloc_trim(0)`, called through koffi), and keeps glibc
 * from holding on to them in the first place (`fixMallocThresholds`).
 *
 * SQLite, the thread pool and the closing thread allocate with malloc. When an idle farm closes its instance databases
 * (data/sqlite/factory.ts) their memory is freed, but glibc returns to the system only what lies at the top of each
 * heap: the rest, between blocks still in use, stays resident. Measured on a farm of 1,000 instances touched once then
 * idle (bench/farm.bench.ts, BENCH_IDLE_USED=1): 163 MB of RSS with every database closed, 117 MB after one trim.
 * Where the C library has no `malloc_trim` (musl, macOS) this does nothing.
 */
import { createRequire } from 'node:module';

interface Libc {
  trim(pad: number): number;
  mallopt(param: number, value: number): number;
}
let libc: Libc | null | undefined;

function load(): Libc | null {
  try {
    // koffi (native) on first use only: nothing of it in the start itself
    const koffi = createRequire(import.meta.url)('koffi') as { load(lib: string): { func(decl: string): (...args: number[]) => number } };
    const lib = koffi.load('libc.so.6');
    return { trim: lib.func('int malloc_trim(size_t pad)'), mallopt: lib.func('int mallopt(int param, int value)') };
  } catch {
    return null;
  }
}

/** Releases the free pages of every malloc arena; false where that is not possible (no glibc). */
export function trimMalloc(): boolean {
  libc ??= load();
  if (!libc) return false;
  libc.trim(0);
  return true;
}

/** glibc's mallopt parameters (malloc.h). */
const M_TRIM_THRESHOLD = -1;
const M_MMAP_THRESHOLD = -3;
/** glibc's initial thresholds, which it raises by itself (up to 32 and 64 MB) as the process frees large blocks. */
const INITIAL_THRESHOLD = 128 * 1024;

/**
 * Fixes glibc's mmap and trim thresholds at their initial value (128 KiB), as `GLIBC_TUNABLES=glibc.malloc.
 * trim_threshold=131072:glibc.malloc.mmap_threshold=131072` would at start; false where that is not done.
 *
 * Left to itself, glibc raises both each time the process frees a block it had mmapped: a busy Node process soon keeps
 * megabytes free at the top of every thread's arena (the thread pool's, V8's workers', the closing thread's), which
 * `malloc_trim` does not give back (it trims only the main heap's top). Measured on the used farm's idle (bench/RESULTS-
 * idle.md): thread arenas 1.6 MB instead of 7.4-8.9 MB. Blocks of 128 KiB or more are then mmapped each time, as they
 * are in a process that has not yet freed a large one. An operator who sets the thresholds (GLIBC_TUNABLES, or the
 * MALLOC_*_ environment variables) keeps them. What that costs (bench/malloc-ab.bench.ts, RESULTS-idle.md): nothing beyond
 * the noise on small documents, reads and 8 MiB uploads; 1.07-1.50× the server CPU on PUTs of 512 KiB JSON documents.
 * `mmap` and `trim` (bytes) are for that bench's comparisons.
 */
export function fixMallocThresholds(env: NodeJS.ProcessEnv = process.env, mmap = INITIAL_THRESHOLD, trim = mmap): boolean {
  if (/glibc\.malloc\.(trim|mmap)_threshold/.test(env.GLIBC_TUNABLES ?? '') || env.MALLOC_TRIM_THRESHOLD_ || env.MALLOC_MMAP_THRESHOLD_) return false;
  libc ??= load();
  if (!libc) return false;
  // mallopt answers 1 on success
  return libc.mallopt(M_MMAP_THRESHOLD, mmap) === 1 && libc.mallopt(M_TRIM_THRESHOLD, trim) === 1;
}
