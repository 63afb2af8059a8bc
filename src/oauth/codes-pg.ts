/**
 * OAuth access codes on PostgreSQL (docs.engine postgres), in the shared schema `hearth`: a code issued by the process
 * that showed the consent page is taken by whichever process the client's token request reaches, once. Only the
 * code's SHA-256 is stored; a take marks the row used in one UPDATE, so two processes taking one code at once cannot
 * both get it. Rows are kept until the code would have expired (to tell a replay from an unknown code), then purged.
 */
import { createHash } from 'node:crypto';
import type { PgPool } from '../engines/postgres.js';
import { PgSchema } from '../engines/pg-schema.js';
import { CODE_TTL_MS, newCode, type AccessCode, type AccessCodeStore, type TakeResult } from './codes.js';

const DDL = `CREATE TABLE IF NOT EXISTS hearth.oauth_access_codes (code_hash text PRIMARY KEY, instance_id text NOT NULL, client_id text NOT NULL,
  redirect_uri text NOT NULL, scope text NOT NULL, code_challenge text, expires_at bigint NOT NULL, used boolean NOT NULL DEFAULT false)`;

const hashOf = (code: string): string => createHash('sha256').update(code).digest('hex');

interface Row { instance_id: string; client_id: string; redirect_uri: string; scope: string; code_challenge: string | null; expires_at: string }

export class PgAccessCodes implements AccessCodeStore {
  private readonly schema: PgSchema;
  private readonly now: () => number;
  private readonly ttlMs: number;

  constructor(private readonly pool: PgPool, opts: { now?: () => number; ttlMs?: number } = {}) {
    this.schema = new PgSchema(pool, DDL);
    this.now = opts.now ?? (() => Date.now()); // read at each call, as the memory store does
    this.ttlMs = opts.ttlMs ?? CODE_TTL_MS;
  }

  async create(c: Omit<AccessCode, 'expiresAt'>): Promise<string> {
    await this.schema.ready();
    const code = newCode();
    const now = this.now();
    await this.pool.query(`INSERT INTO hearth.oauth_access_codes (code_hash, instance_id, client_id, redirect_uri, scope, code_challenge, expires_at)
      VALUES ($1,$2,$3,$4,$5,$6,$7)`, [hashOf(code), c.instanceId, c.clientId, c.redirectUri, c.scope, c.codeChallenge, now + this.ttlMs]);
    if (Math.random() < 0.05) await this.pool.query('DELETE FROM hearth.oauth_access_codes WHERE expires_at <= $1', [now]); // amortised purge
    return code;
  }

  async take(code: string): Promise<TakeResult> {
    await this.schema.ready();
    const now = this.now();
    const { rows: [row] } = await this.pool.query<Row>(`UPDATE hearth.oauth_access_codes SET used = true WHERE code_hash = $1 AND NOT used
      RETURNING instance_id, client_id, redirect_uri, scope, code_challenge, expires_at`, [hashOf(code)]);
    if (!row) {
      const { rows: [seen] } = await this.pool.query<{ expires_at: string }>('SELECT expires_at FROM hearth.oauth_access_codes WHERE code_hash = $1', [hashOf(code)]);
      return { ok: false, reason: seen && Number(seen.expires_at) > now ? 'used' : 'unknown' };
    }
    const expiresAt = Number(row.expires_at);
    if (expiresAt <= now) return { ok: false, reason: 'expired' };
    return {
      ok: true,
      code: { instanceId: row.instance_id, clientId: row.client_id, redirectUri: row.redirect_uri, scope: row.scope, codeChallenge: row.code_challenge, expiresAt },
    };
  }
}
