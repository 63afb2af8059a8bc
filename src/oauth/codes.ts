/**
 * OAuth access codes (cozy-stack's io.cozy.oauth.access_codes): random, single-use, 5 minutes,
 * bound to the instance, client, redirect URI, scope and PKCE challenge.
 *
 * Kept in memory by the embedded engines (a code lives 5 minutes, and losing the pending codes on a restart only makes a
 * user click "Accept" again); with docs.engine postgres, in PostgreSQL (codes-pg.ts), so that a code issued by one
 * process is taken by any other.
 * The map is bounded (MAX_CODES): when full, expired codes are purged, then the oldest is evicted.
 * Codes already used are remembered until they would have expired, so that a replay is told
 * apart from an unknown code (both are `invalid_grant`).
 */
import { randomBytes } from 'node:crypto';

/** cozy-stack's access code lifetime. */
export const CODE_TTL_MS = 5 * 60 * 1000;
const MAX_CODES = 10_000;

export interface AccessCode {
  instanceId: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  codeChallenge: string | null;
  expiresAt: number;
}

export type TakeResult = { ok: true; code: AccessCode } | { ok: false; reason: 'unknown' | 'used' | 'expired' };

/** Where the codes live: memory (below) or PostgreSQL (codes-pg.ts); both run test/helpers/access-codes-suite.ts. */
export interface AccessCodeStore {
  /** A new code (random, 256 bits) for this grant, valid `ttlMs`. */
  create(c: Omit<AccessCode, 'expiresAt'>): Promise<string>;
  /** Removes the code and returns it: a second call for the same code gets `used`. */
  take(code: string): Promise<TakeResult>;
}

export const newCode = (): string => randomBytes(32).toString('base64url');

export class AccessCodes implements AccessCodeStore {
  private readonly live = new Map<string, AccessCode>();
  private readonly used = new Map<string, number>();
  private readonly now: () => number;
  private readonly ttlMs: number;

  constructor(opts: { now?: () => number; ttlMs?: number } = {}) {
    this.now = opts.now ?? (() => Date.now());
    this.ttlMs = opts.ttlMs ?? CODE_TTL_MS;
  }

  async create(c: Omit<AccessCode, 'expiresAt'>): Promise<string> {
    const code = newCode();
    bounded(this.live, (v) => v.expiresAt, this.now());
    this.live.set(code, { ...c, expiresAt: this.now() + this.ttlMs });
    return code;
  }

  async take(code: string): Promise<TakeResult> {
    const now = this.now();
    const c = this.live.get(code);
    if (!c) return { ok: false, reason: (this.used.get(code) ?? 0) > now ? 'used' : 'unknown' };
    this.live.delete(code);
    bounded(this.used, (v) => v, now);
    this.used.set(code, c.expiresAt);
    if (c.expiresAt <= now) return { ok: false, reason: 'expired' };
    return { ok: true, code: c };
  }

  get size(): number {
    return this.live.size;
  }
}

/** Makes room for one entry: drops the expired ones, then the oldest. */
function bounded<V>(map: Map<string, V>, expiry: (v: V) => number, now: number): void {
  if (map.size < MAX_CODES) return;
  for (const [k, v] of map) if (expiry(v) <= now) map.delete(k);
  while (map.size >= MAX_CODES) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) break;
    map.delete(oldest);
  }
}
