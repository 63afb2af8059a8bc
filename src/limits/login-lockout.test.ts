import { describe, expect, it } from 'vitest';
import { sourceOf } from './login-lockout.js';

// LoginLockOut's counters: test/helpers/limits-suite.ts, run by lockout.test.ts (memory) and src/coordination/redis.test.ts
describe('LoginLockOut', () => {
  it('groups client addresses: IPv4 whole, IPv4-mapped as IPv4, IPv6 by /64', () => {
    expect(sourceOf('192.0.2.1')).toBe('192.0.2.1');
    expect(sourceOf('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(sourceOf('2001:db8::1')).toBe(sourceOf('2001:db8:0:0:ffff::9'));
    expect(sourceOf('2001:db8::1')).not.toBe(sourceOf('2001:db8:0:1::1'));
  });
});
