/**
 * Owner sessions and security events on PostgreSQL (docs.engine postgres), in the shared schema `hearth`: any process
 * reads a session another one opened, and a session revoked through one is refused by all at their next request (a
 * session is read from the database on each request, by a prepared statement: one round trip, never cached).
 * `last_seen` costs no write on the request path: uses are gathered (at most one a minute per session, as on SQLite)
 * and written in one UPDATE every few seconds, and at close.
 */
import type { PgPool } from '../engines/postgres.js';
import { PgSchema } from '../engines/pg-schema.js';
import type { Instance } from '../instances/types.js';
import { detailOf, detailText, KEEP_MS, userAgentOf, type EventSource, type SecurityEventDetail, type SecurityEventKind, type SecurityEventLog, type SecurityEventPage } from './security-events.js';
import { newSession, SESSION_MAX_MS, toSession, TOUCH_EVERY_MS, type Row, type Session, type SessionKind, type SessionStore } from './sessions.js';

const DDL = `
CREATE TABLE IF NOT EXISTS hearth.sessions (id text PRIMARY KEY, instance_id text NOT NULL, created_at bigint NOT NULL, last_seen bigint NOT NULL,
  expires_at bigint NOT NULL, user_agent text, ip text, kind text NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_instance ON hearth.sessions (instance_id, expires_at);
CREATE TABLE IF NOT EXISTS hearth.security_events (id bigserial PRIMARY KEY, instance_id text NOT NULL, at bigint NOT NULL, kind text NOT NULL,
  ip text, user_agent text, detail text);
ALTER TABLE hearth.security_events ADD COLUMN IF NOT EXISTS detail text;
CREATE INDEX IF NOT EXISTS security_events_instance ON hearth.security_events (instance_id, id);`;

/** How often the gathered uses are written. */
const FLUSH_MS = 5_000;

type PgRow = Omit<Row, 'created_at' | 'last_seen' | 'expires_at'> & { created_at: string; last_seen: string; expires_at: string };
const fromPg = (r: PgRow): Session => toSession({ ...r, created_at: Number(r.created_at), last_seen: Number(r.last_seen), expires_at: Number(r.expires_at) });

export class PgSessionStore implements SessionStore {
  readonly events: SecurityEventLog;
  private readonly schema: PgSchema;
  private readonly now: () => number;
  /** Session id → the last use not written yet. */
  private readonly pendingTouches = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(private readonly pool: PgPool, opts: { now?: () => number } = {}) {
    this.now = opts.now ?? Date.now;
    this.schema = new PgSchema(pool, DDL);
    this.events = new PgSecurityEventLog(pool, this.schema, this.now);
  }

  private async query<R>(sql: string, args: unknown[], name?: string): Promise<{ rows: R[]; count: number }> {
    await this.schema.ready();
    const r = await this.pool.query(name ? { name, text: sql, values: args } : { text: sql, values: args });
    return { rows: r.rows as R[], count: r.rowCount ?? 0 };
  }

  async create(instance: Instance, meta: { userAgent?: string | null; ip?: string | null; kind?: SessionKind } = {}, ttlMs = SESSION_MAX_MS): Promise<Session> {
    const now = this.now();
    const s = newSession(instance, meta, ttlMs, now);
    await this.query('INSERT INTO hearth.sessions (id, instance_id, created_at, last_seen, expires_at, user_agent, ip, kind) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)',
      [s.id, s.instanceId, s.createdAt, s.lastSeen, s.expiresAt, s.userAgent, s.ip, s.kind]);
    if (Math.random() < 0.01) await this.query('DELETE FROM hearth.sessions WHERE expires_at <= $1', [now]); // amortised purge
    return s;
  }

  async get(id: string): Promise<Session | null> {
    const { rows: [r] } = await this.query<PgRow>('SELECT * FROM hearth.sessions WHERE id = $1 AND expires_at > $2', [id, this.now()], 'hearth-session-get');
    return r ? fromPg(r) : null;
  }

  async touch(s: Session): Promise<void> {
    const now = this.now();
    if (now - s.lastSeen < TOUCH_EVERY_MS) return;
    s.lastSeen = now;
    this.pendingTouches.set(s.id, now);
    this.flushTimer ??= setTimeout(() => void this.flush().catch(() => undefined), FLUSH_MS).unref();
  }

  /** Writes the gathered uses in one statement (a lost `last_seen` costs nothing: a failure drops them). */
  async flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.pendingTouches.size === 0) return;
    const ids = [...this.pendingTouches.keys()];
    const times = ids.map((id) => this.pendingTouches.get(id));
    this.pendingTouches.clear();
    await this.query(`UPDATE hearth.sessions s SET last_seen = v.t FROM unnest($1::text[], $2::bigint[]) AS v(id, t)
      WHERE s.id = v.id AND s.last_seen < v.t`, [ids, times]);
  }

  async delete(id: string): Promise<void> {
    await this.query('DELETE FROM hearth.sessions WHERE id = $1', [id]);
  }

  async deleteOf(instance: Instance, id: string): Promise<boolean> {
    return (await this.query('DELETE FROM hearth.sessions WHERE instance_id = $1 AND id = $2', [instance.id, id])).count > 0;
  }

  async deleteOthers(instance: Instance, keepId: string): Promise<number> {
    return (await this.query('DELETE FROM hearth.sessions WHERE instance_id = $1 AND id <> $2', [instance.id, keepId])).count;
  }

  async deleteAll(instance: Instance): Promise<void> {
    await this.query('DELETE FROM hearth.sessions WHERE instance_id = $1', [instance.id]);
  }

  async list(instance: Instance, kind?: SessionKind): Promise<Session[]> {
    const { rows } = await this.query<PgRow>('SELECT * FROM hearth.sessions WHERE instance_id = $1 AND expires_at > $2 ORDER BY created_at, id',
      [instance.id, this.now()]);
    const all = rows.map(fromPg);
    return kind ? all.filter((s) => s.kind === kind) : all;
  }

  /** Writes the uses not written yet; the pool belongs to the composition root. */
  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
  }
}

class PgSecurityEventLog implements SecurityEventLog {
  constructor(private readonly pool: PgPool, private readonly schema: PgSchema, private readonly now: () => number) {}

  async record(instance: Pick<Instance, 'id'>, kind: SecurityEventKind, from: EventSource = {}, detail?: SecurityEventDetail): Promise<void> {
    await this.schema.ready();
    await this.pool.query('INSERT INTO hearth.security_events (instance_id, at, kind, ip, user_agent, detail) VALUES ($1,$2,$3,$4,$5,$6)',
      [instance.id, this.now(), kind, from.ip ?? null, userAgentOf(from.userAgent), detailText(detail)]);
    if (Math.random() < 0.01) await this.pool.query('DELETE FROM hearth.security_events WHERE at < $1', [this.now() - KEEP_MS]); // amortised purge
  }

  async list(instance: Pick<Instance, 'id'>, limit: number, before?: number): Promise<SecurityEventPage> {
    await this.schema.ready();
    const since = this.now() - KEEP_MS;
    const { rows } = await this.pool.query<{ id: string; at: string; kind: SecurityEventKind; ip: string | null; user_agent: string | null; detail: string | null }>(
      `SELECT id, at, kind, ip, user_agent, detail FROM hearth.security_events WHERE instance_id = $1 AND at >= $2 AND ($3::bigint IS NULL OR id < $3)
       ORDER BY id DESC LIMIT $4`, [instance.id, since, before ?? null, limit + 1]);
    const events = rows.slice(0, limit).map((r) => ({ id: Number(r.id), at: Number(r.at), kind: r.kind, ip: r.ip, userAgent: r.user_agent, detail: detailOf(r.detail) }));
    const { rows: [count] } = await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM hearth.security_events WHERE instance_id = $1 AND at >= $2',
      [instance.id, since]);
    return { events, next: rows.length > limit ? events[events.length - 1]!.id : null, total: count?.n ?? 0 };
  }

  async deleteAll(instance: Pick<Instance, 'id'>): Promise<void> {
    await this.schema.ready();
    await this.pool.query('DELETE FROM hearth.security_events WHERE instance_id = $1', [instance.id]);
  }
}
