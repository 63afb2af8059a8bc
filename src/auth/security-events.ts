/**
 * The owner's security events: logins and failed logins, passphrase changes and resets, two-factor changes, sessions
 * ended, the e-mail address asked for, confirmed, mailed again or given up (with the old and new addresses masked:
 * maskEmail). One row per event beside the sessions (same life: written at login; SQLite: in the session store's file), newest
 * first when read, kept 180 days. What a person sees on the Settings app's Security events page (`GET /settings/security-events`).
 */
import type Database from 'better-sqlite3';
import type { Instance } from '../instances/types.js';

export const SECURITY_EVENT_KINDS = [
  'login', 'login_failed', 'passphrase_changed', 'passphrase_reset', 'twofactor_enabled', 'twofactor_disabled', 'recovery_codes_renewed', 'session_revoked', 'sessions_revoked',
  'email_change_requested', 'email_change_resent', 'email_change_cancelled', 'email_changed',
] as const;
export type SecurityEventKind = (typeof SECURITY_EVENT_KINDS)[number];

/** What an event is about beyond its kind: for the e-mail events, the old (`from`) and new (`to`) addresses, masked. */
export interface SecurityEventDetail { from?: string | null; to?: string | null }

export interface SecurityEvent { id: number; at: number; kind: SecurityEventKind; ip: string | null; userAgent: string | null; detail: SecurityEventDetail | null }

/** Where an event came from: the request's address and browser. */
export interface EventSource { ip?: string | null; userAgent?: string | string[] | null }

/**
 * An address as the events keep it: the first character of the local part, then `***`, and the domain
 * (`alice@example.org` → `a***@example.org`): enough for the owner to recognise it, not the address itself.
 */
export function maskEmail(email: string | null | undefined): string | null {
  if (!email) return null;
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

/** The detail column's text, or null; and back (a detail that is not JSON is no detail). */
export const detailText = (d: SecurityEventDetail | null | undefined): string | null => (d ? JSON.stringify(d) : null);
export function detailOf(text: string | null): SecurityEventDetail | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as SecurityEventDetail;
  } catch {
    return null;
  }
}

export const KEEP_MS = 180 * 24 * 3600 * 1000;

/** A page of events, newest first: `next` is the cursor of the page after (an event id), `total` the instance's count. */
export interface SecurityEventPage { events: SecurityEvent[]; next: number | null; total: number }

/** Where the events live: beside the sessions (SQLite here, PostgreSQL in sessions-pg.ts). */
export interface SecurityEventLog {
  record(instance: Pick<Instance, 'id'>, kind: SecurityEventKind, from?: EventSource, detail?: SecurityEventDetail): Promise<void>;
  /** A page of the instance's events, newest first, after the event `before` (an id) if given. */
  list(instance: Pick<Instance, 'id'>, limit: number, before?: number): Promise<SecurityEventPage>;
  deleteAll(instance: Pick<Instance, 'id'>): Promise<void>;
}

/** The user agent as kept: a string, at most 512 characters. */
export const userAgentOf = (ua: string | string[] | null | undefined): string | null => (typeof ua === 'string' ? ua.slice(0, 512) : null);

export class SqliteSecurityEventLog implements SecurityEventLog {
  constructor(private readonly db: Database.Database, private readonly now: () => number = Date.now) {
    db.exec(`CREATE TABLE IF NOT EXISTS security_events (id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, at INTEGER NOT NULL,
      kind TEXT NOT NULL, ip TEXT, user_agent TEXT, detail TEXT);
      CREATE INDEX IF NOT EXISTS security_events_instance ON security_events (instance_id, id);`);
    // a file written before the e-mail events has no detail column
    const columns = db.prepare('PRAGMA table_info(security_events)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'detail')) db.exec('ALTER TABLE security_events ADD COLUMN detail TEXT');
  }

  async record(instance: Pick<Instance, 'id'>, kind: SecurityEventKind, from: EventSource = {}, detail?: SecurityEventDetail): Promise<void> {
    const ua = userAgentOf(from.userAgent);
    this.db.prepare('INSERT INTO security_events (instance_id, at, kind, ip, user_agent, detail) VALUES (?,?,?,?,?,?)').run(instance.id, this.now(), kind, from.ip ?? null, ua, detailText(detail));
    if (Math.random() < 0.01) this.db.prepare('DELETE FROM security_events WHERE at < ?').run(this.now() - KEEP_MS); // amortised purge
  }

  async list(instance: Pick<Instance, 'id'>, limit: number, before?: number): Promise<SecurityEventPage> {
    const rows = this.db.prepare(`SELECT id, at, kind, ip, user_agent, detail FROM security_events WHERE instance_id = ? AND at >= ?${before !== undefined ? ' AND id < ?' : ''} ORDER BY id DESC LIMIT ?`)
      .all(...[instance.id, this.now() - KEEP_MS, ...(before !== undefined ? [before] : []), limit + 1]) as { id: number; at: number; kind: SecurityEventKind; ip: string | null; user_agent: string | null; detail: string | null }[];
    const events = rows.slice(0, limit).map((r) => ({ id: r.id, at: r.at, kind: r.kind, ip: r.ip, userAgent: r.user_agent, detail: detailOf(r.detail) }));
    const total = (this.db.prepare('SELECT COUNT(*) AS n FROM security_events WHERE instance_id = ? AND at >= ?').get(instance.id, this.now() - KEEP_MS) as { n: number }).n;
    return { events, next: rows.length > limit ? events[events.length - 1]!.id : null, total };
  }

  async deleteAll(instance: Pick<Instance, 'id'>): Promise<void> {
    this.db.prepare('DELETE FROM security_events WHERE instance_id = ?').run(instance.id);
  }
}
