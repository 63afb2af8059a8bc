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
 */
import { setFlagsFromString } from 'node:v8';

/** V8's default `--semi-space-growth-factor`. */
const DEFAULT_GROWTH = 2;

export function releaseYoungGeneration(): void {
  setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH}`);
}

/** Pauses V8's optimizing compiler until `endStartUp()`: called before the server's modules are loaded. */
export function pauseOptimizer(): void {
  setFlagsFromString('--no-turbofan');
}

/** The server listens: V8's defaults again (young generation growth, optimizing compiler). */
export function endStartUp(): void {
  releaseYoungGeneration();
  setFlagsFromString('--turbofan');
}
