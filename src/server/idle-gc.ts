/**
 * Once a server has been idle for a while, one full garbage collection that compacts V8's heap, so that V8 gives back
 * what it grew under load at a known moment instead of whenever its memory reducer gets to it.
 *
 * Under load V8 grows its young generation (up to 2 × 16 MB) and its old space; once the load stops, its memory reducer
 * shrinks them by itself, but it starts only after a mark-compact and waits for low allocation rates: on the used farm's
 * idle (bench/RESULTS-idle.md) it had done so after 180 s in some runs and not in others (V8's heap 35.4 MB for 26.0 used,
 * against 27.6 for 25.9: 5-8 MB of idle RSS). Measured there, one plain full collection at 100 s idle shrank the young
 * generation (V8 does when the allocation rate was low for ~5 s) but left the old space fragmented (26.2 MB for 20.3
 * used); under `--optimize-for-size` it compacted it too (21.5 for 20.4), as the memory reducer does.
 *
 * V8 offers a full collection to JavaScript only through `--expose-gc`, whose `gc` is installed in contexts created
 * while the flag is on: the flag is set, one `gc` taken from a new context (`vm.runInNewContext`), and the flag put back,
 * the first time a collection is due (never during the start). `gc()` with no argument is synchronous and full
 * (`gc({ type: 'major' })` on Node 20's V8 11.3 schedules an asynchronous one and returns a promise).
 *
 * When: after `server.idleGcSeconds` (100 s by default: after the idle sweep closed the instance databases unused for
 * `data.storeIdleSeconds`, 60 s, within 90 s) with no request under way and none starting or ending on the public or admin
 * server (a WebSocket's messages do not count), at most once per idle period (the next collection waits for a request
 * and a new idle period), then glibc's free pages are trimmed (common/malloc-trim.ts) once V8's background threads have
 * released what the collection freed. Never on a request's path: from an unref'd timer, and only while no request was
 * under way, began or ended in the whole period. It blocks the event loop for one full compacting collection (210-245 ms
 * for the farm's ~35 MB heap on a machine at load 12-15; a request arriving in that instant waits for it).
 * 0 turns it off.
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

/**
 * One full collection that compacts as V8's memory reducer does: V8 picks the old space's pages to evacuate by how
 * fragmented they are, and only in a collection meant to reduce memory (or under `--optimize-for-size`) does it take
 * those 20 % free or more (otherwise 70 %). The flag is on for this one synchronous collection only (V8 reads it as it
 * chooses), then off again.
 */
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
  /** Told of each collection: how long it blocked the event loop. */
  onCollect?(ms: number): void;
}

export class IdleGc {
  private lastActivity = performance.now();
  private collectedSince = false; // a collection was made since the last request
  private inFlight = 0; // requests begun and not yet ended (their response finished or their connection closed)
  private readonly timer: NodeJS.Timeout;
  private trimTimer: NodeJS.Timeout | null = null;
  /** How many collections were made. */
  collections = 0;

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
    this.trimTimer = setTimeout(() => {
      this.trimTimer = null;
      trimMalloc();
    }, this.opts.trimAfterMs ?? 1000);
    this.trimTimer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.trimTimer) clearTimeout(this.trimTimer);
  }
}
