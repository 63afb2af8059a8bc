/**
 * Owner sessions (cozy-stack's model/session): one row per logged-in browser, in its own SQLite
 * file next to the registry. Its own file because sessions are written on every login and
 * (throttled) on use, while the registry is small, rarely written and synced with FULL; a lost
 * `last_seen` after a crash costs nothing, so this file runs with synchronous = NORMAL.
 *
 * The cookie `cozysessid` carries `<id>.<HMAC-SHA256(instance session secret, id)>`: a cookie
 * from another instance or a forged one fails the HMAC before any lookup.
 */
import Database from 'better-sqlite3';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Instance } from '../instances/types.js';
import { SqliteSecurityEventLog, type SecurityEventLog } from './security-events.js';

/** cozy-stack's longest session: 30 days. */
export const SESSION_MAX_MS = 30 * 24 * 3600 * 1000;
/** `last_seen` is written at most once a minute per session. */
export const TOUCH_EVERY_MS = 60_000;
export const SESSION_COOKIE = 'cozysessid';

/**
 * `web`: a browser the owner logged in with; `app-token`: the session an app token made on the
 * command line (`hearth instances token-app`) is bound to. Both are the owner's, but pages list them apart.
 */
export type SessionKind = 'web' | 'app-token';

export interface Session {
  id: string;
  instanceId: string;
  createdAt: number;
  lastSeen: number;
  expiresAt: number;
  userAgent: string | null;
  ip: string | null;
  kind: SessionKind;
}

export interface Row {
  id: string;
  instance_id: string;
  created_at: number;
  last_seen: number;
  expires_at: number;
  user_agent: string | null;
  ip: string | null;
  kind: SessionKind;
}

/**
 * Where sessions live: SQLite (below) for the embedded engine, PostgreSQL (sessions-pg.ts) for docs.engine postgres. Both
 * run the conformance suite of test/helpers/session-suite.ts.
 */
export interface SessionStore {
  /** The owner's security events (security-events.ts), kept beside the sessions. */
  readonly events: SecurityEventLog;
  /** A new session; `ttlMs` is capped at 30 days (tests pass a negative one for an expired session). */
  create(instance: Instance, meta?: { userAgent?: string | null; ip?: string | null; kind?: SessionKind }, ttlMs?: number): Promise<Session>;
  /** The live session with this id, or null (unknown or expired). */
  get(id: string): Promise<Session | null>;
  /** Records a use; writes at most once a minute per session (TOUCH_EVERY_MS). */
  touch(s: Session): Promise<void>;
  delete(id: string): Promise<void>;
  /** Deletes one session of this instance; false when it has no such session (another instance's id included). */
  deleteOf(instance: Instance, id: string): Promise<boolean>;
  deleteOthers(instance: Instance, keepId: string): Promise<number>;
  deleteAll(instance: Instance): Promise<void>;
  /** The live sessions of the instance, oldest first; only those of one kind if given. */
  list(instance: Instance, kind?: SessionKind): Promise<Session[]>;
  close(): Promise<void>;
}

/** A new session's fields (both engines). */
export function newSession(instance: Instance, meta: { userAgent?: string | null; ip?: string | null; kind?: SessionKind }, ttlMs: number, now: number): Session {
  return {
    id: randomBytes(16).toString('hex'), instanceId: instance.id, createdAt: now, lastSeen: now,
    expiresAt: now + Math.min(ttlMs, SESSION_MAX_MS), userAgent: meta.userAgent?.slice(0, 512) ?? null, ip: meta.ip ?? null, kind: meta.kind ?? 'web',
  };
}

export const toSession = (r: Row): Session => ({
  id: r.id, instanceId: r.instance_id, createdAt: r.created_at, lastSeen: r.last_seen, expiresAt: r.expires_at, userAgent: r.user_agent, ip: r.ip,
  kind: r.kind === 'app-token' ? 'app-token' : 'web',
});

export class SqliteSessionStore implements SessionStore {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private byId: Database.Statement | null = null;
  /** The owner's security events (security-events.ts), in the same file. */
  readonly events: SecurityEventLog;

  constructor(file: string, opts: { now?: () => number } = {}) {
    this.now = opts.now ?? Date.now;
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS sessions (
      id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL,
      expires_at INTEGER NOT NULL, user_agent TEXT, ip TEXT);
      CREATE INDEX IF NOT EXISTS sessions_instance ON sessions (instance_id, expires_at);`);
    const columns = this.db.prepare('PRAGMA table_info(sessions)').all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'kind')) {
      // files from before the kinds: app-token sessions were the ones with the CLI's user agent
      this.db.transaction(() => {
        this.db.exec("ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'web'");
        this.db.exec("UPDATE sessions SET kind = 'app-token' WHERE user_agent = 'hearth-cli'");
      })();
    }
    this.events = new SqliteSecurityEventLog(this.db, this.now);
  }

  async create(instance: Instance, meta: { userAgent?: string | null; ip?: string | null; kind?: SessionKind } = {}, ttlMs = SESSION_MAX_MS): Promise<Session> {
    const now = this.now();
    const s = newSession(instance, meta, ttlMs, now);
    this.db.prepare('INSERT INTO sessions (id, instance_id, created_at, last_seen, expires_at, user_agent, ip, kind) VALUES (?,?,?,?,?,?,?,?)')
      .run(s.id, s.instanceId, s.createdAt, s.lastSeen, s.expiresAt, s.userAgent, s.ip, s.kind);
    if (Math.random() < 0.01) this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now); // amortised purge
    return s;
  }

  async get(id: string): Promise<Session | null> {
    // prepared once: every request with a cookie (each app page and asset) reads its session
    this.byId ??= this.db.prepare('SELECT * FROM sessions WHERE id = ?');
    const r = this.byId.get(id) as Row | undefined;
    return r && r.expires_at > this.now() ? toSession(r) : null;
  }

  async touch(s: Session): Promise<void> {
    const now = this.now();
    if (now - s.lastSeen < TOUCH_EVERY_MS) return;
    this.db.prepare('UPDATE sessions SET last_seen = ? WHERE id = ?').run(now, s.id);
    s.lastSeen = now;
  }

  async delete(id: string): Promise<void> {
    this.db.prepare('DELETE FROM sessions WHERE id = ?').run(id);
  }

  async deleteOf(instance: Instance, id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM sessions WHERE instance_id = ? AND id = ?').run(instance.id, id).changes > 0;
  }

  async deleteOthers(instance: Instance, keepId: string): Promise<number> {
    return this.db.prepare('DELETE FROM sessions WHERE instance_id = ? AND id != ?').run(instance.id, keepId).changes;
  }

  async deleteAll(instance: Instance): Promise<void> {
    this.db.prepare('DELETE FROM sessions WHERE instance_id = ?').run(instance.id);
  }

  async list(instance: Instance, kind?: SessionKind): Promise<Session[]> {
    const rows = this.db.prepare('SELECT * FROM sessions WHERE instance_id = ? AND expires_at > ? ORDER BY created_at').all(instance.id, this.now()) as Row[];
    const all = rows.map(toSession);
    return kind ? all.filter((s) => s.kind === kind) : all;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function mac(secret: Uint8Array, id: string): Buffer {
  return createHmac('sha256', secret).update(`${SESSION_COOKIE}|${id}`).digest();
}

/** The cookie value for a session of the instance whose session secret is `secret`. */
export function sessionCookieValue(secret: Uint8Array, id: string): string {
  return `${id}.${mac(secret, id).toString('base64url')}`;
}

/** The session id a cookie value carries, if its HMAC is this instance's; null otherwise. */
export function sessionIdFromCookie(secret: Uint8Array, value: string): string | null {
  const m = /^([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return null;
  const given = Buffer.from(m[2] as string, 'base64url');
  const want = mac(secret, m[1] as string);
  return given.length === want.length && timingSafeEqual(given, want) ? (m[1] as string) : null;
}
