/**
 * The global instance registry on embedded SQLite: one row per instance, its
 * aliases and its secrets. Each instance's documents live in their own database
 * (see data/sqlite), never here.
 */
import Database from 'better-sqlite3';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { DEFAULT_KDF_ITERATIONS, derivePassphrase } from '../auth/passphrase.js';
import { BadRequest, Conflict, NotFound } from '../common/errors.js';
import { INSTANCES_TOPIC, type Invalidation } from '../common/invalidation.js';
import { normalizeHost, validateDomain } from './domain.js';
import { DEFAULT_CONTEXT } from './context.js';
import { CONTEXT_COLUMNS, SETTINGS_COLUMNS, SettingsTable } from './registry-settings.js';
import { EMAIL_CHANGE_COLUMNS, SqliteEmailChanges } from './email-change.js';
import { checkpointOffThread, closeDurableWal, durableWal, type Checkpointer } from '../data/sqlite/wal-sync.js';
import type { WalSync } from '../data/sqlite/wal-sync.js';
import type {
  AuthMode, Instance, InstancePatch, InstanceRegistry, InstanceSecrets, InstanceSettings, InstanceSettingsPatch, InstanceSettingsStore,
  NewInstance, PassphraseTokenKind, PassphraseTokenState, PassphraseTokenStore, TwoFactorState, TwoFactorStore,
} from './types.js';

const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

interface Row {
  id: string;
  domain: string;
  locale: string;
  email: string | null;
  public_name: string | null;
  tz: string | null;
  disk_quota: number | null;
  passphrase_hash: string | null;
  kdf_iterations: number;
  created_at: string;
  updated_at: string;
  context_name: string;
  tos_signed: string | null;
  tos_latest: string | null;
  tracking: number;
}

export class SqliteInstanceRegistry implements InstanceRegistry, TwoFactorStore, PassphraseTokenStore, InstanceSettingsStore {
  private readonly db: Database.Database;
  private readonly secretCache = new Map<string, InstanceSecrets>();
  /** Host → instance, for the per-request lookup; cleared on every change (one process owns the file). */
  private readonly hostCache = new Map<string, Instance | null>();

  private readonly kdfIterations: number;
  /** Other processes' caches of instances (coordination.engine redis) drop an instance this one changed. */
  private readonly invalidation: Invalidation | null;
  private readonly settingsTable: SettingsTable;
  /** A pending change of the owner's e-mail address (email-change.ts). */
  readonly emailChanges: SqliteEmailChanges;
  /** Every write is acknowledged once its WAL is fsynced, in the thread pool, never on the event loop (wal-sync.ts). */
  private readonly wal: WalSync;

  /**
   * `kdfIterations`: for new passphrases (tests use fewer than the production default); `checkpoints`: the thread that
   * checkpoints the WAL, instead of SQLite's automatic checkpoint on the event loop (wal-sync.ts).
   */
  constructor(file: string, opts: { kdfIterations?: number; checkpoints?: Checkpointer; invalidation?: Invalidation } = {}) {
    this.kdfIterations = opts.kdfIterations ?? DEFAULT_KDF_ITERATIONS;
    this.invalidation = opts.invalidation ?? null;
    this.invalidation?.listen(INSTANCES_TOPIC, (id) => {
      this.hostCache.clear();
      this.secretCache.delete(id);
    });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.wal = durableWal(this.db);
    if (opts.checkpoints) checkpointOffThread(this.db, opts.checkpoints);
    this.db.pragma('foreign_keys = ON');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS instances (
        id TEXT PRIMARY KEY, domain TEXT NOT NULL UNIQUE, locale TEXT NOT NULL, email TEXT, public_name TEXT,
        tz TEXT, disk_quota INTEGER, passphrase_hash TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        secret_session BLOB NOT NULL, secret_cli BLOB NOT NULL, secret_oauth BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS aliases (
        alias TEXT PRIMARY KEY, instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE);
      CREATE TABLE IF NOT EXISTS destroying (id TEXT PRIMARY KEY, domain TEXT NOT NULL UNIQUE, instance TEXT NOT NULL, since TEXT NOT NULL);`);
    // Migration: registries created before client-side derivation have no kdf_iterations. Their
    // hashes are of clear passphrases, which no login can match: the owner sets it again (modify --passphrase).
    const cols = this.db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('instances') as string[];
    if (!cols.includes('kdf_iterations')) {
      this.db.exec(`ALTER TABLE instances ADD COLUMN kdf_iterations INTEGER NOT NULL DEFAULT ${DEFAULT_KDF_ITERATIONS}`);
    }
    // Migration: two-factor authentication (every existing instance starts in `basic`).
    const twoFactorColumns: Array<[string, string]> = [
      ['auth_mode', "TEXT NOT NULL DEFAULT 'basic'"], ['totp_secret', 'TEXT'], ['totp_last_step', 'INTEGER'],
      ['recovery_hashes', "TEXT NOT NULL DEFAULT '[]'"], ['two_factor_mail_last_step', 'INTEGER'],
      // Migration: one-time passphrase tokens (sha256 hex), onboarding and reset by mail.
      ['register_token_hash', 'TEXT'], ['reset_token_hash', 'TEXT'], ['reset_token_expires_at', 'INTEGER'],
    ];
    // Migration: the settings document's revision, default redirection and theme (settings/); existing rows get the first revision.
    // Migration: the context, the terms of service and the tracking consent (instances/context.ts).
    // Migration: the pending change of e-mail address (email-change.ts).
    for (const [name, type] of [...twoFactorColumns, ...SETTINGS_COLUMNS, ...CONTEXT_COLUMNS, ...EMAIL_CHANGE_COLUMNS]) {
      if (!cols.includes(name)) this.db.exec(`ALTER TABLE instances ADD COLUMN ${name} ${type}`);
    }
    this.settingsTable = new SettingsTable(this.db);
    this.emailChanges = new SqliteEmailChanges(this.db, async (id) => {
      this.changed(id);
      await this.wal.sync();
    });
  }

  /** argon2id of the derived passphrase, for a clear one given to create/modify. */
  private async hashClear(passphrase: string, domain: string, iterations: number): Promise<string> {
    return hash(await derivePassphrase(passphrase, domain, iterations));
  }

  private toInstance(row: Row, known?: string[]): Instance {
    const aliases = known ?? (this.db
      .prepare('SELECT alias FROM aliases WHERE instance_id = ? ORDER BY alias')
      .pluck()
      .all(row.id) as string[]);
    return {
      id: row.id,
      domain: row.domain,
      aliases,
      locale: row.locale,
      email: row.email,
      publicName: row.public_name,
      tz: row.tz,
      diskQuota: row.disk_quota,
      passphraseHash: row.passphrase_hash,
      onboarded: row.passphrase_hash !== null,
      kdfIterations: row.kdf_iterations,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      contextName: row.context_name,
      tosSigned: row.tos_signed,
      tosLatest: row.tos_latest,
      tracking: row.tracking === 1,
    };
  }

  private hostTaken(host: string, exceptId: string | null): boolean {
    const inst = this.db.prepare('SELECT id FROM instances WHERE domain = ?').pluck().get(host) as string | undefined;
    const alias = this.db.prepare('SELECT instance_id FROM aliases WHERE alias = ?').pluck().get(host) as string | undefined;
    // the domain of an instance being destroyed is not free until everything of it is gone
    const going = this.db.prepare('SELECT id FROM destroying WHERE domain = ?').pluck().get(host) as string | undefined;
    const owner = inst ?? alias ?? going;
    return owner !== undefined && owner !== exceptId;
  }

  private checkAliases(aliases: string[], exceptId: string | null): string[] {
    const clean = [...new Set(aliases.map((a) => validateDomain(a)))];
    for (const alias of clean) {
      if (this.hostTaken(alias, exceptId)) throw new Conflict(`the domain ${alias} is already used by another instance`);
    }
    return clean;
  }

  async create(input: NewInstance): Promise<Instance> {
    const domain = validateDomain(input.domain);
    if (this.hostTaken(domain, null)) throw new Conflict(`an instance already exists for ${domain}`);
    const aliases = this.checkAliases(input.aliases ?? [], null);
    if (aliases.includes(domain)) throw new BadRequest('an alias cannot be the main domain');
    const kdf = input.kdfIterations ?? this.kdfIterations;
    const passphraseHash = input.passphrase ? await this.hashClear(input.passphrase, domain, kdf) : null;
    const now = new Date().toISOString();
    const id = randomUUID().replace(/-/g, '');
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO instances (id, domain, locale, email, public_name, tz, disk_quota, passphrase_hash, kdf_iterations, created_at, updated_at,
             secret_session, secret_cli, secret_oauth, context_name, tos_signed, tos_latest) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
        )
        .run(id, domain, input.locale ?? 'en', input.email ?? null, input.publicName ?? null, input.tz ?? null,
          input.diskQuota ?? null, passphraseHash, kdf, now, now, randomBytes(64), randomBytes(64), randomBytes(64),
          input.contextName ?? DEFAULT_CONTEXT, input.tosSigned ?? null, input.tosLatest ?? null);
      const addAlias = this.db.prepare('INSERT INTO aliases (alias, instance_id) VALUES (?, ?)');
      for (const alias of aliases) addAlias.run(alias, id);
    })();
    this.changed(id);
    await this.wal.sync();
    const created = (await this.get(domain)) as Instance;
    if (passphraseHash !== null) return created;
    return { ...created, registerToken: await this.issuePassphraseToken(created, 'register', null) };
  }

  /** Drops the cached copies of instance `id`, here and (through the invalidation) in every process. */
  private changed(id: string): void {
    this.hostCache.clear();
    this.invalidation?.invalidate(INSTANCES_TOPIC, id);
  }

  async get(domain: string): Promise<Instance | null> {
    const row = this.db.prepare('SELECT * FROM instances WHERE domain = ?').get(normalizeHost(domain)) as Row | undefined;
    return row ? this.toInstance(row) : null;
  }

  async findByHost(host: string): Promise<Instance | null> {
    const h = normalizeHost(host);
    const cached = this.hostCache.get(h);
    if (cached !== undefined) return cached;
    const row = this.db
      .prepare('SELECT * FROM instances WHERE domain = ? OR id = (SELECT instance_id FROM aliases WHERE alias = ?)')
      .get(h, h) as Row | undefined;
    const found = row ? this.toInstance(row) : null;
    if (this.hostCache.size >= 10_000) this.hostCache.clear(); // bounded: unknown hosts cannot fill memory
    this.hostCache.set(h, found);
    return found;
  }

  async list(): Promise<Instance[]> {
    return this.page({ limit: -1 }); // SQLite: no limit
  }

  async page(opts: { after?: string; limit: number }): Promise<Instance[]> {
    const rows = this.db.prepare('SELECT * FROM instances WHERE domain > ? ORDER BY domain LIMIT ?').all(opts.after ?? '', opts.limit) as Row[];
    if (rows.length === 0) return [];
    // the page's aliases in one query, not one per row
    const aliases = new Map<string, string[]>();
    const found = this.db
      .prepare(`SELECT instance_id, alias FROM aliases WHERE instance_id IN (${rows.map(() => '?').join(',')}) ORDER BY alias`)
      .all(...rows.map((r) => r.id)) as Array<{ instance_id: string; alias: string }>;
    for (const { instance_id: id, alias } of found) aliases.set(id, [...(aliases.get(id) ?? []), alias]);
    return rows.map((r) => this.toInstance(r, aliases.get(r.id) ?? []));
  }

  async count(): Promise<number> {
    return this.db.prepare('SELECT count(*) FROM instances').pluck().get() as number;
  }

  async modify(domain: string, patch: InstancePatch): Promise<Instance> {
    const current = await this.get(domain);
    if (!current) throw new NotFound(`no instance for ${domain}`);
    const aliases = patch.aliases !== undefined ? this.checkAliases(patch.aliases, current.id) : null;
    if (aliases?.includes(current.domain)) throw new BadRequest('an alias cannot be the main domain');
    const kdf = patch.passphrase ? (patch.kdfIterations ?? this.kdfIterations) : current.kdfIterations;
    const passphraseHash = patch.passphrase ? await this.hashClear(patch.passphrase, current.domain, kdf) : current.passphraseHash;
    const pick = <T>(v: T | undefined, old: T): T => (v === undefined ? old : v);
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE instances SET locale = ?, email = ?, public_name = ?, tz = ?, disk_quota = ?, passphrase_hash = ?, kdf_iterations = ?,
           updated_at = ? WHERE id = ?`,
        )
        .run(pick(patch.locale ?? undefined, current.locale), pick(patch.email, current.email),
          pick(patch.publicName, current.publicName), pick(patch.tz, current.tz), pick(patch.diskQuota, current.diskQuota),
          passphraseHash, kdf, new Date().toISOString(), current.id);
      if (patch.passphrase) this.db.prepare('UPDATE instances SET register_token_hash = NULL WHERE id = ?').run(current.id);
      this.db.prepare('UPDATE instances SET context_name = ?, tos_signed = ?, tos_latest = ? WHERE id = ?')
        .run(pick(patch.contextName, current.contextName), pick(patch.tosSigned, current.tosSigned ?? null), pick(patch.tosLatest, current.tosLatest ?? null), current.id);
      const docFields = [[patch.locale ?? undefined, current.locale], [patch.email, current.email], [patch.publicName, current.publicName], [patch.tz, current.tz]];
      if (docFields.some(([v, old]) => v !== undefined && v !== old)) this.settingsTable.bump(current.id);
      if (aliases) {
        this.db.prepare('DELETE FROM aliases WHERE instance_id = ?').run(current.id);
        const addAlias = this.db.prepare('INSERT INTO aliases (alias, instance_id) VALUES (?, ?)');
        for (const alias of aliases) addAlias.run(alias, current.id);
      }
    })();
    this.changed(current.id);
    await this.wal.sync();
    return (await this.get(current.domain)) as Instance;
  }

  async destroy(domain: string): Promise<void> {
    const current = await this.get(domain);
    if (!current) throw new NotFound(`no instance for ${domain}`);
    this.db.prepare('DELETE FROM instances WHERE id = ?').run(current.id);
    this.secretCache.delete(current.id);
    this.changed(current.id);
    await this.wal.sync();
  }

  /**
   * The first step of a destroy, durable once it returns: the instance leaves the registry (no request, job or
   * listing finds it) into the `destroying` table, which keeps its domain taken until `endDestroy`. What is left
   * to remove is removed then, or at the next start (`pendingDestroys`) if the process dies in between.
   */
  async beginDestroy(domain: string): Promise<Instance> {
    const current = await this.get(domain);
    if (!current) throw new NotFound(`no instance for ${domain}`);
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO destroying (id, domain, instance, since) VALUES (?, ?, ?, ?)').run(current.id, current.domain, JSON.stringify(current), new Date().toISOString());
      this.db.prepare('DELETE FROM instances WHERE id = ?').run(current.id);
    })();
    this.secretCache.delete(current.id);
    this.changed(current.id);
    await this.wal.sync();
    return current;
  }

  /** The instances whose destroy began and did not end (the process died in between). */
  async pendingDestroys(): Promise<Instance[]> {
    return (this.db.prepare('SELECT instance FROM destroying ORDER BY since').pluck().all() as string[]).map((s) => JSON.parse(s) as Instance);
  }

  /** The last step of a destroy: everything of the instance is gone, its domain is free. */
  async endDestroy(id: string): Promise<void> {
    this.db.prepare('DELETE FROM destroying WHERE id = ?').run(id);
    this.changed(id);
    await this.wal.sync();
  }

  async secrets(instance: Instance): Promise<InstanceSecrets> {
    const cached = this.secretCache.get(instance.id);
    if (cached) return cached;
    const row = this.db
      .prepare('SELECT secret_session, secret_cli, secret_oauth FROM instances WHERE id = ?')
      .get(instance.id) as { secret_session: Buffer; secret_cli: Buffer; secret_oauth: Buffer } | undefined;
    if (!row) throw new NotFound(`no instance for ${instance.domain}`);
    const secrets = { session: row.secret_session, cli: row.secret_cli, oauth: row.secret_oauth };
    this.secretCache.set(instance.id, secrets);
    return secrets;
  }

  async checkPassphrase(instance: Instance, derived: string): Promise<boolean> {
    const stored = this.db.prepare('SELECT passphrase_hash FROM instances WHERE id = ?').pluck().get(instance.id) as string | null | undefined;
    if (!stored) return false;
    return verify(stored, derived).catch(() => false);
  }

  async setDerivedPassphrase(instance: Instance, derived: string, iterations: number): Promise<Instance> {
    const h = await hash(derived);
    const r = this.db
      .prepare('UPDATE instances SET passphrase_hash = ?, kdf_iterations = ?, register_token_hash = NULL, updated_at = ? WHERE id = ?')
      .run(h, iterations, new Date().toISOString(), instance.id);
    if (r.changes === 0) throw new NotFound(`no instance for ${instance.domain}`);
    this.changed(instance.id);
    await this.wal.sync();
    return (await this.get(instance.domain)) as Instance;
  }

  async twoFactor(instance: Instance): Promise<TwoFactorState> {
    const r = this.db
      .prepare('SELECT auth_mode, totp_secret, totp_last_step, recovery_hashes, two_factor_mail_last_step FROM instances WHERE id = ?')
      .get(instance.id) as { auth_mode: string; totp_secret: string | null; totp_last_step: number | null; recovery_hashes: string; two_factor_mail_last_step: number | null } | undefined;
    if (!r) throw new NotFound(`no instance for ${instance.domain}`);
    return {
      authMode: r.auth_mode as AuthMode, totpSecret: r.totp_secret, totpLastStep: r.totp_last_step,
      recoveryHashes: JSON.parse(r.recovery_hashes) as string[], mailLastStep: r.two_factor_mail_last_step,
    };
  }

  async setTwoFactor(instance: Instance, patch: Partial<TwoFactorState>): Promise<TwoFactorState> {
    const next = { ...(await this.twoFactor(instance)), ...patch };
    this.db
      .prepare(`UPDATE instances SET auth_mode = ?, totp_secret = ?, totp_last_step = ?, recovery_hashes = ?, two_factor_mail_last_step = ?,
        updated_at = ? WHERE id = ?`)
      .run(next.authMode, next.totpSecret, next.totpLastStep, JSON.stringify(next.recoveryHashes), next.mailLastStep, new Date().toISOString(), instance.id);
    await this.wal.sync();
    return next;
  }

  async useStep(instance: Instance, kind: 'totp' | 'mail', step: number): Promise<boolean> {
    const col = kind === 'totp' ? 'totp_last_step' : 'two_factor_mail_last_step';
    const r = this.db.prepare(`UPDATE instances SET ${col} = ? WHERE id = ? AND (${col} IS NULL OR ${col} < ?)`).run(step, instance.id, step);
    await this.wal.sync();
    return r.changes === 1;
  }

  async swapRecoveryHashes(instance: Instance, expected: readonly string[], next: readonly string[]): Promise<boolean> {
    const r = this.db
      .prepare('UPDATE instances SET recovery_hashes = ? WHERE id = ? AND recovery_hashes = ?')
      .run(JSON.stringify(next), instance.id, JSON.stringify(expected));
    await this.wal.sync();
    return r.changes === 1;
  }

  async issuePassphraseToken(instance: Instance, kind: PassphraseTokenKind, expiresAt: number | null): Promise<string> {
    const token = randomBytes(16).toString('hex');
    const r = kind === 'register'
      ? this.db.prepare('UPDATE instances SET register_token_hash = ? WHERE id = ?').run(tokenHash(token), instance.id)
      : this.db.prepare('UPDATE instances SET reset_token_hash = ?, reset_token_expires_at = ? WHERE id = ?').run(tokenHash(token), expiresAt, instance.id);
    if (r.changes === 0) throw new NotFound(`no instance for ${instance.domain}`);
    await this.wal.sync();
    return token;
  }

  async passphraseTokenState(instance: Instance, kind: PassphraseTokenKind, token: string, now: number): Promise<PassphraseTokenState> {
    const row = this.db
      .prepare(`SELECT ${kind === 'register' ? 'register_token_hash AS h, NULL AS exp' : 'reset_token_hash AS h, reset_token_expires_at AS exp'} FROM instances WHERE id = ?`)
      .get(instance.id) as { h: string | null; exp: number | null } | undefined;
    if (!row?.h || !/^[0-9a-f]{32}$/.test(token) || row.h !== tokenHash(token)) return 'invalid';
    return row.exp !== null && row.exp <= now ? 'expired' : 'valid';
  }

  async consumePassphraseToken(instance: Instance, kind: PassphraseTokenKind, token: string, now: number): Promise<boolean> {
    if (!/^[0-9a-f]{32}$/.test(token)) return false;
    const r = kind === 'register'
      ? this.db.prepare('UPDATE instances SET register_token_hash = NULL WHERE id = ? AND register_token_hash = ?').run(instance.id, tokenHash(token))
      : this.db
        .prepare('UPDATE instances SET reset_token_hash = NULL, reset_token_expires_at = NULL WHERE id = ? AND reset_token_hash = ? AND (reset_token_expires_at IS NULL OR reset_token_expires_at > ?)')
        .run(instance.id, tokenHash(token), now);
    await this.wal.sync();
    return r.changes === 1;
  }

  /** The row and its settings read in one synchronous step: no other write can come between them, nor after an update. */
  private settingsNow(instance: Instance): { instance: Instance; settings: InstanceSettings } {
    const row = this.db.prepare('SELECT * FROM instances WHERE id = ?').get(instance.id) as Row | undefined;
    const settings = row ? this.settingsTable.read(row.id) : null;
    if (!row || !settings) throw new NotFound(`no instance for ${instance.domain}`);
    return { instance: this.toInstance(row), settings };
  }

  async settings(instance: Instance): Promise<{ instance: Instance; settings: InstanceSettings }> {
    return this.settingsNow(instance);
  }

  async updateSettings(instance: Instance, rev: string, patch: InstanceSettingsPatch): Promise<{ instance: Instance; settings: InstanceSettings }> {
    this.settingsTable.update(instance.id, rev, patch);
    this.changed(instance.id);
    const after = this.settingsNow(instance); // read in the same step as the update (no other write between them)
    await this.wal.sync();
    return after;
  }

  async setTheme(instance: Instance, theme: string | null): Promise<void> {
    this.settingsTable.setTheme(instance.id, theme);
    await this.wal.sync();
  }

  async ping(): Promise<number> {
    const start = performance.now();
    this.db.prepare('SELECT 1').get();
    return performance.now() - start;
  }

  async close(): Promise<void> {
    await closeDurableWal(this.db);
  }
}
