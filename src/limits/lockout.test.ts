import { describe, expect, it } from 'vitest';
import { LockOut } from './lockout.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

function setup(opts: { maxKeys?: number } = {}) {
  const c = { t: 1_000_000 };
  const lo = new LockOut({ threshold: 10, baseMs: 15 * MIN, maxMs: 24 * HOUR, now: () => c.t, ...opts });
  const fail = (n: number, key = 'k') => {
    for (let i = 0; i < n; i++) lo.failure(key);
    return lo.status(key);
  };
  return { c, lo, fail };
}

describe('LockOut', () => {
  it('locks after N consecutive failures; a success in between resets the count', () => {
    const { c, lo, fail } = setup();
    expect(fail(9)).toEqual({ locked: false, until: null, failures: 9 });
    lo.success('k');
    expect(fail(9).locked).toBe(false);
    expect(lo.failure('k')).toEqual({ locked: true, until: c.t + 15 * MIN, failures: 0 });
    expect(lo.status('other').locked).toBe(false);
  });

  it('ignores failures and successes while locked, and unlocks by itself', () => {
    const { c, lo, fail } = setup();
    const until = fail(10).until!;
    fail(50);
    lo.success('k');
    expect(lo.status('k')).toEqual({ locked: true, until, failures: 0 });
    c.t = until;
    expect(lo.status('k').locked).toBe(false);
  });

  it('doubles each further lock-out up to the max, even across successes', () => {
    const { c, lo, fail } = setup();
    const durations: number[] = [];
    for (let i = 0; i < 9; i++) {
      const s = fail(10);
      durations.push(s.until! - c.t);
      c.t = s.until!;
      lo.success('k'); // the owner logs in between attacks: the level stays
    }
    expect(durations.map((d) => d / MIN)).toEqual([15, 30, 60, 120, 240, 480, 960, 1440, 1440]);
  });

  it('forgets the escalation after a quiet period', () => {
    const { c, fail } = setup();
    c.t = fail(10).until!;
    c.t = fail(10).until!; // level 2
    c.t += 24 * HOUR;
    expect(fail(10).until! - c.t).toBe(15 * MIN);
  });

  it('unlock is the way out: lock and history cleared', () => {
    const { c, lo, fail } = setup();
    fail(10);
    lo.unlock('k');
    expect(lo.status('k')).toEqual({ locked: false, until: null, failures: 0 });
    expect(fail(10).until! - c.t).toBe(15 * MIN);
  });

  it('remembers a bounded number of keys', () => {
    const { lo, fail } = setup({ maxKeys: 50 });
    for (let i = 0; i < 500; i++) lo.failure(`ip-${i}`);
    expect(lo.size).toBe(50);
    expect(fail(1, 'ip-499').failures).toBe(2);
  });
});
