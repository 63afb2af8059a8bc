/**
 * V8's old generation while an import runs (issue 17). The documents and small files of an import allocate fast and
 * keep a little alive at each young collection (the batch being filled, the contents in flight: 0.3-1 MB), so the old
 * generation fills with what was promoted and died since. V8 lets it grow by a factor of up to 4 over what was live at
 * the last full collection before the next one (its heuristics, from the collector's and the program's measured speeds,
 * so from the machine's load): +44 to +70 MB of old generation at the served import's peak, the largest part of its
 * peak RSS growth once the file contents left no buffers behind (bench/RESULTS-import.md). While an import runs, the
 * growth is held to HEAP_GROWING_PERCENT (V8's `--heap-growing-percent`, read at each full collection, so it takes effect
 * at once and goes back as soon as the last import ends): more frequent full collections, on a heap whose live part is
 * small. Process-wide while it lasts (V8 has one such setting per process); an operator's own `--heap-growing-percent`
 * (node's flags or NODE_OPTIONS) is left as it is.
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWING_PERCENT = 25;

/** Whether node was started with its own --heap-growing-percent. */
function operatorSetsGrowth(): boolean {
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => /^--heap[-_]growing[-_]percent\b/.test(a));
}

let holders = 0;

/** Runs `work` with the old generation's growth held to HEAP_GROWING_PERCENT (until the last of the imports running ends). */
export async function withSmallHeapGrowth<T>(work: () => Promise<T>, setFlags: (flags: string) => void = setFlagsFromString): Promise<T> {
  if (operatorSetsGrowth()) return work();
  if (holders++ === 0) setFlags(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  try {
    return await work();
  } finally {
    if (--holders === 0) setFlags('--heap-growing-percent=0');
  }
}
