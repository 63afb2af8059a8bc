/**
 * The instance registry on PostgreSQL (docs.engine postgres), in the shared schema `hearth`: the same behaviour as
 * registry-sqlite.ts for several processes at once. Every host an instance answers to (its domain, its aliases, and the
 * domain of an instance being destroyed) is a row of `instance_hosts`, whose primary key makes "two instances for one
 * host" impossible even when two processes create them at the same moment: the loser gets 409.
 * The per-request lookups (instance by host, secrets) are cached; any process that writes an instance invalidates it
 * (the `instances` topic of `Invalidation`, key: the instance id) and entries older than a few seconds are read again,
 * in case an invalidation was missed.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { DEFAULT_KDF_ITERATIONS, derivePassphrase } from '../auth/passphrase.js';
import { BadRequest, Conflict, NotFound } from '../common/errors.js';
import type { Invalidation } from '../common/invalidation.js';
import { inTransaction, type PgPool, type Queryable } from '../engines/postgres.js';
import { isUniqueViolation, PgSchema } from '../engines/pg-schema.js';
import { normalizeHost, validateDomain } from './domain.js';
import { DEFAULT_CONTEXT } from './context.js';
import { FIRST_SETTINGS_REV, nextRev, settingsConflict } from './registry-settings.js';
import { PgEmailChanges } from './email-change.js';
import type {
  AuthMode, Instance, InstancePatch, InstanceRegistry, InstanceSecrets, InstanceSettings, InstanceSettingsPatch, InstanceSettingsStore,
  NewInstance, PassphraseTokenKind, PassphraseTokenState, PassphraseTokenStore, TwoFactorState, TwoFactorStore,
} from './types.js';

/** The invalidation topic of instance changes (key: the instance id). */
export const INSTANCES_TOPIC = 'instances';
/** How long a cached instance or secret is trusted without an invalidation. */
const CACHE_MS = 5_000;

const DDL = `
CREATE TABLE IF NOT EXISTS hearth.instances (
  id text PRIMARY KEY, domain text COLLATE "C" NOT NULL UNIQUE, locale text NOT NULL, email text, public_name text, tz text,
  disk_quota bigint, passphrase_hash text, kdf_iterations integer NOT NULL, created_at text NOT NULL, updated_at text NOT NULL,
  secret_session bytea NOT NULL, secret_cli bytea NOT NULL, secret_oauth bytea NOT NULL,
  auth_mode text NOT NULL DEFAULT 'basic', totp_secret text, totp_last_step bigint, recovery_hashes text NOT NULL DEFAULT '[]',
  two_factor_mail_last_step bigint, register_token_hash text, reset_token_hash text, reset_token_expires_at bigint,
  settings_rev text NOT NULL DEFAULT '${FIRST_SETTINGS_REV}', default_redirection text, theme text);
CREATE TABLE IF NOT EXISTS hearth.instance_hosts (host text COLLATE "C" PRIMARY KEY, instance_id text NOT NULL, main boolean NOT NULL);
CREATE INDEX IF NOT EXISTS instance_hosts_instance ON hearth.instance_hosts (instance_id);
CREATE TABLE IF NOT EXISTS hearth.instances_destroying (id text PRIMARY KEY, domain text NOT NULL UNIQUE, instance text NOT NULL, since text NOT NULL);
ALTER TABLE hearth.instances ADD COLUMN IF NOT EXISTS context_name text NOT NULL DEFAULT 'default', ADD COLUMN IF NOT EXISTS tos_signed text,
  ADD COLUMN IF NOT EXISTS tos_latest text, ADD COLUMN IF NOT EXISTS tracking boolean NOT NULL DEFAULT false;
ALTER TABLE hearth.instances ADD COLUMN IF NOT EXISTS pending_email text, ADD COLUMN IF NOT EXISTS email_token_hash text,
  ADD COLUMN IF NOT EXISTS email_token_expires_at bigint;`;

/** An instance's row with its aliases, in one query. */
const SELECT = `SELECT i.*, ARRAY(SELECT a.host FROM hearth.instance_hosts a WHERE a.instance_id = i.id AND NOT a.main ORDER BY a.host) AS aliases
  FROM hearth.instances i`;

interface Row {
  id: string; domain: string; aliases: string[]; locale: string; email: string | null; public_name: string | null; tz: string | null;
  disk_quota: string | null; passphrase_hash: string | null; kdf_iterations: number; created_at: string; updated_at: string;
  secret_session: Buffer; secret_cli: Buffer; secret_oauth: Buffer;
  auth_mode: string; totp_secret: string | null; totp_last_step: string | null; recovery_hashes: string; two_factor_mail_last_step: string | null;
  settings_rev: string; default_redirection: string | null; theme: string | null;
  context_name: string; tos_signed: string | null; tos_latest: string | null; tracking: boolean;
}

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));
const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

const toInstance = (r: Row): Instance => ({
  id: r.id, domain: r.domain, aliases: r.aliases, locale: r.locale, email: r.email, publicName: r.public_name, tz: r.tz,
  diskQuota: num(r.disk_quota), passphraseHash: r.passphrase_hash, onboarded: r.passphrase_hash !== null, kdfIterations: r.kdf_iterations,
  createdAt: r.created_at, updatedAt: r.updated_at, contextName: r.context_name, tosSigned: r.tos_signed, tosLatest: r.tos_latest, tracking: r.tracking,
});
const toSecrets = (r: Row): InstanceSecrets => ({ session: r.secret_session, cli: r.secret_cli, oauth: r.secret_oauth });

interface Cached<T> { value: T; at: number }

export class PgInstanceRegistry implements InstanceRegistry, TwoFactorStore, PassphraseTokenStore, InstanceSettingsStore {
  private readonly schema: PgSchema;
  private readonly kdfIterations: number;
  private readonly cacheMs: number;
  private readonly hostCache = new Map<string, Cached<Instance | null>>();
  private readonly secretCache = new Map<string, Cached<InstanceSecrets>>();
  private readonly unlisten: () => void;
  /** A pending change of the owner's e-mail address (email-change.ts). */
  readonly emailChanges: PgEmailChanges;

  constructor(private readonly pool: PgPool, private readonly invalidation: Invalidation, opts: { kdfIterations?: number; cacheMs?: number } = {}) {
    this.kdfIterations = opts.kdfIterations ?? DEFAULT_KDF_ITERATIONS;
    this.cacheMs = opts.cacheMs ?? CACHE_MS;
    this.schema = new PgSchema(pool, DDL);
    this.emailChanges = new PgEmailChanges(async (sql, args) => {
      await this.schema.ready();
      return pool.query(sql, args);
    }, (id) => this.changed(id));
    this.unlisten = invalidation.listen(INSTANCES_TOPIC, (id) => {
      this.hostCache.clear(); // a domain or an alias may have moved: every host is looked up again
      this.secretCache.delete(id);
    });
  }

  private async query<R extends object = Row>(sql: string, args: unknown[] = [], db: Queryable = this.pool): Promise<R[]> {
    await this.schema.ready();
    return (await db.query(sql, args)).rows as R[];
  }

  private async changes(sql: string, args: unknown[], db: Queryable = this.pool): Promise<number> {
    await this.schema.ready();
    return (await db.query(sql, args)).rowCount ?? 0;
  }

  private changed(id: string): void {
    this.invalidation.invalidate(INSTANCES_TOPIC, id);
  }

  /** `hosts` (validated) that another instance than `exceptId` holds. */
  private async taken(hosts: string[], exceptId: string | null): Promise<Set<string>> {
    const rows = await this.query<{ host: string; instance_id: string }>('SELECT host, instance_id FROM hearth.instance_hosts WHERE host = ANY($1)', [hosts]);
    return new Set(rows.filter((r) => r.instance_id !== exceptId).map((r) => r.host));
  }

  private async checkAliases(aliases: string[], exceptId: string | null): Promise<string[]> {
    const clean = [...new Set(aliases.map((a) => validateDomain(a)))];
    const taken = await this.taken(clean, exceptId);
    const first = clean.find((a) => taken.has(a));
    if (first !== undefined) throw new Conflict(`the domain ${first} is already used by another instance`);
    return clean;
  }

  private async insertHosts(db: Queryable, id: string, hosts: string[], main: boolean): Promise<void> {
    if (hosts.length > 0) await db.query('INSERT INTO hearth.instance_hosts (host, instance_id, main) SELECT unnest($1::text[]), $2, $3', [hosts, id, main]);
  }

  async create(input: NewInstance): Promise<Instance> {
    const domain = validateDomain(input.domain);
    if ((await this.taken([domain], null)).size > 0) throw new Conflict(`an instance already exists for ${domain}`);
    const aliases = await this.checkAliases(input.aliases ?? [], null);
    if (aliases.includes(domain)) throw new BadRequest('an alias cannot be the main domain');
    const kdf = input.kdfIterations ?? this.kdfIterations;
    const passphraseHash = input.passphrase ? await hash(await derivePassphrase(input.passphrase, domain, kdf)) : null;
    const now = new Date().toISOString();
    const id = randomUUID().replace(/-/g, '');
    await this.schema.ready();
    try {
      await inTransaction(this.pool, async (db) => {
        // the hosts first: of two processes creating the same domain, the second waits here, then fails
        await this.insertHosts(db, id, [domain], true);
        await this.insertHosts(db, id, aliases, false);
        await db.query(
          `INSERT INTO hearth.instances (id, domain, locale, email, public_name, tz, disk_quota, passphrase_hash, kdf_iterations, created_at,
             updated_at, secret_session, secret_cli, secret_oauth, context_name, tos_signed, tos_latest) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10,$11,$12,$13,$14,$15,$16)`,
          [id, domain, input.locale ?? 'en', input.email ?? null, input.publicName ?? null, input.tz ?? null, input.diskQuota ?? null,
            passphraseHash, kdf, now, randomBytes(64), randomBytes(64), randomBytes(64), input.contextName ?? DEFAULT_CONTEXT, input.tosSigned ?? null, input.tosLatest ?? null],
        );
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`an instance already exists for ${domain}, or one of its aliases is already used`);
      throw e;
    }
    this.changed(id);
    const created = (await this.get(domain)) as Instance;
    if (passphraseHash !== null) return created;
    return { ...created, registerToken: await this.issuePassphraseToken(created, 'register', null) };
  }

  async get(domain: string): Promise<Instance | null> {
    const [row] = await this.query(`${SELECT} WHERE i.domain = $1`, [normalizeHost(domain)]);
    return row ? toInstance(row) : null;
  }

  async findByHost(host: string): Promise<Instance | null> {
    const h = normalizeHost(host);
    const now = Date.now();
    const cached = this.hostCache.get(h);
    if (cached && now - cached.at < this.cacheMs) return cached.value;
    // a destroyed instance's domain stays in instance_hosts until the end of the destroy, without an instance row
    const [row] = await this.query(`${SELECT} JOIN hearth.instance_hosts h ON h.instance_id = i.id WHERE h.host = $1`, [h]);
    const found = row ? toInstance(row) : null;
    if (this.hostCache.size >= 10_000) this.hostCache.clear(); // bounded: unknown hosts cannot fill memory
    this.hostCache.set(h, { value: found, at: now });
    if (row) this.secretCache.set(row.id, { value: toSecrets(row), at: now }); // the same row: no second query for the secrets
    return found;
  }

  async list(): Promise<Instance[]> {
    return this.page({ limit: -1 });
  }

  async page(opts: { after?: string; limit: number }): Promise<Instance[]> {
    const rows = await this.query(`${SELECT} WHERE i.domain > $1 ORDER BY i.domain LIMIT $2`, [opts.after ?? '', opts.limit < 0 ? null : opts.limit]);
    return rows.map(toInstance);
  }

  async count(): Promise<number> {
    const [r] = await this.query<{ n: number }>('SELECT count(*)::int AS n FROM hearth.instances');
    return r?.n ?? 0;
  }

  async modify(domain: string, patch: InstancePatch): Promise<Instance> {
    const current = await this.get(domain);
    if (!current) throw new NotFound(`no instance for ${domain}`);
    const aliases = patch.aliases !== undefined ? await this.checkAliases(patch.aliases, current.id) : null;
    if (aliases?.includes(current.domain)) throw new BadRequest('an alias cannot be the main domain');
    const kdf = patch.passphrase ? (patch.kdfIterations ?? this.kdfIterations) : null;
    const newHash = patch.passphrase && kdf ? await hash(await derivePassphrase(patch.passphrase, current.domain, kdf)) : null;
    try {
      await inTransaction(this.pool, async (db) => {
        // the row as it is now, locked: a concurrent change of another field is kept, not overwritten
        const [row] = await this.query(`${SELECT} WHERE i.id = $1 FOR UPDATE OF i`, [current.id], db);
        if (!row) throw new NotFound(`no instance for ${domain}`);
        const was = toInstance(row);
        const pick = <T>(v: T | undefined, old: T): T => (v === undefined ? old : v);
        const next = {
          locale: pick(patch.locale ?? undefined, was.locale), email: pick(patch.email, was.email), publicName: pick(patch.publicName, was.publicName),
          tz: pick(patch.tz, was.tz),
        };
        const docChanged = next.locale !== was.locale || next.email !== was.email || next.publicName !== was.publicName || next.tz !== was.tz;
        await db.query(
          `UPDATE hearth.instances SET locale = $1, email = $2, public_name = $3, tz = $4, disk_quota = $5, passphrase_hash = $6, kdf_iterations = $7,
             updated_at = $8, settings_rev = $9, register_token_hash = CASE WHEN $10 THEN NULL ELSE register_token_hash END WHERE id = $11`,
          [next.locale, next.email, next.publicName, next.tz, pick(patch.diskQuota, was.diskQuota), newHash ?? was.passphraseHash, kdf ?? was.kdfIterations,
            new Date().toISOString(), docChanged ? nextRev(row.settings_rev) : row.settings_rev, newHash !== null, current.id],
        );
        await db.query('UPDATE hearth.instances SET context_name = $1, tos_signed = $2, tos_latest = $3 WHERE id = $4',
          [pick(patch.contextName, row.context_name), pick(patch.tosSigned, row.tos_signed), pick(patch.tosLatest, row.tos_latest), current.id]);
        if (aliases) {
          await db.query('DELETE FROM hearth.instance_hosts WHERE instance_id = $1 AND NOT main', [current.id]);
          await this.insertHosts(db, current.id, aliases, false);
        }
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict('one of these aliases is already used by another instance');
      throw e;
    }
    this.changed(current.id);
    return (await this.get(current.domain)) as Instance;
  }

  async destroy(domain: string): Promise<void> {
    const current = await this.get(domain);
    if (!current) throw new NotFound(`no instance for ${domain}`);
    await inTransaction(this.pool, async (db) => {
      await db.query('DELETE FROM hearth.instances WHERE id = $1', [current.id]);
      await db.query('DELETE FROM hearth.instance_hosts WHERE instance_id = $1', [current.id]);
    });
    this.changed(current.id);
  }

  /** The first step of a destroy (see registry-sqlite.ts): the instance leaves the registry, its domain stays taken. */
  async beginDestroy(domain: string): Promise<Instance> {
    const current = await this.get(domain);
    if (!current) throw new NotFound(`no instance for ${domain}`);
    await inTransaction(this.pool, async (db) => {
      if ((await this.changes('DELETE FROM hearth.instances WHERE id = $1', [current.id], db)) === 0) throw new NotFound(`no instance for ${domain}`);
      await db.query('INSERT INTO hearth.instances_destroying (id, domain, instance, since) VALUES ($1, $2, $3, $4)',
        [current.id, current.domain, JSON.stringify(current), new Date().toISOString()]);
      await db.query('DELETE FROM hearth.instance_hosts WHERE instance_id = $1 AND NOT main', [current.id]);
    });
    this.changed(current.id);
    return current;
  }

  /** The instances whose destroy began and did not end. */
  async pendingDestroys(): Promise<Instance[]> {
    const rows = await this.query<{ instance: string }>('SELECT instance FROM hearth.instances_destroying ORDER BY since');
    return rows.map((r) => JSON.parse(r.instance) as Instance);
  }

  /** The last step of a destroy: its domain is free. */
  async endDestroy(id: string): Promise<void> {
    await this.schema.ready();
    await inTransaction(this.pool, async (db) => {
      await db.query('DELETE FROM hearth.instances_destroying WHERE id = $1', [id]);
      await db.query('DELETE FROM hearth.instance_hosts WHERE instance_id = $1', [id]);
    });
    this.changed(id);
  }

  async secrets(instance: Instance): Promise<InstanceSecrets> {
    const now = Date.now();
    const cached = this.secretCache.get(instance.id);
    if (cached && now - cached.at < this.cacheMs) return cached.value;
    const [row] = await this.query('SELECT secret_session, secret_cli, secret_oauth FROM hearth.instances WHERE id = $1', [instance.id]);
    if (!row) throw new NotFound(`no instance for ${instance.domain}`);
    const secrets = toSecrets(row);
    this.secretCache.set(instance.id, { value: secrets, at: now });
    return secrets;
  }

  async checkPassphrase(instance: Instance, derived: string): Promise<boolean> {
    const [row] = await this.query<{ h: string | null }>('SELECT passphrase_hash AS h FROM hearth.instances WHERE id = $1', [instance.id]);
    if (!row?.h) return false;
    return verify(row.h, derived).catch(() => false);
  }

  async setDerivedPassphrase(instance: Instance, derived: string, iterations: number): Promise<Instance> {
    const h = await hash(derived);
    const n = await this.changes('UPDATE hearth.instances SET passphrase_hash = $1, kdf_iterations = $2, register_token_hash = NULL, updated_at = $3 WHERE id = $4',
      [h, iterations, new Date().toISOString(), instance.id]);
    if (n === 0) throw new NotFound(`no instance for ${instance.domain}`);
    this.changed(instance.id);
    return (await this.get(instance.domain)) as Instance;
  }

  private async twoFactorIn(db: Queryable, instance: Instance, lock: boolean): Promise<TwoFactorState> {
    const [r] = await this.query(`SELECT auth_mode, totp_secret, totp_last_step, recovery_hashes, two_factor_mail_last_step FROM hearth.instances
      WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [instance.id], db);
    if (!r) throw new NotFound(`no instance for ${instance.domain}`);
    return {
      authMode: r.auth_mode as AuthMode, totpSecret: r.totp_secret, totpLastStep: num(r.totp_last_step),
      recoveryHashes: JSON.parse(r.recovery_hashes) as string[], mailLastStep: num(r.two_factor_mail_last_step),
    };
  }

  async twoFactor(instance: Instance): Promise<TwoFactorState> {
    return this.twoFactorIn(this.pool, instance, false);
  }

  async setTwoFactor(instance: Instance, patch: Partial<TwoFactorState>): Promise<TwoFactorState> {
    await this.schema.ready();
    return inTransaction(this.pool, async (db) => {
      const next = { ...(await this.twoFactorIn(db, instance, true)), ...patch };
      await db.query(`UPDATE hearth.instances SET auth_mode = $1, totp_secret = $2, totp_last_step = $3, recovery_hashes = $4, two_factor_mail_last_step = $5,
        updated_at = $6 WHERE id = $7`,
      [next.authMode, next.totpSecret, next.totpLastStep, JSON.stringify(next.recoveryHashes), next.mailLastStep, new Date().toISOString(), instance.id]);
      return next;
    });
  }

  async useStep(instance: Instance, kind: 'totp' | 'mail', step: number): Promise<boolean> {
    const col = kind === 'totp' ? 'totp_last_step' : 'two_factor_mail_last_step';
    return (await this.changes(`UPDATE hearth.instances SET ${col} = $1 WHERE id = $2 AND (${col} IS NULL OR ${col} < $1)`, [step, instance.id])) === 1;
  }

  async swapRecoveryHashes(instance: Instance, expected: readonly string[], next: readonly string[]): Promise<boolean> {
    return (await this.changes('UPDATE hearth.instances SET recovery_hashes = $1 WHERE id = $2 AND recovery_hashes = $3',
      [JSON.stringify(next), instance.id, JSON.stringify(expected)])) === 1;
  }

  async issuePassphraseToken(instance: Instance, kind: PassphraseTokenKind, expiresAt: number | null): Promise<string> {
    const token = randomBytes(16).toString('hex');
    const n = kind === 'register'
      ? await this.changes('UPDATE hearth.instances SET register_token_hash = $1 WHERE id = $2', [tokenHash(token), instance.id])
      : await this.changes('UPDATE hearth.instances SET reset_token_hash = $1, reset_token_expires_at = $2 WHERE id = $3', [tokenHash(token), expiresAt, instance.id]);
    if (n === 0) throw new NotFound(`no instance for ${instance.domain}`);
    return token;
  }

  async passphraseTokenState(instance: Instance, kind: PassphraseTokenKind, token: string, now: number): Promise<PassphraseTokenState> {
    const cols = kind === 'register' ? 'register_token_hash AS h, NULL AS exp' : 'reset_token_hash AS h, reset_token_expires_at AS exp';
    const [row] = await this.query<{ h: string | null; exp: string | null }>(`SELECT ${cols} FROM hearth.instances WHERE id = $1`, [instance.id]);
    if (!row?.h || !/^[0-9a-f]{32}$/.test(token) || row.h !== tokenHash(token)) return 'invalid';
    return row.exp !== null && Number(row.exp) <= now ? 'expired' : 'valid';
  }

  async consumePassphraseToken(instance: Instance, kind: PassphraseTokenKind, token: string, now: number): Promise<boolean> {
    if (!/^[0-9a-f]{32}$/.test(token)) return false;
    const n = kind === 'register'
      ? await this.changes('UPDATE hearth.instances SET register_token_hash = NULL WHERE id = $1 AND register_token_hash = $2', [instance.id, tokenHash(token)])
      : await this.changes(`UPDATE hearth.instances SET reset_token_hash = NULL, reset_token_expires_at = NULL
          WHERE id = $1 AND reset_token_hash = $2 AND (reset_token_expires_at IS NULL OR reset_token_expires_at > $3)`, [instance.id, tokenHash(token), now]);
    return n === 1;
  }

  private async settingsIn(db: Queryable, instance: Instance): Promise<{ instance: Instance; settings: InstanceSettings }> {
    const [row] = await this.query(`${SELECT} WHERE i.id = $1`, [instance.id], db);
    if (!row) throw new NotFound(`no instance for ${instance.domain}`);
    return { instance: toInstance(row), settings: { rev: row.settings_rev, defaultRedirection: row.default_redirection, theme: row.theme } };
  }

  async settings(instance: Instance): Promise<{ instance: Instance; settings: InstanceSettings }> {
    return this.settingsIn(this.pool, instance);
  }

  async updateSettings(instance: Instance, rev: string, patch: InstanceSettingsPatch): Promise<{ instance: Instance; settings: InstanceSettings }> {
    const sets: string[] = [];
    const args: unknown[] = [];
    const col = (name: string, v: unknown) => {
      if (v === undefined) return;
      args.push(v);
      sets.push(`${name} = $${args.length}`);
    };
    col('locale', patch.locale);
    col('email', patch.email);
    col('public_name', patch.publicName);
    col('tz', patch.tz);
    col('default_redirection', patch.defaultRedirection);
    col('tracking', patch.tracking);
    col('settings_rev', nextRev(rev));
    col('updated_at', new Date().toISOString());
    await this.schema.ready();
    const after = await inTransaction(this.pool, async (db) => {
      const n = await this.changes(`UPDATE hearth.instances SET ${sets.join(', ')} WHERE id = $${args.length + 1} AND settings_rev = $${args.length + 2}`,
        [...args, instance.id, rev], db);
      if (n === 0) throw settingsConflict();
      return this.settingsIn(db, instance); // read in the same transaction as the update
    });
    this.changed(instance.id);
    return after;
  }

  async setTheme(instance: Instance, theme: string | null): Promise<void> {
    await this.changes('UPDATE hearth.instances SET theme = $1, updated_at = $2 WHERE id = $3', [theme, new Date().toISOString(), instance.id]);
  }

  async ping(): Promise<number> {
    const start = performance.now();
    await this.pool.query('SELECT 1');
    return performance.now() - start;
  }

  /** The pool belongs to the composition root, which ends it. */
  async close(): Promise<void> {
    this.unlisten();
  }
}
