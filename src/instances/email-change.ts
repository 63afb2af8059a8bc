/**
 * The storage of a pending change of e-mail address (EmailChangeStore), in the instance's row: `pending_email`, the
 * sha256 of its one-time token and the token's expiry. Confirming sets the email, forgets the rest and makes a new
 * settings revision in one UPDATE guarded by the token (two confirmations cannot both win). SQLite and PostgreSQL.
 */
import type Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { NotFound } from '../common/errors.js';
import type { EmailChangeStore, Instance } from './types.js';

/** The SQLite migration's columns (PostgreSQL's are in registry-pg.ts's DDL). */
export const EMAIL_CHANGE_COLUMNS: Array<[string, string]> = [['pending_email', 'TEXT'], ['email_token_hash', 'TEXT'], ['email_token_expires_at', 'INTEGER']];

const TOKEN = /^[0-9a-f]{32}$/;
const hashOf = (token: string): string => createHash('sha256').update(token).digest('hex');
const newToken = (): string => randomBytes(16).toString('hex');
const noInstance = (instance: Instance) => new NotFound(`no instance for ${instance.domain}`);

/** `written(id)`: after each write (the registry makes it durable and drops the cached instance). */
export class SqliteEmailChanges implements EmailChangeStore {
  constructor(private readonly db: Database.Database, private readonly written: (id: string) => Promise<void>) {}

  async start(instance: Instance, email: string, expiresAt: number): Promise<string> {
    const token = newToken();
    const r = this.db.prepare('UPDATE instances SET pending_email = ?, email_token_hash = ?, email_token_expires_at = ? WHERE id = ?').run(email, hashOf(token), expiresAt, instance.id);
    if (r.changes === 0) throw noInstance(instance);
    await this.written(instance.id);
    return token;
  }

  async pending(instance: Instance): Promise<string | null> {
    return (this.db.prepare('SELECT pending_email FROM instances WHERE id = ?').pluck().get(instance.id) as string | null | undefined) ?? null;
  }

  async renew(instance: Instance, expiresAt: number): Promise<string | null> {
    const token = newToken();
    const r = this.db.prepare('UPDATE instances SET email_token_hash = ?, email_token_expires_at = ? WHERE id = ? AND pending_email IS NOT NULL').run(hashOf(token), expiresAt, instance.id);
    if (r.changes === 0) return null;
    await this.written(instance.id);
    return token;
  }

  async confirm(instance: Instance, token: string, now: number): Promise<string | null> {
    if (!TOKEN.test(token)) return null;
    const row = this.db.prepare(`UPDATE instances SET email = pending_email, pending_email = NULL, email_token_hash = NULL, email_token_expires_at = NULL,
        settings_rev = (CAST(settings_rev AS INTEGER) + 1) || '-' || lower(hex(randomblob(16))), updated_at = ?
      WHERE id = ? AND pending_email IS NOT NULL AND email_token_hash = ? AND email_token_expires_at > ? RETURNING email`)
      .get(new Date(now).toISOString(), instance.id, hashOf(token), now) as { email: string } | undefined;
    if (!row) return null;
    await this.written(instance.id);
    return row.email;
  }

  async cancel(instance: Instance): Promise<boolean> {
    const r = this.db.prepare('UPDATE instances SET pending_email = NULL, email_token_hash = NULL, email_token_expires_at = NULL WHERE id = ? AND pending_email IS NOT NULL').run(instance.id);
    if (r.changes === 0) return false;
    await this.written(instance.id);
    return true;
  }
}

type Run = (sql: string, args: unknown[]) => Promise<{ rows: Array<Record<string, unknown>>; rowCount: number | null }>;

/** `run`: a query once the schema is ready; `changed(id)`: drops the instance from every process's cache. */
export class PgEmailChanges implements EmailChangeStore {
  constructor(private readonly run: Run, private readonly changed: (id: string) => void) {}

  async start(instance: Instance, email: string, expiresAt: number): Promise<string> {
    const token = newToken();
    const r = await this.run('UPDATE hearth.instances SET pending_email = $1, email_token_hash = $2, email_token_expires_at = $3 WHERE id = $4', [email, hashOf(token), expiresAt, instance.id]);
    if (!r.rowCount) throw noInstance(instance);
    return token;
  }

  async pending(instance: Instance): Promise<string | null> {
    const r = await this.run('SELECT pending_email FROM hearth.instances WHERE id = $1', [instance.id]);
    return (r.rows[0]?.pending_email as string | null | undefined) ?? null;
  }

  async renew(instance: Instance, expiresAt: number): Promise<string | null> {
    const token = newToken();
    const r = await this.run('UPDATE hearth.instances SET email_token_hash = $1, email_token_expires_at = $2 WHERE id = $3 AND pending_email IS NOT NULL', [hashOf(token), expiresAt, instance.id]);
    return r.rowCount ? token : null;
  }

  async confirm(instance: Instance, token: string, now: number): Promise<string | null> {
    if (!TOKEN.test(token)) return null;
    const r = await this.run(`UPDATE hearth.instances SET email = pending_email, pending_email = NULL, email_token_hash = NULL, email_token_expires_at = NULL,
        settings_rev = (split_part(settings_rev, '-', 1)::int + 1)::text || '-' || md5(random()::text || clock_timestamp()::text), updated_at = $1
      WHERE id = $2 AND pending_email IS NOT NULL AND email_token_hash = $3 AND email_token_expires_at > $4 RETURNING email`,
    [new Date(now).toISOString(), instance.id, hashOf(token), now]);
    const email = r.rows[0]?.email as string | undefined;
    if (email === undefined) return null;
    this.changed(instance.id);
    return email;
  }

  async cancel(instance: Instance): Promise<boolean> {
    const r = await this.run('UPDATE hearth.instances SET pending_email = NULL, email_token_hash = NULL, email_token_expires_at = NULL WHERE id = $1 AND pending_email IS NOT NULL', [instance.id]);
    return Boolean(r.rowCount);
  }
}
