/**
 * The journal of the directory copies under way (copy.ts), shared by the processes that may undo them. An entry is
 * written before a copy's first directory is made, completed with that directory's id once it exists, and removed once
 * the copy is whole or undone. Each entry has an owner (the process making the copy) and a lease, renewed while the
 * copy runs (one statement a few times a lease for all the copies of a process). An entry whose lease ended belongs to
 * a process that stopped: any process takes it (one indexed statement, each entry taken by one process only, at start
 * and every lease) and removes for good the "(incomplete copy)" folder it names (`undoCutCopies`).
 *
 * Undone, not finished: the request that asked for the copy died with its process, so its client was told nothing but
 * a cut connection and may well ask again; finishing behind its back would leave a second copy it does not know of, made
 * of a source that may have changed since. Undoing gives the all-or-nothing answer the copy promised.
 *
 * Where the entries are kept (copy-journal-sqlite.ts in the embedded mode, copy-journal-pg.ts with docs.engine
 * postgres) is the `CopyJournalStore` the composition root picks. Leases compare the processes' clocks (as the jobs'
 * do): they are kept far longer (30 s) than the skew of clocks kept by NTP.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { NotFound } from '../common/errors.js';
import type { Instance } from '../instances/types.js';
import type { FileSystem } from './fs.js';
import type { FileTree } from './tree.js';

/** A copy under way: where its working folder is made, under which name, and its id once made. */
export interface CopyMark { instanceId: string; domain: string; parentId: string; workingName: string; topId?: string }

/** An entry taken from a stopped process: its id and what it names. */
export interface CopyRecord { id: string; mark: CopyMark }

/** Where the entries are kept: each method is one statement. */
export interface CopyJournalStore {
  insert(id: string, mark: CopyMark, owner: string, leaseUntil: number): Promise<void>;
  /** Records the id of the copy's working folder. */
  made(id: string, topId: string): Promise<void>;
  remove(id: string): Promise<void>;
  /** Extends to `leaseUntil` the leases `owner` still holds among `ids`; those ids. */
  renew(ids: string[], owner: string, leaseUntil: number): Promise<string[]>;
  /**
   * Takes for `owner`, until `leaseUntil`, at most `limit` entries whose lease ended before `now`: of processes calling
   * at once, each entry goes to one only.
   */
  claimExpired(owner: string, now: number, leaseUntil: number, limit: number): Promise<CopyRecord[]>;
  close(): Promise<void>;
}

/**
 * One copy's entry: `made` records its folder's id, `end` forgets it (the copy is whole, or undone). `lost` aborts when
 * the lease was taken over (this process could not renew it in time, and another one is undoing the copy).
 */
export interface CopyEntry { made(topId: string): Promise<void>; end(): Promise<void>; lost: AbortSignal }

export interface CopyJournalOptions {
  /** How long an entry stays its owner's without a renewal (default 30 s); renewed every third of it. */
  leaseMs?: number;
  now?: () => number;
  /** This process as an owner (default a new random id). */
  owner?: string;
}

const CLAIM_BATCH = 20;

export class CopyJournal {
  readonly owner: string;
  readonly leaseMs: number;
  private readonly now: () => number;
  /** The entries this process holds (its copies under way, and the cut copies it is undoing), each with its `lost`. */
  private readonly held = new Map<string, AbortController>();
  private renewing: NodeJS.Timeout | null = null;

  constructor(private readonly store: CopyJournalStore, opts: CopyJournalOptions = {}) {
    this.owner = opts.owner ?? randomUUID();
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  /** Records a copy about to start, held by this process; durable when this resolves. */
  async begin(mark: CopyMark): Promise<CopyEntry> {
    const id = randomUUID();
    await this.store.insert(id, mark, this.owner, this.now() + this.leaseMs);
    const lost = this.hold(id);
    return {
      made: (topId) => this.store.made(id, topId),
      end: () => this.forget(id),
      lost,
    };
  }

  /** Takes entries of stopped processes (their lease ended), held by this process until `forget`. */
  async claimExpired(limit = CLAIM_BATCH): Promise<CopyRecord[]> {
    const now = this.now();
    const taken = await this.store.claimExpired(this.owner, now, now + this.leaseMs, limit);
    for (const r of taken) this.hold(r.id);
    return taken;
  }

  async forget(id: string): Promise<void> {
    await this.store.remove(id);
    this.held.delete(id);
    if (this.held.size === 0 && this.renewing) {
      clearInterval(this.renewing);
      this.renewing = null;
    }
  }

  /** Stops holding `id` without forgetting it: its lease ends, and another sweep (here or elsewhere) takes it again. */
  release(id: string): void {
    this.held.delete(id);
  }

  /** Extends the leases of what this process holds (nothing to do when it holds nothing). */
  async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const asked = [...this.held.keys()];
    const kept = new Set(await this.store.renew(asked, this.owner, this.now() + this.leaseMs));
    for (const id of asked) {
      if (kept.has(id)) continue;
      this.held.get(id)?.abort(new Error('the copy\'s lease was taken over by another process: it is being undone'));
      this.held.delete(id);
    }
  }

  /** Stops renewing: the entries held stay, for another process (or the next start) to undo once their lease ends. */
  async close(): Promise<void> {
    if (this.renewing) clearInterval(this.renewing);
    this.renewing = null;
    await this.store.close();
  }

  private hold(id: string): AbortSignal {
    const lost = new AbortController();
    this.held.set(id, lost);
    // a failed renewal (the database away a moment) is tried again at the next tick, well within the lease
    this.renewing ??= setInterval(() => void this.renew().catch(() => undefined), this.leaseMs / 3).unref();
    return lost.signal;
  }
}

export interface UndoDeps {
  journal: CopyJournal;
  fs: FileSystem;
  tree: FileTree;
  /** The instance now at `domain` (null when it is gone). */
  instanceOf(domain: string): Promise<Instance | null>;
  logger: Logger;
}

/** The working folder of a cut copy, if it is still there under its working name (a copy renamed was whole). */
async function leftover(deps: UndoDeps, instance: Instance, mark: CopyMark): Promise<string | null> {
  try {
    const doc = mark.topId !== undefined ? await deps.fs.stat(instance, mark.topId) : await deps.fs.child(instance, mark.parentId, mark.workingName);
    return doc && doc.name === mark.workingName && doc.dir_id === mark.parentId ? doc._id : null;
  } catch (err) {
    if (err instanceof NotFound) return null;
    throw err;
  }
}

/**
 * Removes for good the working folders of the copies whose owner stopped (their lease ended), each by one process only;
 * how many it removed. An entry is forgotten once its folder is gone: a process stopped while undoing leaves it to the next.
 */
export async function undoCutCopies(deps: UndoDeps): Promise<number> {
  let undone = 0;
  for (let batch = await deps.journal.claimExpired(); batch.length > 0; batch = await deps.journal.claimExpired()) {
    for (const { id, mark } of batch) {
      try {
        const instance = await deps.instanceOf(mark.domain);
        const folder = instance?.id === mark.instanceId ? await leftover(deps, instance, mark) : null;
        if (instance && folder !== null) {
          deps.logger.warn({ domain: instance.domain, folder: mark.workingName }, 'removing a folder copy that a stop cut short');
          await deps.tree.destroy(instance, folder, undefined, { anywhere: true });
          undone++;
        }
        await deps.journal.forget(id);
      } catch (err) {
        deps.journal.release(id); // taken again once its lease ends
        throw err;
      }
    }
  }
  return undone;
}

/** `undoCutCopies` now, then every lease (with a random offset, so processes started together spread out). */
export function sweepCutCopies(deps: UndoDeps): { first: Promise<number>; stop(): Promise<void> } {
  const run = () => undoCutCopies(deps).catch((e: unknown) => {
    deps.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'the cut folder copies could not be undone now: tried again later');
    return 0;
  });
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let current = run();
  const next = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = run();
      void current.then(next);
    }, deps.journal.leaseMs * (0.75 + Math.random() / 2)).unref();
  };
  const first = current;
  void first.then(next);
  return {
    first,
    /** No sweep after this; resolves once the one under way (if any) is over. */
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
