/**
 * Locks over Redis (coordination.engine redis), for several processes: `SET <prefix>lock:<key> <random token> NX PX
 * <lease>`, renewed every third of the lease while `fn` runs, released only by its holder (a Lua compare-and-delete),
 * and a fencing token from one counter (INCR) given with each acquisition. A process killed while it holds a lock
 * stops renewing it: the lock expires after its lease and another process takes it.
 *
 * Waiting: callers of one process queue in memory (InProcessLocks: first come, first served, and one contender per key
 * per process on Redis); across processes the contender retries with a backoff bounded by the lock's remaining lease,
 * and is woken early by the release notice its holder publishes (one channel for all keys). Fair enough between
 * processes ("FIFO-ish"), strictly FIFO within one.
 *
 * While Redis is unreachable, acquiring fails at once with its connection error (a 503 for a request).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { InProcessLocks, type HeldLock, type Locks } from '../common/locks.js';
import type { RedisChannels } from './channels.js';

/**
 * Takes the lock if free and returns [1, fence]; otherwise [0, its remaining lease in ms]. A missing counter (a new
 * Redis, or one restarted without its data) starts at ARGV[3], the time in ms × 1000: past every token given before
 * (the stores remember the highest they saw and would refuse smaller ones), unless they came faster than 1000 per ms.
 */
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('SET', KEYS[2], ARGV[3], 'NX')
  return {1, redis.call('INCR', KEYS[2])}
end
return {0, redis.call('PTTL', KEYS[1])}`;
/** Extends the lease if the token still holds the lock. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
/** Deletes the lock if the token holds it, and tells the waiters (ARGV[2]: the channel, ARGV[3]: the key). */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0`;

export interface RedisLocksOptions {
  /** How long a lock outlives a holder that stopped renewing it (killed, frozen): 15 s by default. */
  leaseMs?: number;
  /** The longest pause between two tries of a waiting caller (it is woken earlier by a release). */
  maxBackoffMs?: number;
}

export class RedisLocks implements Locks {
  private readonly local = new InProcessLocks();
  private readonly leaseMs: number;
  private readonly maxBackoffMs: number;
  /** The waiters of this process, by key: woken by a release notice. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private stopNotices: (() => void) | null = null;

  constructor(private readonly channels: RedisChannels, opts: RedisLocksOptions = {}) {
    this.leaseMs = opts.leaseMs ?? 15_000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 250;
  }

  withLock<T>(key: string, fn: (held: HeldLock) => Promise<T>): Promise<T> {
    return this.local.withLock(key, async () => {
      const token = randomBytes(16).toString('hex');
      const fence = await this.acquire(key, token);
      const lost = new AbortController();
      const renewal = this.renewWhileHeld(key, token, lost);
      try {
        return await fn({ fence, signal: lost.signal, leased: true });
      } finally {
        renewal.stop();
        await this.release(key, token);
      }
    });
  }

  /** Stops listening to release notices (the connections themselves are closed by their owner). */
  close(): void {
    this.stopNotices?.();
    this.stopNotices = null;
  }

  private async acquire(key: string, token: string): Promise<number> {
    const redis = this.channels.redis.commands;
    let backoff = 2;
    for (;;) {
      const [ok, value] = (await redis.eval(ACQUIRE, 2, `lock:${key}`, 'lock-fence', token, this.leaseMs, Date.now() * 1000)) as [number, number];
      if (ok === 1) return value;
      await this.waitForRelease(key, Math.min(backoff, value > 0 ? value : backoff));
      backoff = Math.min(backoff * 2, this.maxBackoffMs);
    }
  }

  private waitForRelease(key: string, ms: number): Promise<void> {
    this.stopNotices ??= this.channels.on(this.channels.redis.channel('lock-released'), (released) => {
      for (const wake of [...(this.waiters.get(released) ?? [])]) wake();
    });
    const ac = new AbortController();
    let set = this.waiters.get(key);
    if (!set) this.waiters.set(key, (set = new Set()));
    const wake = () => ac.abort();
    set.add(wake);
    return sleep(ms, undefined, { signal: ac.signal }).catch(() => undefined).finally(() => {
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
    });
  }

  /** Renews the lease every third of it; aborts `lost` when the lock is no longer this holder's. */
  private renewWhileHeld(key: string, token: string, lost: AbortController): { stop(): void } {
    let renewedAt = Date.now();
    const timer = setInterval(() => {
      this.channels.redis.commands.eval(RENEW, 1, `lock:${key}`, token, this.leaseMs).then((kept) => {
        if (kept === 1) renewedAt = Date.now();
        else lost.abort();
      }, () => {
        if (Date.now() - renewedAt >= this.leaseMs) lost.abort(); // Redis unreachable for a whole lease: assume it is gone
      });
    }, Math.max(10, Math.floor(this.leaseMs / 3)));
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  private async release(key: string, token: string): Promise<void> {
    const redis = this.channels.redis;
    try {
      await redis.commands.eval(RELEASE, 1, `lock:${key}`, token, redis.channel('lock-released'), key);
    } catch {
      // Redis unreachable: the lease ends by itself
    }
  }
}
