import { describe, expect, it } from 'vitest';
import { HearthError } from '../common/errors.js';
import { LIMITS, MemoryRateLimiter, enforceLimit, limitKey } from './index.js';
import type { LimitRule } from './index.js';

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

const RULE: LimitRule = { limit: 3, windowMs: 30_000 }; // 30 slices of 1 s

describe('MemoryRateLimiter', () => {
  it('allows exactly `limit` hits per window, then says when to retry', async () => {
    const c = clock();
    const rl = new MemoryRateLimiter({ now: c.now });
    expect(await rl.hit('k', RULE)).toEqual({ allowed: true, remaining: 2, retryAfterMs: 0 });
    expect(await rl.hit('k', RULE)).toEqual({ allowed: true, remaining: 1, retryAfterMs: 0 });
    const last = await rl.hit('k', RULE);
    expect(last.allowed && last.remaining === 0).toBe(true);
    expect(last.retryAfterMs).toBe(31_000); // the window plus at most one slice
    c.t += 10_000;
    expect(await rl.hit('k', RULE)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 21_000 });
    expect(await rl.peek('k', RULE)).toEqual({ count: 3, retryAfterMs: 21_000 });
  });

  it('frees slots as the window slides, oldest first, and never admits more than limit per window', async () => {
    const c = clock(0);
    const rl = new MemoryRateLimiter({ now: c.now });
    const admitted: number[] = [];
    // Try every 250 ms for 2 minutes; check every 30 s interval holds ≤ 3 admitted hits.
    for (; c.t < 120_000; c.t += 250) if ((await rl.hit('k', RULE)).allowed) admitted.push(c.t);
    for (const t of admitted) expect(admitted.filter((u) => u >= t && u < t + RULE.windowMs).length).toBeLessThanOrEqual(3);
    expect(admitted.length).toBeGreaterThanOrEqual(3 * 3); // ~limit per window: slots do come back
    // Staggered hits come back one by one.
    const rl2 = new MemoryRateLimiter({ now: c.now });
    const t0 = (c.t = 200_000);
    for (const dt of [0, 5_000, 10_000]) {
      c.t = t0 + dt;
      await rl2.hit('k', RULE);
    }
    c.t = t0 + 30_999;
    expect((await rl2.hit('k', RULE)).allowed).toBe(false);
    c.t = t0 + 31_000;
    expect(await rl2.hit('k', RULE)).toMatchObject({ allowed: true, remaining: 0, retryAfterMs: 5_000 });
    expect((await rl2.hit('k', RULE)).allowed).toBe(false);
  });

  it('keeps keys apart, and reset forgets one', async () => {
    const rl = new MemoryRateLimiter({ now: clock().now });
    for (let i = 0; i < 3; i++) await rl.hit('a', RULE);
    expect((await rl.hit('a', RULE)).allowed).toBe(false);
    expect((await rl.hit('b', RULE)).remaining).toBe(2);
    await rl.reset('a');
    expect((await rl.hit('a', RULE)).remaining).toBe(2);
    expect(await rl.peek('unknown', RULE)).toEqual({ count: 0, retryAfterMs: 0 });
    expect((await rl.hit('z', { limit: 0, windowMs: 1000 })).allowed).toBe(false);
  });

  it('bounds memory: a cap on keys (LRU eviction) and idle keys swept', async () => {
    const c = clock();
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

  it('restarts a key used with another rule', async () => {
    const rl = new MemoryRateLimiter({ now: clock().now });
    for (let i = 0; i < 3; i++) await rl.hit('k', RULE);
    expect((await rl.hit('k', { limit: 5, windowMs: 60_000 })).remaining).toBe(4);
  });

  it('enforceLimit throws a 429 with Retry-After once the named limit is reached', async () => {
    const rl = new MemoryRateLimiter({ now: clock().now });
    for (let i = 0; i < LIMITS.twoFactorAttempts.limit; i++) await enforceLimit(rl, 'twoFactorAttempts', 'inst1');
    const err = await enforceLimit(rl, 'twoFactorAttempts', 'inst1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HearthError);
    expect(err).toMatchObject({ status: 429, error: 'too_many_requests', headers: { 'Retry-After': '310' } });
    expect(await enforceLimit(rl, 'twoFactorAttempts', 'inst2')).toBe(9);
    expect(limitKey('auth', 'x')).toBe('auth:x');
  });

  it('documents cozy-stack figures', () => {
    expect(LIMITS.auth).toEqual({ limit: 1000, windowMs: 3_600_000 });
    expect(LIMITS.twoFactorGeneration).toEqual({ limit: 20, windowMs: 3_600_000 });
    expect(LIMITS.twoFactorAttempts).toEqual({ limit: 10, windowMs: 300_000 });
    expect(LIMITS.oauthRegistration).toEqual({ limit: 50, windowMs: 3_600_000 });
  });
});
