/**
 * Rate limiting. `RateLimiter` is the interface the HTTP layer uses; `MemoryRateLimiter`
 * is the embedded (single-process) implementation; coordination.engine redis counts in Redis behind the
 * same interface (src/coordination/redis-limits.ts), which is why every method is async although this one never waits.
 *
 * Algorithm: a sliding window made of sub-buckets. The window is cut into `buckets` slices
 * (30 by default); a key remembers one counter per non-empty slice. A hit keeps counting
 * until its whole slice is older than the window, so the limiter is conservative: it never
 * admits more than `limit` hits in ANY interval of `windowMs` (a brute-force bound we can
 * state), and frees slots at most one slice (window/30) late. Unlike a sliding log its
 * memory does not grow with `limit` (auth allows 1000/h), and unlike the two-bucket
 * approximation it never over-admits.
 */

export interface LimitRule {
  /** Hits allowed in any interval of `windowMs`; 0 refuses everything. */
  limit: number;
  windowMs: number;
}

export interface HitResult {
  allowed: boolean;
  /** Hits still allowed right now (after counting this one). */
  remaining: number;
  /** 0 while `remaining > 0`; otherwise the time until the window frees a slot. */
  retryAfterMs: number;
}

export interface RateLimiter {
  /** Counts one hit for key; returns whether it is allowed, how many remain and when the window frees a slot. */
  hit(key: string, rule: LimitRule): Promise<HitResult>;
  reset(key: string): Promise<void>;
  peek(key: string, rule: LimitRule): Promise<{ count: number; retryAfterMs: number }>;
}

export interface MemoryRateLimiterOptions {
  /** Clock in milliseconds (tests inject a fake one). */
  now?: () => number;
  /** Most keys remembered at once; past it, the least recently hit key is forgotten. */
  maxKeys?: number;
  /** Slices per window: the precision of the sliding window. */
  buckets?: number;
  /** Full sweeps of idle keys happen at most this often (amortised O(1) per hit). */
  sweepIntervalMs?: number;
}

interface Entry {
  /** Slice width (ms) and slices per window of the rule this entry was created with. */
  width: number;
  span: number;
  /** Non-empty slices, oldest first: slice index and hits in it (parallel arrays, ≤ span + 1 long). */
  slice: number[];
  count: number[];
  total: number;
  /** When the newest slice stops counting: the entry is idle past this instant. */
  idleAt: number;
}

export class MemoryRateLimiter implements RateLimiter {
  /** Map iteration order doubles as LRU order: every hit moves its key to the end. */
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly maxKeys: number;
  private readonly buckets: number;
  private readonly sweepIntervalMs: number;
  private lastSweep = -Infinity;

  constructor(opts: MemoryRateLimiterOptions = {}) {
    this.now = opts.now ?? Date.now;
    // 50k keys × a few hundred bytes at worst ≈ tens of MB: an attacker rotating IPs
    // cannot push memory past that; they can only evict the keys least recently hit.
    this.maxKeys = opts.maxKeys ?? 50_000;
    this.buckets = opts.buckets ?? 30;
    this.sweepIntervalMs = opts.sweepIntervalMs ?? 60_000;
  }

  /** Number of keys currently remembered (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  async hit(key: string, rule: LimitRule): Promise<HitResult> {
    const now = this.now();
    this.sweep(now);
    if (rule.limit <= 0) return { allowed: false, remaining: 0, retryAfterMs: rule.windowMs };
    const e = this.entry(key, rule, now);
    const current = Math.floor(now / e.width);
    prune(e, current);
    // Re-insert so that this key becomes the most recently used, refused hits included:
    // a key under attack must not be the first evicted (that would reset its count).
    this.entries.delete(key);
    this.entries.set(key, e);
    if (e.total >= rule.limit) {
      return { allowed: false, remaining: 0, retryAfterMs: retryAfter(e, rule.limit, now) };
    }
    // Refused hits are not counted: the window frees slots as it slides even under a flood
    // (punishing persistent failures is LockOut's job, not the limiter's).
    if (e.slice.at(-1) === current) e.count[e.count.length - 1]! += 1;
    else {
      e.slice.push(current);
      e.count.push(1);
    }
    e.total += 1;
    e.idleAt = (current + 1 + e.span) * e.width;
    const remaining = rule.limit - e.total;
    return { allowed: true, remaining, retryAfterMs: remaining > 0 ? 0 : retryAfter(e, rule.limit, now) };
  }

  async peek(key: string, rule: LimitRule): Promise<{ count: number; retryAfterMs: number }> {
    const now = this.now();
    const e = this.entries.get(key);
    if (!e) return { count: 0, retryAfterMs: rule.limit <= 0 ? rule.windowMs : 0 };
    prune(e, Math.floor(now / e.width));
    return { count: e.total, retryAfterMs: retryAfter(e, rule.limit, now) };
  }

  async reset(key: string): Promise<void> {
    this.entries.delete(key);
  }

  /** The key's entry, created (evicting the LRU key if full) or restarted if the rule changed. */
  private entry(key: string, rule: LimitRule, now: number): Entry {
    const { width, span } = slicesOf(rule, this.buckets);
    const found = this.entries.get(key);
    // One key is meant to be used with one rule (namespace keys by rule: see limitKey).
    if (found && found.width === width && found.span === span) return found;
    if (!found) {
      while (this.entries.size >= this.maxKeys) {
        const oldest = this.entries.keys().next().value as string;
        this.entries.delete(oldest);
      }
    }
    return { width, span, slice: [], count: [], total: 0, idleAt: now };
  }

  /** Drops idle keys, at most once per sweepIntervalMs so that the cost stays amortised. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.sweepIntervalMs) return;
    this.lastSweep = now;
    for (const [key, e] of this.entries) if (e.idleAt <= now) this.entries.delete(key);
  }
}

/** The slices of a rule's window: their width (ms) and how many cover the window. */
export function slicesOf(rule: LimitRule, buckets: number): { width: number; span: number } {
  const width = Math.max(1, Math.ceil(rule.windowMs / buckets));
  // span slices of `width` cover at least windowMs, so a hit always counts for a full window.
  return { width, span: Math.ceil(rule.windowMs / width) };
}

/** Forgets slices that are wholly older than the window (slice b counts while current ≤ b + span). */
function prune(e: Entry, current: number): void {
  while (e.slice.length > 0 && e.slice[0]! < current - e.span) {
    e.total -= e.count[0]!;
    e.slice.shift();
    e.count.shift();
  }
}

/** Time until enough old slices expire for one more hit to fit under `limit` (0 if one fits now). */
function retryAfter(e: Entry, limit: number, now: number): number {
  let excess = e.total - limit + 1;
  if (excess <= 0) return 0;
  for (let i = 0; i < e.slice.length; i++) {
    excess -= e.count[i]!;
    if (excess <= 0) return Math.max(0, (e.slice[i]! + 1 + e.span) * e.width - now);
  }
  return e.span * e.width; // limit ≤ 0: nothing will ever fit; answer one window
}
