/**
 * Gives the C heap's free pages back to the system (glibc's `malloc_trim(0)`, called through koffi).
 *
 * SQLite, the thread pool and the closing thread allocate with malloc. When an idle farm closes its instance databases
 * (data/sqlite/factory.ts) their memory is freed, but glibc returns to the system only what lies at the top of each
 * heap: the rest, between blocks still in use, stays resident. Measured on a farm of 1,000 instances touched once then
 * idle (bench/farm.bench.ts, BENCH_IDLE_USED=1): 163 MB of RSS with every database closed, 117 MB after one trim.
 * Where the C library has no `malloc_trim` (musl, macOS) this does nothing.
 */
import { createRequire } from 'node:module';

type Trim = (pad: number) => number;
let trim: Trim | null | undefined;

function load(): Trim | null {
  try {
    // koffi (native) on first use only: a start, and a farm that never idles, do not load it
    const koffi = createRequire(import.meta.url)('koffi') as { load(lib: string): { func(decl: string): Trim } };
    return koffi.load('libc.so.6').func('int malloc_trim(size_t pad)');
  } catch {
    return null;
  }
}

/** Releases the free pages of every malloc arena; false where that is not possible (no glibc). */
export function trimMalloc(): boolean {
  trim ??= load();
  if (!trim) return false;
  trim(0);
  return true;
}
