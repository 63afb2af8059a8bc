import { mkdirSync, rmSync } from 'node:fs';
import { writeStamp } from './write-stamp.js';
import { join } from 'node:path';
import type { EventBus } from '../../common/bus.js';
import { ServiceUnavailable } from '../../common/errors.js';
import { trimMalloc } from '../../common/malloc-trim.js';
import type { DocStore, DocStoreFactory } from '../store.js';
import { SqliteDocStore, type SqliteStoreOptions } from './store.js';
import { OffThreadCloser } from './closer.js';
import { openFileLimit, storesFor } from './fd-limit.js';
import { isOutOfDescriptors, outOfDescriptors, PooledDocStore, type StoreLender } from './pooled-store.js';

export interface StorePoolOptions {
  /** How many instance databases stay open at most (0 or absent: sized from the open-file limit, fd-limit.ts). */
  maxOpenStores?: number;
  /** A database unused for this long is closed (default 1 minute: data.storeIdleSeconds). */
  idleMs?: number;
  /**
   * Opening a database is synchronous SQLite work (a new one creates its tables): a few ms each, so the requests of 16
   * clients to 16 closed instances, handled in one turn of the event loop, stalled it 80-90 ms (bench/farm.bench.ts).
   * Once this many ms went to opening in one turn, the next open waits for the next turn (default 10).
   */
  openBudgetMs?: number;
  /** The thread that closes databases (closer.ts), when the caller shares it with other databases; it then shuts it down. */
  sqliteThread?: OffThreadCloser;
  /** How old a database's file time must be to stamp its writes (write-stamp.ts STAMP_MARGIN_MS; tests shorten it). */
  stampMarginMs?: number;
}

interface Entry {
  readonly store: SqliteDocStore;
  /** Calls under way (pooled-store.ts): never closed while above 0. */
  refs: number;
  lastUsed: number;
  closing: Promise<void> | null;
}

function checkStoreId(storeId: string): void {
  if (!/^[0-9a-f]{32}$/.test(storeId)) throw new Error(`invalid store id ${storeId}`);
}

/**
 * Opens one SQLite file per instance under <dataDir>/instances/<storeId>/docs.sqlite, and keeps a
 * bounded set of them open: beyond `maxOpen`, the least recently used one that no call is using is
 * closed, and so is any left unused for `idleMs`. A farm of many instances thus holds a bounded
 * number of descriptors. If the system still refuses to open a file, the call fails with a 503.
 */
export class SqliteDocStoreFactory implements DocStoreFactory, StoreLender {
  /** Open databases, least recently used first. */
  private readonly entries = new Map<string, Entry>();
  readonly maxOpen: number;
  private readonly idleMs: number;
  private readonly sweeper: NodeJS.Timeout;
  private readonly closer: OffThreadCloser;
  /** Entries whose close is under way (they stay in `entries` until it is done). */
  private closingCount = 0;
  private closed = false;
  private readonly openBudgetMs: number;
  /** Time spent opening databases in this turn of the event loop (reset at its end). */
  private openedMs = 0;
  private turnEnd: Promise<void> | null = null;

  constructor(
    private readonly dataDir: string,
    private readonly bus: EventBus,
    private readonly opts: SqliteStoreOptions & StorePoolOptions,
  ) {
    this.maxOpen = opts.maxOpenStores || storesFor(openFileLimit());
    this.idleMs = opts.idleMs ?? 60_000;
    this.openBudgetMs = opts.openBudgetMs ?? 10;
    this.closer = opts.sqliteThread ?? new OffThreadCloser({ idleMs: this.idleMs });
    // a database unused for idleMs is closed within idleMs / 2 more
    this.sweeper = setInterval(() => void this.closeIdle(), Math.min(this.idleMs / 2, 30_000));
    this.sweeper.unref();
  }

  private dir(storeId: string): string {
    checkStoreId(storeId);
    return join(this.dataDir, 'instances', storeId);
  }

  /** A handle for each request (no path built: the pool opens the file on the handle's first call). */
  open(domain: string, storeId: string): DocStore {
    checkStoreId(storeId);
    return new PooledDocStore(this, domain, storeId);
  }

  /** The stamps of the asked instances' writes (DocStoreFactory.writeStamps): their files' times, not their databases. */
  async writeStamps(asked: ReadonlyMap<string, readonly string[]>): Promise<Map<string, string>> {
    const ids = [...asked.keys()];
    const out = new Map<string, string>();
    // a few dozen at a time: the thread pool's stats overlap, without a promise per instance of a farm at once
    for (let i = 0; i < ids.length; i += 64) {
      const some = ids.slice(i, i + 64);
      const stamps = await Promise.all(some.map((id) => writeStamp(join(this.dir(id), 'docs.sqlite'), this.opts.stampMarginMs)));
      some.forEach((id, k) => out.set(id, stamps[k]!));
    }
    return out;
  }

  /** How many databases are open now (closing ones included: they still hold their descriptors). */
  openCount(): number {
    return this.entries.size;
  }

  lease(domain: string, storeId: string): Entry | Promise<Entry> {
    const entry = this.entries.get(storeId);
    if (entry?.closing) return entry.closing.then(() => this.lease(domain, storeId));
    if (entry) {
      this.entries.delete(storeId); // to the most recently used end
      this.entries.set(storeId, entry);
    }
    const found = entry ?? this.openEntry(domain, storeId);
    if (found instanceof Promise) return found.then(() => this.lease(domain, storeId));
    found.refs++;
    found.lastUsed = Date.now();
    return found;
  }

  release(lease: object, outOfDescriptors = false): void {
    const entry = lease as Entry;
    entry.refs--;
    entry.lastUsed = Date.now();
    // out of descriptors (a WAL the database could not open, say): close what is unused, this one included, for the retry
    if (outOfDescriptors) this.shrinkTo(0);
    else if (this.entries.size - this.closingCount > this.maxOpen) this.shrinkTo(this.maxOpen);
  }

  /** Opens the database (after making room); if descriptors run out, closes every unused one and tries once more. */
  private openEntry(domain: string, storeId: string): Entry | Promise<unknown> {
    if (this.closed) throw new ServiceUnavailable('the server is shutting down');
    if (this.turnEnd && this.openedMs >= this.openBudgetMs) return this.turnEnd; // then lease() tries again
    const inFlight = this.shrinkTo(this.maxOpen - 1);
    // closings still hold descriptors (and the closing thread's connection, closer.ts): at most a few at a time
    if (inFlight.length > 0 && this.closingCount > Math.ceil(this.maxOpen / 16)) {
      return Promise.race(inFlight); // then lease() tries again
    }
    try {
      return this.timed(() => this.add(domain, storeId));
    } catch (err) {
      if (!isOutOfDescriptors(err)) throw err;
      const closing = this.shrinkTo(0);
      if (closing.length === 0) throw outOfDescriptors(this.entries.size);
      return Promise.all(closing).then(() => {
        if (this.entries.has(storeId)) return this.entries.get(storeId)!;
        try {
          return this.add(domain, storeId);
        } catch (again) {
          throw isOutOfDescriptors(again) ? outOfDescriptors(this.entries.size) : again;
        }
      });
    }
  }

  /** Runs an open, counting its time against this turn's budget. */
  private timed<T>(open: () => T): T {
    this.turnEnd ??= new Promise((resolve) => setImmediate(() => {
      this.openedMs = 0;
      this.turnEnd = null;
      resolve();
    }));
    const start = performance.now();
    try {
      return open();
    } finally {
      this.openedMs += performance.now() - start;
    }
  }

  private add(domain: string, storeId: string): Entry {
    const dir = this.dir(storeId);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const store = new SqliteDocStore(domain, join(dir, 'docs.sqlite'), this.bus, { ...this.opts, closer: this.closer });
    const entry: Entry = { store, refs: 0, lastUsed: Date.now(), closing: null };
    this.entries.set(storeId, entry);
    return entry;
  }

  /** Starts closing unused databases, least recently used first, until at most `size` remain open; all the closings under way. */
  private shrinkTo(size: number): Array<Promise<void>> {
    const closing: Array<Promise<void>> = [];
    let open = this.entries.size - this.closingCount;
    for (const [storeId, entry] of this.entries) {
      if (entry.closing) closing.push(entry.closing); // its descriptors are on their way back too
      if (open <= size || entry.refs > 0 || entry.closing) continue;
      closing.push(this.closeEntry(storeId, entry));
      open--;
    }
    return closing;
  }

  /** Closes the databases unused for idleMs; once they are closed, the memory they freed goes back to the system. */
  private closeIdle(): Promise<void> {
    const before = Date.now() - this.idleMs;
    const closing: Array<Promise<void>> = [];
    for (const [storeId, entry] of this.entries) {
      if (entry.refs === 0 && !entry.closing && entry.lastUsed <= before) closing.push(this.closeEntry(storeId, entry));
    }
    if (closing.length === 0) return Promise.resolve();
    return Promise.allSettled(closing).then(() => {
      if (!this.closed) this.trims += trimMalloc() ? 1 : 0;
    });
  }

  /** How many times an idle sweep gave freed memory back (common/malloc-trim.ts). */
  trims = 0;

  private closeEntry(storeId: string, entry: Entry): Promise<void> {
    if (entry.closing) return entry.closing;
    this.closingCount++;
    entry.closing = entry.store.close().finally(() => {
      this.closingCount--;
      if (this.entries.get(storeId) === entry) this.entries.delete(storeId);
    });
    return entry.closing;
  }

  async destroy(storeId: string): Promise<void> {
    const entry = this.entries.get(storeId);
    if (entry) await this.closeEntry(storeId, entry);
    rmSync(this.dir(storeId), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    await Promise.all([...this.entries].map(([storeId, entry]) => this.closeEntry(storeId, entry)));
    if (!this.opts.sqliteThread) await this.closer.shutdown();
  }
}
