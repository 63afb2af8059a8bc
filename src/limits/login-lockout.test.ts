import { describe, expect, it } from 'vitest';
import { LoginLockOut, sourceOf } from './login-lockout.js';

const MIN = 60_000;

function setup() {
  const c = { t: 1_000_000 };
  const opts = { threshold: 3, baseMs: 15 * MIN, maxMs: 24 * 60 * MIN, now: () => c.t };
  return { c, lo: new LoginLockOut({ perSource: opts, perInstance: { ...opts, threshold: 2 } }) };
}
const fail = (lo: LoginLockOut, ip: string, n: number, id = 'i1') => {
  for (let i = 0; i < n; i++) lo.failure(id, ip);
};

describe('LoginLockOut', () => {
  it('groups client addresses: IPv4 whole, IPv4-mapped as IPv4, IPv6 by /64', () => {
    expect(sourceOf('192.0.2.1')).toBe('192.0.2.1');
    expect(sourceOf('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(sourceOf('2001:db8::1')).toBe(sourceOf('2001:db8:0:0:ffff::9'));
    expect(sourceOf('2001:db8::1')).not.toBe(sourceOf('2001:db8:0:1::1'));
  });

  it('locks an address, then the instance when enough addresses were locked out once; the operator unlocks all', () => {
    const { lo } = setup();
    fail(lo, '192.0.2.1', 3);
    expect(lo.status('i1', '192.0.2.1').locked).toBe(true);
    expect(lo.status('i1', '192.0.2.2').locked).toBe(false);
    expect(lo.status('i2', '192.0.2.1').locked).toBe(false);
    fail(lo, '192.0.2.1', 3); // the same address again counts once
    expect(lo.status('i1').locked).toBe(false);
    fail(lo, '192.0.2.2', 3);
    expect(lo.status('i1', '192.0.2.9').locked).toBe(true);
    lo.unlockFor('i1', '192.0.2.9');
    expect(lo.status('i1', '192.0.2.9').locked).toBe(false);
    expect(lo.status('i1', '192.0.2.2').locked).toBe(true);
    lo.unlock('i1');
    expect(lo.status('i1', '192.0.2.1').locked).toBe(false);
    expect(lo.status('i1', '192.0.2.2').locked).toBe(false);
  });

  it('a success resets the address\'s count, and the locks end by themselves', () => {
    const { c, lo } = setup();
    fail(lo, '192.0.2.1', 2);
    lo.success('i1', '192.0.2.1');
    fail(lo, '192.0.2.1', 2);
    expect(lo.status('i1', '192.0.2.1')).toEqual({ locked: false, until: null, failures: 2 });
    fail(lo, '192.0.2.1', 1);
    expect(lo.status('i1', '192.0.2.1').locked).toBe(true);
    c.t += 15 * MIN;
    expect(lo.status('i1', '192.0.2.1').locked).toBe(false);
  });
});
