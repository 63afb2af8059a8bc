/** The rate limits of a passphrase attempt (the login form, the consent to a move): per client address, then per instance. */
import { TooManyRequests } from '../common/errors.js';
import { enforceLimit, type RateLimiter } from '../limits/index.js';

/** Counts one attempt: null when it may go on, else the seconds to wait. */
export async function passphraseAttemptWait(limiter: RateLimiter, ip: string, instanceId: string): Promise<number | null> {
  try {
    await enforceLimit(limiter, 'authPerIp', ip);
    await enforceLimit(limiter, 'auth', instanceId);
    return null;
  } catch (err) {
    if (!(err instanceof TooManyRequests)) throw err;
    return Number(err.headers['Retry-After'] ?? 60);
  }
}
