/**
 * Lock-out after consecutive failures. The rate limiter bounds guesses per window; this
 * bounds them over days: after `threshold` failures in a row the key is locked for
 * `baseMs`, and every further lock-out doubles the duration up to `maxMs` (15 min, 30 min,
 * … 24 h), so a patient attacker gets about `threshold` guesses a day. The owner, who is
 * locked out too, gets in through `unlock` (e.g. a link mailed to them).
 *
 * A success resets the failure count but not the escalation level: otherwise an attacker
 * would drop back to 15-min locks each time the owner logs in. The level is forgotten
 * after `forgetAfterMs` without a lock-out.
 */

export interface LockOutOptions {
  /** Consecutive failures that lock the key. */
  threshold?: number;
  /** First lock duration; doubles at each further lock-out. */
  baseMs?: number;
  /** Longest lock. */
  maxMs?: number;
  /** Quiet time after which a key's history is forgotten. */
  forgetAfterMs?: number;
  /** Keys remembered at once (oldest activity evicted first), so that memory stays bounded. */
  maxKeys?: number;
  now?: () => number;
}

export interface LockStatus {
  locked: boolean;
  /** End of the lock (ms since the epoch), or null when not locked. */
  until: number | null;
  /** Consecutive failures since the last success or lock-out. */
  failures: number;
}

interface State {
  failures: number;
  /** Lock-outs so far (the next one lasts baseMs × 2^level). */
  level: number;
  until: number;
  lastEvent: number;
}

/**
 * The counters of a lock-out (this file's rules). `MemoryLockOut` keeps them in process memory (one process);
 * coordination.engine redis keeps them in Redis (src/coordination/redis-lockout.ts), shared by every process.
 */
export interface LockOut {
  status(key: string): Promise<LockStatus>;
  /** Records a failure. Failures while locked are ignored: callers must not even try then. */
  failure(key: string): Promise<LockStatus>;
  /** Resets the failure count. An active lock stands (a success cannot happen while locked). */
  success(key: string): Promise<void>;
  /** The owner's way out: clears the lock and the whole history. */
  unlock(key: string): Promise<void>;
  /** `unlock` of every key that starts with `prefix`. */
  unlockPrefix(prefix: string): Promise<void>;
  /** How many times the key was locked out (since its history was last forgotten). */
  lockOuts(key: string): Promise<number>;
}

/** The rules of a lock-out with their defaults (10 failures, 15 min doubling up to 24 h, history forgotten after a quiet day). */
export function lockOutRules(opts: LockOutOptions): Required<Omit<LockOutOptions, 'now' | 'maxKeys'>> {
  return { threshold: opts.threshold ?? 10, baseMs: opts.baseMs ?? 15 * 60_000, maxMs: opts.maxMs ?? 24 * 3_600_000, forgetAfterMs: opts.forgetAfterMs ?? 24 * 3_600_000 };
}

export class MemoryLockOut implements LockOut {
  private readonly states = new Map<string, State>();
  private readonly threshold: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly forgetAfterMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(opts: LockOutOptions = {}) {
    ({ threshold: this.threshold, baseMs: this.baseMs, maxMs: this.maxMs, forgetAfterMs: this.forgetAfterMs } = lockOutRules(opts));
    this.maxKeys = opts.maxKeys ?? 50_000;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.states.size;
  }

  async status(key: string): Promise<LockStatus> {
    return this.statusNow(key);
  }

  private statusNow(key: string): LockStatus {
    const now = this.now();
    const s = this.current(key, now);
    if (!s) return { locked: false, until: null, failures: 0 };
    const locked = s.until > now;
    return { locked, until: locked ? s.until : null, failures: s.failures };
  }

  async failure(key: string): Promise<LockStatus> {
    const now = this.now();
    let s = this.current(key, now);
    if (s && s.until > now) return this.statusNow(key);
    if (!s) {
      while (this.states.size >= this.maxKeys) this.states.delete(this.states.keys().next().value as string);
      s = { failures: 0, level: 0, until: 0, lastEvent: now };
    }
    s.failures += 1;
    s.lastEvent = now;
    if (s.failures >= this.threshold) {
      s.until = now + Math.min(this.baseMs * 2 ** Math.min(s.level, 40), this.maxMs);
      s.level += 1;
      s.failures = 0;
    }
    this.states.delete(key); // re-insert: Map order = least recent activity first
    this.states.set(key, s);
    return this.statusNow(key);
  }

  async success(key: string): Promise<void> {
    const s = this.current(key, this.now());
    if (s && s.until <= this.now()) {
      s.failures = 0;
      if (s.level === 0) this.states.delete(key);
    }
  }

  async unlock(key: string): Promise<void> {
    this.states.delete(key);
  }

  async unlockPrefix(prefix: string): Promise<void> {
    for (const key of [...this.states.keys()]) if (key.startsWith(prefix)) this.states.delete(key);
  }

  async lockOuts(key: string): Promise<number> {
    return this.current(key, this.now())?.level ?? 0;
  }

  /** The key's state, dropped (and undefined) once quiet for forgetAfterMs after any lock. */
  private current(key: string, now: number): State | undefined {
    const s = this.states.get(key);
    if (s && now >= Math.max(s.until, s.lastEvent) + this.forgetAfterMs) {
      this.states.delete(key);
      return undefined;
    }
    return s;
  }
}
