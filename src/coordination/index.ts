/**
 * The coordination of a `hearth` process with the others (settings `coordination`): the event bus, locks, cache
 * invalidation, rate limits and lock-out counters. Engine memory keeps them in this process (the embedded default: one
 * process); engine redis keeps them in Redis, shared by every process of the cluster. The areas depend on the
 * interfaces (src/common, src/limits), never on Redis; the composition root picks the engine here.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { InProcessBus, type EventBus } from '../common/bus.js';
import { InProcessInvalidation, type Invalidation } from '../common/invalidation.js';
import { InProcessLocks, type Locks } from '../common/locks.js';
import type { RedisConnections } from '../engines/redis.js';
import { LoginLockOut, MemoryRateLimiter, type LoginLockOutOptions, type RateLimiter } from '../limits/index.js';
import { RedisChannels } from './channels.js';
import { RedisBus } from './redis-bus.js';
import { RedisInvalidation } from './redis-invalidation.js';
import { RedisLockOut, RedisRateLimiter } from './redis-limits.js';
import { RedisLocks, type RedisLocksOptions } from './redis-locks.js';

export interface Coordination {
  /** Every process's document events (realtime, changes feeds, caches). */
  bus: EventBus;
  /**
   * This process's own events (publishing is the bus's): for what acts on a write and must act once in the cluster,
   * in the process that wrote it (@event triggers, the job hooks, account deletions, the jobs' metrics).
   */
  localEvents: EventBus;
  /** The realtime NOTIFIED events (POST /realtime/:doctype/:id), for the hubs of every process and nothing else. */
  notices: EventBus;
  /** One Locks shared by the areas (their keys are namespaced: `vfs:…`, `trigger:…`, the installer's). */
  locks: Locks;
  invalidation: Invalidation;
  limiter: RateLimiter;
  loginLockOut(opts: LoginLockOutOptions): LoginLockOut;
  /**
   * Resolves once Redis answers (at most `waitMs`, 10 s by default, later: while it is unreachable requests get 503);
   * at once in memory. The commands fail fast rather than queue, so a start waits for this before serving.
   */
  ready(waitMs?: number): Promise<void>;
  /** Resolves once the subscriptions asked so far are active (Redis), at once in memory. */
  settled(): Promise<void>;
  close(): void;
}

export function memoryCoordination(): Coordination {
  const bus = new InProcessBus();
  return {
    bus,
    localEvents: bus,
    notices: new InProcessBus(),
    locks: new InProcessLocks(),
    invalidation: new InProcessInvalidation(),
    limiter: new MemoryRateLimiter(),
    loginLockOut: (opts) => new LoginLockOut(opts),
    ready: async () => undefined,
    settled: async () => undefined,
    close: () => undefined,
  };
}

export function redisCoordination(redis: RedisConnections, opts: { locks?: RedisLocksOptions } = {}): Coordination {
  const channels = new RedisChannels(redis);
  const locks = new RedisLocks(channels, opts.locks);
  const bus = new RedisBus(channels);
  return {
    bus,
    localEvents: bus.localEvents,
    notices: new RedisBus(channels, 'notices'),
    locks,
    invalidation: new RedisInvalidation(channels),
    limiter: new RedisRateLimiter(redis.commands),
    loginLockOut: (o) => new LoginLockOut(o, (name, rules) => new RedisLockOut(redis.commands, `login-${name}`, rules)),
    async ready(waitMs = 10_000) {
      const commands = redis.commands;
      if (commands.status === 'ready') return;
      const ac = new AbortController();
      await Promise.race([once(commands, 'ready', { signal: ac.signal }), sleep(waitMs, undefined, { signal: ac.signal })]).catch(() => undefined);
      ac.abort();
    },
    settled: () => channels.settled(),
    close: () => locks.close(),
  };
}

/** The coordination of `redis` when the settings name it, else the in-process one. */
export function createCoordination(redis: RedisConnections | null, opts: { locks?: RedisLocksOptions } = {}): Coordination {
  return redis ? redisCoordination(redis, opts) : memoryCoordination();
}
