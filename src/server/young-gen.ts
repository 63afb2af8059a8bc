/**
 * V8 during a server's start-up.
 *
 * The young generation: loading and wiring the server allocates a burst of short-lived objects that grows the new
 * space to its maximum (2 × 16 MB), and an idle server keeps it: about 8 MB of idle RSS. The entries that start a
 * server (bin/hearth.js, bench/hearth-main.ts) set `--semi-space-growth-factor=1` before loading anything, so that the
 * new space keeps its initial size through the start.
 *
 * The optimizing compiler: the start runs a lot of code once or a few hundred times (module bodies, ~600 route
 * registrations, schema and router set-up), enough for V8 to optimize it with TurboFan on its background threads.
 * That work is lost once the server listens (the code never runs again), and it costs about 15 MB of idle RSS (the
 * optimized code, and the memory the background threads' allocator keeps afterwards) and some CPU during the start.
 * `hearth serve` pauses TurboFan (`--no-turbofan`: functions run in the interpreter and the baseline compiler) before
 * it loads the server.
 *
 * Once it listens, `endStartUp()` gives V8 back its defaults, so that a busy server sizes its young generation and
 * optimizes its hot code as usual. Both flags are read each time V8 decides (to grow the new space, to optimize a
 * function), so changing them at run time is safe (unlike the sizes fixed at start).
 *
 * The young generation's size under load (`capYoungGeneration`, `server.youngGenerationMB`, 8 by default): a busy
 * server let V8 grow its new space to its maximum (2 × 16 MB), and a young collection (scavenge) then copies what is
 * alive in up to 16 MB: on the 10,000-instance farm (bench/farm.bench.ts, load 14-20) each of housekeeping's five
 * longest stalls on a core (46.2-50.8 ms) held a scavenge, as did four of the touch phase's five (27-37 ms). With the new
 * space at 2 × 4 MB (`--max-semi-space-size=4`, beside in the same run) they were 24.5-28.2 and 19.7-23.0 ms, for the
 * same throughput and 26 MB less peak RSS (bench/RESULTS-farm.md, where other stalls, with no collection inside, came
 * near 49 ms in another run). V8 fixes its maximum when the process starts (a flag `hearth serve` cannot give
 * itself), so the cap is kept by the growth factor instead, checked after each young collection (Node's 'gc'
 * performance entries): V8's factor 2 under the cap, 1 (no growth) once the new space reaches it (sizes double from
 * 1 MB: a power of two is met exactly). The entries reach JavaScript a turn or
 * more after the collection, so V8 can still grow the space past the cap (up to its 32 MB) when it grows it again
 * before the check runs: a burst of allocation in one turn. It then stays there until V8 shrinks it, when the
 * allocation rate falls. On the farm (bench/farm.bench.ts, the cap set before the server was built) the cap held in
 * every phase; in `hearth serve` (the cap set once it listens, with a new space of 2 MB) 16 clients touching 1,000
 * closed instances grew it to 32 MB (bench/RESULTS-idle.md). `NODE_OPTIONS=--max-semi-space-size=4` in the service's
 * environment is the hard limit.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** V8's default `--semi-space-growth-factor`. */
const DEFAULT_GROWTH = 2;

/** The growth factor this module last set (0: unknown, bin/hearth.js sets its own before the start). */
let growth = 0;
/** The cap's check while one is kept (capYoungGeneration). */
let capped: (() => void) | null = null;

function setGrowth(factor: number): void {
  if (factor === growth) return;
  growth = factor;
  setFlagsFromString(`--semi-space-growth-factor=${factor}`);
}

/**
 * Keeps V8's new space (both semi-spaces) at most `maxMB` (see above) until the returned function is called, which
 * stops the observer and gives V8 its default growth back. 0: V8's own sizing (nothing is observed).
 */
export function capYoungGeneration(maxMB: number): () => void {
  if (!(maxMB > 0)) return () => undefined;
  const check = () => {
    const size = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
    setGrowth(size >= maxMB * 1048576 ? 1 : DEFAULT_GROWTH);
  };
  const observer = new PerformanceObserver((list) => {
    if (list.getEntries().some((e) => (e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR)) check();
  });
  observer.observe({ entryTypes: ['gc'] });
  capped = check;
  growth = 0;
  check();
  return () => {
    observer.disconnect();
    if (capped === check) capped = null;
    setGrowth(DEFAULT_GROWTH);
  };
}

/** Pauses V8's optimizing compiler until `endStartUp()`: called before the server's modules are loaded. */
export function pauseOptimizer(): void {
  setFlagsFromString('--no-turbofan');
}

/** The start is over: the new space grows as V8 decides again, up to the cap if one is kept. */
export function releaseYoungGeneration(): void {
  growth = 0; // set again whatever this module set last: bin/hearth.js sets its own before the start
  if (capped) capped();
  else setGrowth(DEFAULT_GROWTH);
}

/**
 * The server listens: V8's defaults again (optimizing compiler, young generation growth), the new space kept within
 * `youngGenerationMB` (server.youngGenerationMB; 0: V8's own maximum).
 */
export function endStartUp(youngGenerationMB = 0): void {
  if (youngGenerationMB > 0 && !capped) capYoungGeneration(youngGenerationMB);
  releaseYoungGeneration();
  setFlagsFromString('--turbofan');
}
