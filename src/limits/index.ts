/**
 * Rate limits and lock-outs. Route code calls `enforceLimit`, which throws a 429 with a
 * Retry-After header when a limit is reached.
 */
import { TooManyRequests } from '../common/errors.js';
import type { RateLimiter } from './rate-limiter.js';
import { LIMITS, limitKey } from './rules.js';
import type { LimitName } from './rules.js';

export { MemoryRateLimiter } from './rate-limiter.js';
export type { RateLimiter, LimitRule, HitResult, MemoryRateLimiterOptions } from './rate-limiter.js';
export { LIMITS, LOGIN_LOCKOUT, LOGIN_LOCKOUT_SOURCES, limitKey } from './rules.js';
export type { LimitName } from './rules.js';
export { MemoryLockOut, lockOutRules } from './lockout.js';
export type { LockOut, LockOutOptions, LockStatus } from './lockout.js';
export { LoginLockOut, sourceOf } from './login-lockout.js';
export type { LoginLockOutOptions, LockOutFactory } from './login-lockout.js';

/** Counts one hit of rule `name` for `subject` (an instance id, an IP…); throws 429 if over. Returns the hits left. */
export async function enforceLimit(limiter: RateLimiter, name: LimitName, subject: string): Promise<number> {
  const r = await limiter.hit(limitKey(name, subject), LIMITS[name]);
  if (!r.allowed) {
    const seconds = Math.max(1, Math.ceil(r.retryAfterMs / 1000));
    throw new TooManyRequests(`rate limit reached (${name}): retry in ${seconds} s`, seconds);
  }
  return r.remaining;
}
