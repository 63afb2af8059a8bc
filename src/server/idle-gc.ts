/**
 * Once a server has been idle for a while, one full garbage collection that compacts V8's heap, so that V8 gives back
 * what it grew under load at a known moment instead of whenever its memory reducer gets to it (issue 13: idle RSS under
 * 100 MB, and no maintenance work holding the event loop over 50 ms).
 *
 * Under load V8 grows its young generation (up to 2 × 16 MB) and its old space; once the load stops, its memory reducer
 * shrinks them by itself, but it starts only after a mark-compact and waits for low allocation rates: on the used farm's
 * idle (bench/RESULTS-idle.md) it had done so after 180 s in some runs and not in others (V8's heap 35.4 MB for 26.0 used,
 * against 27.6 for 25.9: 5-8 MB of idle RSS). A plain full collection shrinks the young generation but leaves the old
 * space fragmented (26.2 MB for 20.3 used); one that reduces memory, as the memory reducer's do, compacts it too (21.5 for
 * 20.4): V8 then evacuates the old space's pages 20 % free or more (otherwise 70 %).
 *
 * How (`server.idleGcMode`):
 * - `full` (default): one synchronous full collection under `--optimize-for-size` (`gc()`: the whole marking and
 *   compaction in one block of the event loop; 20-36 ms of the main thread's time on a core in the runs below, 127-728 ms
 *   of wall time at load 12-24, mostly the wait for a core). The default because it met both targets on a core (RSS
 *   97.0-99.2 MB at 180 s idle) and changes no V8 flag while V8 collects.
 * - `incremental`: V8's incremental marking, started for a collection that reduces memory, as its memory
 *   reducer starts one. Node has no API for that (V8's `MemoryPressureNotification` is not exposed), so it is started
 *   the way V8 starts one when the old space reaches its limit: for one young collection (`gc({ type: 'minor' })`,
 *   after which V8 checks that limit) `--stress-incremental-marking` makes V8 consider the limit reached (whatever
 *   the heap's size), and `--optimize-for-size` makes it choose a memory-reducing collection; both flags are put back as soon as that
 *   collection returns (V8 keeps the choice it made). The marking then runs on V8's background threads and in short
 *   steps on the event loop, and the compaction in one final pause. Only flags that V8 reads as it decides are set, and
 *   only for that synchronous young collection: a flag the marking itself reads, changed while it runs, stops the
 *   process (`--no-parallel-marking` tried: V8's check "concurrent_marking()->IsStopped()" failed).
 *   Measured on the used farm (bench/RESULTS-idle.md, 4 runs side by side with `full`, load 12-24): the same compaction,
 *   an idle RSS of 98.5-101.1 MB (over the target in some runs); the most time the main thread spent on a core in one stall of the collection's window 11-19 ms
 *   against 20-36 ms; its final pause, in wall time, 88-609 ms against 127-728 ms for `full`: at that load both are
 *   mostly the wait for a core, and neither stays under 50 ms of wall time (nor do V8's own idle collections there).
 * V8 offers collections to JavaScript only through `--expose-gc`, whose `gc` is installed in contexts created while the
 * flag is on: the flag is set, one `gc` taken from a new context (`vm.runInNewContext`), and the flag put back, the first
 * time a collection is due (never during the start).
 *
 * When: after `server.idleGcSeconds` (100 s by default: after the idle sweep closed the instance databases unused for
 * `data.storeIdleSeconds`, 60 s, within 90 s) with no request under way and none starting or ending on the public or admin
 * server (a WebSocket's messages do not count), at most once per idle period (the next collection waits for a request
 * and a new idle period); once V8's mark-compact is over and its background threads have released what it freed,
 * glibc's free pages are trimmed (common/malloc-trim.ts), unless a request came meanwhile: the trim then waits for the
 * next idle period. Never on a request's path: from an unref'd timer. 0 turns it off.
 */
import type { Server } from 'node:http';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { trimMalloc } from '../common/malloc-trim.js';

type Gc = (options?: { type: 'major' | 'minor' }) => void;
let gcFunction: Gc | undefined;

/** V8's garbage collection (full, or `{ type: 'minor' }`), obtained once (see above); the global `gc` is left as it was. */
export function fullGc(): Gc {
  if (gcFunction) return gcFunction;
  const exposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
  setFlagsFromString('--expose-gc');
  try {
    gcFunction = runInNewContext('gc') as Gc;
  } finally {
    if (!exposed) setFlagsFromString('--no-expose-gc');
  }
  return gcFunction;
}

/** Runs `fn` with V8's `flags` on (V8 reads them as it decides), then off again. */
function withFlags(flags: Array<[on: string, off: string]>, fn: () => void): void {
  for (const [on] of flags) setFlagsFromString(on);
  try {
    fn();
  } finally {
    for (const [, off] of flags) setFlagsFromString(off);
  }
}

const FOR_SIZE: [string, string] = ['--optimize-for-size', '--no-optimize-for-size'];

/** One synchronous full collection that compacts as V8's memory reducer does (`full` above). */
export function collectReducingMemory(): void {
  withFlags([FOR_SIZE], () => fullGc()());
}

/**
 * Starts an incremental full collection that reduces memory (`incremental` above) and returns at once: only a young
 * collection runs now. The mark-compact that ends it comes later, from V8's tasks on the event loop.
 */
export function startReducingCollection(): void {
  withFlags([FOR_SIZE, ['--stress-incremental-marking', '--no-stress-incremental-marking']], () => fullGc()({ type: 'minor' }));
}

export type IdleGcMode = 'incremental' | 'full';

export interface IdleGcOptions {
  /** A collection once no request began or ended for this long (ms). */
  idleMs: number;
  /** `full` (default) or `incremental` (see above). */
  mode?: IdleGcMode;
  /** How often idleness is checked (ms): the collection comes between idleMs and idleMs + checkMs. Default idleMs / 10. */
  checkMs?: number;
  /** After the mark-compact, when glibc's free pages are trimmed (ms; V8 releases pages on background threads). */
  trimAfterMs?: number;
  /** How long the incremental collection may take before it is given up (no trim; default 30 s). */
  giveUpAfterMs?: number;
  /** Told of each collection: how long the event loop was held to start it (the whole collection in `full` mode), its final pause, and how long it took. */
  onCollect?(c: { startMs: number; pauseMs: number; totalMs: number }): void;
  /** Trims the C heap (default common/malloc-trim.ts; tests count the calls). */
  trim?(): void;
}

export class IdleGc {
  private lastActivity = performance.now();
  private collectedSince = false; // a collection was made since the last request
  private inFlight = 0; // requests begun and not yet ended (their response finished or their connection closed)
  private readonly timer: NodeJS.Timeout;
  private trimTimer: NodeJS.Timeout | null = null;
  private observer: PerformanceObserver | null = null;
  private giveUp: NodeJS.Timeout | null = null;
  /** How many collections were made (in `incremental` mode: whose mark-compact is over). */
  collections = 0;
  /** How many times the C heap was trimmed after one. */
  trims = 0;
  /** Incremental collections given up (no mark-compact within giveUpAfterMs). */
  givenUp = 0;

  constructor(private readonly opts: IdleGcOptions) {
    this.timer = setInterval(() => this.check(), opts.checkMs ?? Math.max(1, opts.idleMs / 10));
    this.timer.unref();
  }

  /** Requests on this server count as activity: each one's start and its end, and the time between (a long upload or feed). */
  watch(server: Server): void {
    server.on('request', (_req, res) => {
      this.inFlight++;
      this.touch();
      res.once('close', () => {
        this.inFlight--;
        this.touch();
      });
    });
  }

  /** Activity: the idle period starts again. */
  readonly touch = (): void => {
    this.lastActivity = performance.now();
    this.collectedSince = false;
  };

  private check(): void {
    if (this.collectedSince || this.observer || this.inFlight > 0 || performance.now() - this.lastActivity < this.opts.idleMs) return;
    this.collectedSince = true;
    const start = performance.now();
    if (this.opts.mode !== 'incremental') {
      collectReducingMemory();
      const ms = performance.now() - start;
      this.collected(start, { startMs: ms, pauseMs: ms, totalMs: ms });
      return;
    }
    // the mark-compact that ends the incremental marking, told by Node's performance entries
    const observer = new PerformanceObserver((list) => {
      const end = list.getEntries().find((e) => e.startTime >= start && (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
      if (!end) return;
      this.stopObserving();
      this.collected(start, { startMs, pauseMs: end.duration, totalMs: end.startTime + end.duration - start });
    });
    this.observer = observer;
    observer.observe({ entryTypes: ['gc'] });
    startReducingCollection();
    const startMs = performance.now() - start;
    this.giveUp = setTimeout(() => {
      this.stopObserving();
      this.givenUp++;
    }, this.opts.giveUpAfterMs ?? 30_000);
    this.giveUp.unref();
  }

  private stopObserving(): void {
    this.observer?.disconnect();
    this.observer = null;
    if (this.giveUp) clearTimeout(this.giveUp);
    this.giveUp = null;
  }

  /** A collection is over: the C heap is trimmed a little later, unless a request came since the collection began. */
  private collected(start: number, c: { startMs: number; pauseMs: number; totalMs: number }): void {
    this.collections++;
    this.opts.onCollect?.(c);
    this.trimTimer = setTimeout(() => {
      this.trimTimer = null;
      if (this.inFlight > 0 || this.lastActivity > start) return; // the next idle period collects and trims again
      (this.opts.trim ?? trimMalloc)();
      this.trims++;
    }, this.opts.trimAfterMs ?? 1000);
    this.trimTimer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.stopObserving();
    if (this.trimTimer) clearTimeout(this.trimTimer);
  }
}
