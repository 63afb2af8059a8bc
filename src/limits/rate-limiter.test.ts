import { describe, expect, it } from 'vitest';
import { rateLimiterSuite } from '../../test/helpers/limits-suite.js';
import { MemoryRateLimiter } from './index.js';
import type { LimitRule } from './index.js';

// the behaviour every RateLimiter shares (also run on Redis: src/coordination/redis.test.ts)
rateLimiterSuite('memory', (now) => new MemoryRateLimiter({ now }));

const RULE: LimitRule = { limit: 3, windowMs: 30_000 }; // 30 slices of 1 s

describe('MemoryRateLimiter', () => {
  it('bounds memory: a cap on keys (LRU eviction) and idle keys swept', async () => {
    const c = { t: 1_000_000, now: () => c.t };
    const rl = new MemoryRateLimiter({ now: c.now, maxKeys: 100, sweepIntervalMs: 1000 });
    for (let i = 0; i < 3; i++) await rl.hit('victim', RULE);
    for (let i = 0; i < 1000; i++) {
      await rl.hit(`ip-${i}`, RULE);
      if (i % 50 === 0) await rl.hit('victim', RULE); // a key still under attack stays remembered
    }
    expect(rl.size).toBe(100);
    expect((await rl.hit('victim', RULE)).allowed).toBe(false);
    c.t += 32_000; // every key idle: the next hit sweeps them all
    await rl.hit('fresh', RULE);
    expect(rl.size).toBe(1);
  });
});
