/**
 * Closes instance databases without their checkpoint on the event loop. The last connection to close a
 * WAL database copies the WAL into the database file and fsyncs both, synchronously: on a busy disk that
 * blocked every request for up to seconds each time the pool (factory.ts) closed a database. Here a
 * worker thread first opens the same file (a connection in WAL mode holds a shared lock while open), so
 * the event loop's close is no longer the last one and only releases its handles; the worker then
 * closes its own connection, checkpointing and fsyncing on its thread. Nothing is lost if the process
 * dies in between: the WAL stays and is replayed on the next open. If the worker cannot open the file
 * (out of descriptors, say), the database is closed on the event loop as before.
 *
 * The same thread runs the checkpoints of the WAL databases that are written all the time (the instance
 * registry, the job broker: wal-sync.ts, `checkpointOffThread`): SQLite's automatic checkpoint runs inside
 * the COMMIT that crosses 1,000 WAL pages, copying them and fsyncing twice on the event loop.
 *
 * The thread is a V8 isolate of its own (about 15 MB of RSS): it starts on the first call and stops once it has had
 * nothing to do for `idleMs`, so that a farm that was busy and is now idle does not keep it.
 */
import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { trimMalloc } from '../../common/malloc-trim.js';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const held = new Map();
parentPort.on('message', ({ id, step, file }) => {
  if (step === 'stop') {
    // what was asked before has been done (messages come in order): close what is held and let the thread end
    for (const db of held.values()) db.close();
    held.clear();
    parentPort.close();
    return;
  }
  try {
    if (step === 'open') {
      const db = new Database(file, { fileMustExist: true });
      db.pragma('journal_mode'); // a first read: from now on this connection holds its shared lock
      held.set(id, db);
    } else if (step === 'checkpoint') {
      // a connection of its own, closed at once: it is not the last one (the event loop's stays open), so closing does nothing more
      const db = new Database(file, { fileMustExist: true });
      try {
        db.pragma('busy_timeout = 0');
        db.pragma('wal_checkpoint(PASSIVE)');
      } finally {
        db.close();
      }
    } else {
      const db = held.get(id);
      held.delete(id);
      if (db) db.close();
    }
    parentPort.postMessage({ id });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message || err) });
  }
});`;

export class OffThreadCloser {
  private worker: Worker | null = null;
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private readonly idleMs: number;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(opts: { idleMs?: number } = {}) {
    this.idleMs = opts.idleMs ?? 60_000;
  }

  /** Whether the thread runs now (it stops once idle). */
  get running(): boolean {
    return this.worker !== null;
  }

  private call(id: number, step: 'open' | 'close' | 'checkpoint', file?: string): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (!this.worker) {
      const worker = new Worker(WORKER, { eval: true, workerData: { sqlite: createRequire(import.meta.url).resolve('better-sqlite3') } });
      worker.unref();
      worker.on('message', ({ id: done, error }: { id: number; error?: string }) => {
        const w = this.waiting.get(done);
        this.waiting.delete(done);
        if (error) w?.reject(new Error(error));
        else w?.resolve();
        if (this.waiting.size === 0) this.stopWhenIdle();
      });
      // a thread stopped because it idled may end after its successor started: only the current one's end fails calls
      worker.on('error', (err) => this.worker === worker && this.fail(err));
      worker.on('exit', () => this.worker === worker && this.fail(new Error('the closing thread stopped')));
      this.worker = worker;
    }
    const worker = this.worker;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, step, file });
    });
  }

  /** Nothing under way: the thread stops after `idleMs` more without a call (the next call starts another). */
  private stopWhenIdle(): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      const worker = this.worker;
      if (!worker || this.waiting.size > 0) return;
      this.worker = null;
      worker.once('exit', () => trimMalloc()); // what the thread's isolate freed goes back to the system
      worker.postMessage({ step: 'stop' }); // it closes what it holds (nothing: no call is under way) and ends
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private fail(err: Error): void {
    this.worker = null;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  /** Closes `db` (the connection to `file`); resolves once the worker's close, and so the checkpoint, is done. */
  async close(db: Database.Database, file: string): Promise<void> {
    const id = ++this.seq;
    try {
      await this.call(id, 'open', file);
    } catch {
      db.close();
      return;
    }
    db.close(); // not the last connection: no checkpoint here
    await this.call(id, 'close').catch(() => undefined);
  }

  /** Copies what the WAL of `file` holds into the database file and fsyncs it, on the worker's thread (PASSIVE: writers go on). */
  checkpoint(file: string): Promise<void> {
    return this.call(++this.seq, 'checkpoint', file);
  }

  /**
   * Stops the thread once what it was asked is done. Never `terminate()`: a SQLite error raised while V8 tears the
   * thread down (a checkpoint of a file being closed, say) aborts the whole process (better-sqlite3's ThrowSqliteError
   * on a terminating isolate: "FATAL ERROR: v8::ToLocalChecked Empty MaybeLocal").
   */
  async shutdown(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref(); // the thread is unref'd while it idles: without this, a process awaiting only this stop would end first
    worker.postMessage({ step: 'stop' });
    await exited;
  }
}
