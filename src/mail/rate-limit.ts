/** Per-instance sending limit: an in-process sliding window (a general limiter may replace it). */
import { TooManyRequests } from '../common/errors.js';
import type { Mail, Mailer } from './mailer.js';
import { toMessage } from './validate.js';

export interface RateLimiter {
  /** Counts one hit for `key`; false (and not counted) when `limit` hits already happened in the last `windowMs`. */
  hit(key: string, limit: number, windowMs: number): boolean;
}

export class SlidingWindowLimiter implements RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  hit(key: string, limit: number, windowMs: number): boolean {
    const now = this.now();
    const times = (this.hits.get(key) ?? []).filter((t) => t > now - windowMs);
    const ok = times.length < limit;
    if (ok) times.push(now);
    if (times.length > 0) this.hits.set(key, times);
    else this.hits.delete(key);
    return ok;
  }
}

export const HOUR_MS = 3_600_000;

/** Wraps a mailer: at most `perHour` mails per instance domain per sliding hour, then TooManyRequests (429). */
export class LimitedMailer implements Mailer {
  constructor(readonly inner: Mailer, private readonly limiter: RateLimiter, private readonly perHour: number) {}

  async send(mail: Mail): Promise<{ messageId: string }> {
    toMessage(mail, null); // an invalid mail is refused (400) before it uses up the quota
    if (!this.limiter.hit(`mail:${mail.domain}`, this.perHour, HOUR_MS)) {
      throw new TooManyRequests(`${mail.domain} has sent ${this.perHour} mails in the last hour: try again later`);
    }
    return this.inner.send(mail);
  }

  ping(): Promise<number> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
