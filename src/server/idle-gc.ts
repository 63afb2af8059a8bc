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
 * How: one synchronous full collection under `--optimize-for-size` (`gc()`: the whole marking and compaction in one
 *   block of the event loop). Measured on the used farm (bench/RESULTS-idle.md, 4 runs, load 12-24): 20-36 ms of the
 *   main thread's time on a core, 127-728 ms of wall time (mostly the wait for a core at that load), an idle RSS of
 *   97.0-99.2 MB at 180 s. V8's incremental marking, started for a memory-reducing collection by switching
 *   `--stress-incremental-marking` and `--optimize-for-size` for one young collection, was tried: 11-19 ms on a core,
 *   but 98.5-101.1 MB idle, flags changed while V8 collects (which V8 does not promise to support), and in the full
 *   suite V8 did not always end the marking it started: not kept.
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
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { trimMalloc } from '../common/malloc-trim.js';

type Gc = () => void;
let gcFunction: Gc | undefined;

/** V8's full garbage collection, obtained once (see above); the global `gc` is left as it was. */
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

/** One synchronous full collection that compacts as V8's memory reducer does (see above): `--optimize-for-size` is on for it only. */
export function collectReducingMemory(): void {
  const gc = fullGc();
  setFlagsFromString('--optimize-for-size');
  try {
    gc();
  } finally {
    setFlagsFromString('--no-optimize-for-size');
  }
}

export interface IdleGcOptions {
  /** A collection once no request began or ended for this long (ms). */
  idleMs: number;
  /** How often idleness is checked (ms): the collection comes between idleMs and idleMs + checkMs. Default idleMs / 10. */
  checkMs?: number;
  /** After the collection, when glibc's free pages are trimmed (ms; V8 releases pages on background threads). */
  trimAfterMs?: number;
  /** Told of each collection: how long it held the event loop (ms). */
  onCollect?(ms: number): void;
  /** Trims the C heap (default common/malloc-trim.ts; tests count the calls). */
  trim?(): void;
}

export class IdleGc {
  private lastActivity = performance.now();
  private collectedSince = false; // a collection was made since the last request
  private inFlight = 0; // requests begun and not yet ended (their response finished or their connection closed)
  private readonly timer: NodeJS.Timeout;
  private trimTimer: NodeJS.Timeout | null = null;
  /** How many collections were made. */
  collections = 0;
  /** How many times the C heap was trimmed after one. */
  trims = 0;

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
    if (this.collectedSince || this.inFlight > 0 || performance.now() - this.lastActivity < this.opts.idleMs) return;
    this.collectedSince = true;
    const start = performance.now();
    collectReducingMemory();
    this.collections++;
    this.opts.onCollect?.(performance.now() - start);
    // the C heap trimmed a little later (V8 releases pages on background threads), unless a request came meanwhile
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
    if (this.trimTimer) clearTimeout(this.trimTimer);
  }
}
