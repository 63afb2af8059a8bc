/** Outgoing mail: `createMailer(config)` picks SMTP or the dev outbox and applies the per-instance hourly limit. */
import { ConfigError } from '../config/load.js';
import type { HearthConfig } from '../config/types.js';
import { OutboxMailer, SmtpMailer, type Mailer } from './mailer.js';
import { outboxDir } from './outbox.js';
import { LimitedMailer, SlidingWindowLimiter, type RateLimiter } from './rate-limit.js';
import { parseMailbox } from './validate.js';

export type { Mail, MailAttachment, Mailer } from './mailer.js';
export { OutboxMailer, SmtpMailer } from './mailer.js';
export { LimitedMailer, SlidingWindowLimiter, type RateLimiter } from './rate-limit.js';
export { outboxDir } from './outbox.js';

/** `auto` is the outbox in --dev, SMTP otherwise. */
export const mailMode = (config: HearthConfig): 'smtp' | 'outbox' =>
  config.mail.mode === 'auto' ? (config.dev ? 'outbox' : 'smtp') : config.mail.mode;

export function createMailer(config: HearthConfig, limiter: RateLimiter = new SlidingWindowLimiter()): Mailer {
  let from = null;
  try {
    from = config.mail.from === null ? null : parseMailbox(config.mail.from);
  } catch (e) {
    throw new ConfigError(`mail.from must be an address such as "Hearth <noreply@example.org>" (${(e as Error).message})`, 'mail.from');
  }
  const inner = mailMode(config) === 'outbox' ? new OutboxMailer(outboxDir(config.dataDir), from) : new SmtpMailer(config.mail, from);
  return new LimitedMailer(inner, limiter, config.mail.rateLimitPerHour);
}
