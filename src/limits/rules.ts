/**
 * The limits Hearth applies. Per-instance figures are cozy-stack's (pkg/limits/rate_limiting.go,
 * see /work/shared/reference/cozy-stack-api.md §6) so that clients written against cozy-stack
 * never hit a limit sooner with us. The `…PerIp` rules are ours: cozy-stack has none, but one
 * server may host many instances, and a client spraying guesses across instances (or rotating
 * instances to dodge the per-instance counter) is only visible per IP.
 */
import type { LimitRule } from './rate-limiter.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const LIMITS = {
  // ---- authentication (cozy-stack figures, per instance) ----
  /** Passphrase logins (success or not) per instance: 1000/h. */
  auth: { limit: 1000, windowMs: HOUR },
  /** 2FA passcodes generated (mails sent) per instance: 20/h. */
  twoFactorGeneration: { limit: 20, windowMs: HOUR },
  /** 2FA code attempts per instance: 10 per 5 min, i.e. ≤ 2880 guesses a day at a 6-digit code (LockOut bounds it further). */
  twoFactorAttempts: { limit: 10, windowMs: 5 * MINUTE },
  /** OAuth dynamic client registrations per instance: 50/h. */
  oauthRegistration: { limit: 50, windowMs: HOUR },
  /** Magic-link mails per instance: 30/h. */
  magicLink: { limit: 30, windowMs: HOUR },
  /** Passphrase-hint mails per instance: 2/h. */
  hintMail: { limit: 2, windowMs: HOUR },
  /** Passphrase hints set per instance (PUT /settings/hint compares the hint with the passphrase, a guessing oracle): 10/h, ours. */
  hintChange: { limit: 10, windowMs: HOUR },
  /**
   * Passphrase-reset mails per instance: not in cozy-stack's table; 5/h is ours. It mails the
   * owner, so a low figure stops mail-bombing while leaving room for a lost mail or two.
   */
  passphraseReset: { limit: 5, windowMs: HOUR },
  /**
   * Changes of e-mail address started or mailed again per instance (POST /settings/email and /resend): 10/h, ours. Each
   * checks the passphrase and sends a mail, so the figure bounds both guessing and mail-bombing.
   */
  emailUpdate: { limit: 10, windowMs: HOUR },

  // ---- per client IP, across instances (Hearth's choices) ----
  /** Logins per IP: 100 per 15 min, above any real user (even behind a NAT), far below a sprayer. */
  authPerIp: { limit: 100, windowMs: 15 * MINUTE },
  /** 2FA attempts per IP: 30 per 5 min (3 instances' worth of the per-instance limit). */
  twoFactorAttemptsPerIp: { limit: 30, windowMs: 5 * MINUTE },
  /** OAuth registrations per IP: 20/h; a device registers once, this bounds junk clients. */
  oauthRegistrationPerIp: { limit: 20, windowMs: HOUR },
  /** Reset/magic-link/hint mails asked per IP: 10/h, so one client cannot mail-bomb many owners. */
  mailRequestsPerIp: { limit: 10, windowMs: HOUR },
  /** Passwords tried on one share link: 10 per 15 min (under 1,000 guesses a day; the owner can also set a longer password). */
  sharePassword: { limit: 10, windowMs: 15 * MINUTE },
  /** Share-link passwords tried per IP, across links and instances: 30 per 15 min. */
  sharePasswordPerIp: { limit: 30, windowMs: 15 * MINUTE },
  /** Public share-link hits per IP: 600 per 10 min (1/s sustained), a scraping brake. */
  publicLinkPerIp: { limit: 600, windowMs: 10 * MINUTE },

  // ---- sharing, jobs and mail (cozy-stack figures, per instance) ----
  /** Sharing invitations: 20/h. */
  sharingInvite: { limit: 20, windowMs: HOUR },
  /** Hits on public share links: 2000/h. */
  sharingPublicLink: { limit: 2000, windowMs: HOUR },
  /** Thumbnail jobs: 20000/h. */
  jobThumbnail: { limit: 20_000, windowMs: HOUR },
  /** Sharing track jobs: 20000/h. */
  jobShareTrack: { limit: 20_000, windowMs: HOUR },
  /** Sharing replicate jobs: 2000/h. */
  jobShareReplicate: { limit: 2000, windowMs: HOUR },
  /** Sharing upload jobs: 1000/h. */
  jobShareUpload: { limit: 1000, windowMs: HOUR },
  /** Konnector runs: 100/h. */
  jobKonnector: { limit: 100, windowMs: HOUR },
  /** Zip jobs: 100/h. */
  jobZip: { limit: 100, windowMs: HOUR },
  /** Mails sent (sendmail worker): 200/h. */
  sendmail: { limit: 200, windowMs: HOUR },
  /** Service jobs: 200/h. */
  jobService: { limit: 200, windowMs: HOUR },
  /** Push notifications: 30/h. */
  push: { limit: 30, windowMs: HOUR },
  /** Notes persistence: 100/h. */
  notesPersist: { limit: 100, windowMs: HOUR },
  /** Jobs pushed by OAuth (@client) apps: 100/h. */
  clientJobs: { limit: 100, windowMs: HOUR },
  /** Webhook trigger calls: 30/h. */
  webhookTrigger: { limit: 30, windowMs: HOUR },
  /** Exports: 5/day. */
  export: { limit: 5, windowMs: DAY },
} as const satisfies Record<string, LimitRule>;

export type LimitName = keyof typeof LIMITS;

/** The key a rule is counted under: rule names namespace keys, so one key never mixes rules. */
export function limitKey(name: LimitName, subject: string): string {
  return `${name}:${subject}`;
}

/** Consecutive-failure lock-out for passphrase logins, per client address: 10 failures → 15 min, doubling up to 24 h. */
export const LOGIN_LOCKOUT = { threshold: 10, baseMs: 15 * MINUTE, maxMs: DAY } as const;

/**
 * The whole instance's lock-out (login-lockout.ts): 10 client addresses locked out for the first time (100 guesses
 * at least, from 10 addresses) lock every address out for 15 min, doubling up to 24 h; the owner gets in by
 * resetting the passphrase by mail.
 */
export const LOGIN_LOCKOUT_SOURCES = { threshold: 10, baseMs: 15 * MINUTE, maxMs: DAY } as const;
