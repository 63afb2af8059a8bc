/**
 * The conformance suites of the limits' interfaces (src/limits): the same tests run on the memory implementations
 * (src/limits/*.test.ts) and on Redis (src/coordination/redis.test.ts). Every `make` call gives counters of their own
 * (a fresh namespace), driven by the fake clock it is given.
 */
import { describe, expect, it } from 'vitest';
import { HearthError } from '../../src/common/errors.js';
import { LIMITS, LoginLockOut, enforceLimit, limitKey, type LimitRule, type LockOut, type LockOutOptions, type RateLimiter } from '../../src/limits/index.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

const RULE: LimitRule = { limit: 3, windowMs: 30_000 }; // 30 slices of 1 s

export function rateLimiterSuite(name: string, make: (now: () => number) => RateLimiter): void {
  describe(`RateLimiter (${name})`, () => {
    it('allows exactly `limit` hits per window, then says when to retry', async () => {
      const c = clock();
      const rl = make(c.now);
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
      const rl = make(c.now);
      const admitted: number[] = [];
      // Try every 250 ms for 2 minutes; check every 30 s interval holds ≤ 3 admitted hits.
      for (; c.t < 120_000; c.t += 250) if ((await rl.hit('k', RULE)).allowed) admitted.push(c.t);
      for (const t of admitted) expect(admitted.filter((u) => u >= t && u < t + RULE.windowMs).length).toBeLessThanOrEqual(3);
      expect(admitted.length).toBeGreaterThanOrEqual(3 * 3); // ~limit per window: slots do come back
      // Staggered hits come back one by one.
      const rl2 = make(c.now);
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
      const rl = make(clock().now);
      for (let i = 0; i < 3; i++) await rl.hit('a', RULE);
      expect((await rl.hit('a', RULE)).allowed).toBe(false);
      expect((await rl.hit('b', RULE)).remaining).toBe(2);
      await rl.reset('a');
      expect((await rl.hit('a', RULE)).remaining).toBe(2);
      expect(await rl.peek('unknown', RULE)).toEqual({ count: 0, retryAfterMs: 0 });
      expect((await rl.hit('z', { limit: 0, windowMs: 1000 })).allowed).toBe(false);
    });

    it('restarts a key used with another rule', async () => {
      const rl = make(clock().now);
      for (let i = 0; i < 3; i++) await rl.hit('k', RULE);
      expect((await rl.hit('k', { limit: 5, windowMs: 60_000 })).remaining).toBe(4);
    });

    it('enforceLimit throws a 429 with Retry-After once the named limit is reached', async () => {
      const rl = make(clock().now);
      for (let i = 0; i < LIMITS.twoFactorAttempts.limit; i++) await enforceLimit(rl, 'twoFactorAttempts', 'inst1');
      const err = await enforceLimit(rl, 'twoFactorAttempts', 'inst1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HearthError);
      expect(err).toMatchObject({ status: 429, error: 'too_many_requests', headers: { 'Retry-After': '310' } });
      expect(await enforceLimit(rl, 'twoFactorAttempts', 'inst2')).toBe(9);
      expect(limitKey('auth', 'x')).toBe('auth:x');
    });
  });
}

/** `make(name, opts)`: the counters of lock-out `name` (a fresh namespace per call of the suite's setup). */
export type LockOutMaker = (name: string, opts: LockOutOptions) => LockOut;

export function lockOutSuite(name: string, make: LockOutMaker): void {
  function setup() {
    const c = { t: 1_000_000 };
    const lo = make('test', { threshold: 10, baseMs: 15 * MIN, maxMs: 24 * HOUR, now: () => c.t });
    const fail = async (n: number, key = 'k') => {
      for (let i = 0; i < n; i++) await lo.failure(key);
      return lo.status(key);
    };
    return { c, lo, fail };
  }

  describe(`LockOut (${name})`, () => {
    it('locks after N consecutive failures; a success in between resets the count', async () => {
      const { c, lo, fail } = setup();
      expect(await fail(9)).toEqual({ locked: false, until: null, failures: 9 });
      await lo.success('k');
      expect((await fail(9)).locked).toBe(false);
      expect(await lo.failure('k')).toEqual({ locked: true, until: c.t + 15 * MIN, failures: 0 });
      expect((await lo.status('other')).locked).toBe(false);
    });

    it('ignores failures and successes while locked, and unlocks by itself', async () => {
      const { c, lo, fail } = setup();
      const until = (await fail(10)).until!;
      await fail(50);
      await lo.success('k');
      expect(await lo.status('k')).toEqual({ locked: true, until, failures: 0 });
      c.t = until;
      expect((await lo.status('k')).locked).toBe(false);
    });

    it('doubles each further lock-out up to the max, even across successes', async () => {
      const { c, lo, fail } = setup();
      const durations: number[] = [];
      for (let i = 0; i < 9; i++) {
        const s = await fail(10);
        durations.push(s.until! - c.t);
        c.t = s.until!;
        await lo.success('k'); // the owner logs in between attacks: the level stays
      }
      expect(durations.map((d) => d / MIN)).toEqual([15, 30, 60, 120, 240, 480, 960, 1440, 1440]);
    });

    it('forgets the escalation after a quiet period', async () => {
      const { c, fail } = setup();
      c.t = (await fail(10)).until!;
      c.t = (await fail(10)).until!; // level 2
      c.t += 24 * HOUR;
      expect((await fail(10)).until! - c.t).toBe(15 * MIN);
    });

    it('unlock is the way out: lock and history cleared; unlockPrefix clears the keys under a prefix only', async () => {
      const { c, lo, fail } = setup();
      await fail(10);
      await lo.unlock('k');
      expect(await lo.status('k')).toEqual({ locked: false, until: null, failures: 0 });
      expect((await fail(10)).until! - c.t).toBe(15 * MIN);
      await fail(10, 'i1\na');
      await fail(10, 'i1\nb');
      await fail(10, 'i2\na');
      await lo.unlockPrefix('i1\n');
      expect((await lo.status('i1\na')).locked).toBe(false);
      expect((await lo.status('i1\nb')).locked).toBe(false);
      expect((await lo.status('i2\na')).locked).toBe(true);
      expect(await lo.lockOuts('i2\na')).toBe(1);
    });
  });

  describe(`LoginLockOut (${name})`, () => {
    function login() {
      const c = { t: 1_000_000 };
      const opts = { threshold: 3, baseMs: 15 * MIN, maxMs: 24 * 60 * MIN, now: () => c.t };
      return { c, lo: new LoginLockOut({ perSource: opts, perInstance: { ...opts, threshold: 2 } }, make) };
    }
    const fail = async (lo: LoginLockOut, ip: string, n: number, id = 'i1') => {
      for (let i = 0; i < n; i++) await lo.failure(id, ip);
    };

    it('locks an address, then the instance when enough addresses were locked out once; the operator unlocks all', async () => {
      const { lo } = login();
      await fail(lo, '192.0.2.1', 3);
      expect((await lo.status('i1', '192.0.2.1')).locked).toBe(true);
      expect((await lo.status('i1', '192.0.2.2')).locked).toBe(false);
      expect((await lo.status('i2', '192.0.2.1')).locked).toBe(false);
      await fail(lo, '192.0.2.1', 3); // the same address again counts once
      expect((await lo.status('i1')).locked).toBe(false);
      await fail(lo, '192.0.2.2', 3);
      expect((await lo.status('i1', '192.0.2.9')).locked).toBe(true);
      await lo.unlockFor('i1', '192.0.2.9');
      expect((await lo.status('i1', '192.0.2.9')).locked).toBe(false);
      expect((await lo.status('i1', '192.0.2.2')).locked).toBe(true);
      await lo.unlock('i1');
      expect((await lo.status('i1', '192.0.2.1')).locked).toBe(false);
      expect((await lo.status('i1', '192.0.2.2')).locked).toBe(false);
    });

    it("a success resets the address's count, and the locks end by themselves", async () => {
      const { c, lo } = login();
      await fail(lo, '192.0.2.1', 2);
      await lo.success('i1', '192.0.2.1');
      await fail(lo, '192.0.2.1', 2);
      expect(await lo.status('i1', '192.0.2.1')).toEqual({ locked: false, until: null, failures: 2 });
      await fail(lo, '192.0.2.1', 1);
      expect((await lo.status('i1', '192.0.2.1')).locked).toBe(true);
      c.t += 15 * MIN;
      expect((await lo.status('i1', '192.0.2.1')).locked).toBe(false);
    });
  });
}
