/**
 * The settings document's part of the registry (registry-sqlite.ts holds the connection): columns of
 * the instance's row, so that the locale, email, public name and tz (Instance fields) and the default
 * redirection change together with the document's revision, in one UPDATE guarded by the revision
 * the client read (compare-and-swap: two writers from the same revision cannot both win).
 */
import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { Conflict } from '../common/errors.js';
import type { InstanceSettings, InstanceSettingsPatch } from './types.js';

/** The revision every existing row starts with (a constant default keeps the migration one ALTER). */
export const FIRST_SETTINGS_REV = `1-${'0'.repeat(32)}`;

export const SETTINGS_COLUMNS: Array<[string, string]> = [
  ['settings_rev', `TEXT NOT NULL DEFAULT '${FIRST_SETTINGS_REV}'`], ['default_redirection', 'TEXT'], ['theme', 'TEXT'],
];

/** The context, the terms of service (instances/context.ts) and the settings document's `tracking` (0 or 1). */
export const CONTEXT_COLUMNS: Array<[string, string]> = [
  ['context_name', "TEXT NOT NULL DEFAULT 'default'"], ['tos_signed', 'TEXT'], ['tos_latest', 'TEXT'], ['tracking', 'INTEGER NOT NULL DEFAULT 0'],
];

export function nextRev(rev: string): string {
  const n = Number.parseInt(rev, 10);
  return `${Number.isFinite(n) && n > 0 ? n + 1 : 2}-${randomBytes(16).toString('hex')}`;
}

/** A compare-and-swap of the settings lost: the revision the client read is no longer the current one. */
export const settingsConflict = (): Conflict =>
  new Conflict('the settings changed since this revision was read: GET /settings/instance again, then apply the change to the new meta.rev');

interface SettingsRow { settings_rev: string; default_redirection: string | null; theme: string | null }

export class SettingsTable {
  constructor(private readonly db: Database.Database) {}

  read(id: string): InstanceSettings | null {
    const r = this.db.prepare('SELECT settings_rev, default_redirection, theme FROM instances WHERE id = ?').get(id) as SettingsRow | undefined;
    return r ? { rev: r.settings_rev, defaultRedirection: r.default_redirection, theme: r.theme } : null;
  }

  /** A new revision (the CLI or the admin API changed a field of the document). */
  bump(id: string): void {
    const cur = this.read(id);
    if (cur) this.db.prepare('UPDATE instances SET settings_rev = ? WHERE id = ?').run(nextRev(cur.rev), id);
  }

  /** The compare-and-swap; `patch` fields left undefined keep their value. */
  update(id: string, rev: string, patch: InstanceSettingsPatch): void {
    const sets: string[] = [];
    const args: unknown[] = [];
    const col = (name: string, v: unknown) => {
      if (v === undefined) return;
      sets.push(`${name} = ?`);
      args.push(v);
    };
    col('locale', patch.locale);
    col('email', patch.email);
    col('public_name', patch.publicName);
    col('tz', patch.tz);
    col('default_redirection', patch.defaultRedirection);
    col('tracking', patch.tracking === undefined ? undefined : Number(patch.tracking));
    const r = this.db
      .prepare(`UPDATE instances SET ${[...sets, 'settings_rev = ?', 'updated_at = ?'].join(', ')} WHERE id = ? AND settings_rev = ?`)
      .run(...args, nextRev(rev), new Date().toISOString(), id, rev);
    if (r.changes === 0) throw settingsConflict();
  }

  setTheme(id: string, theme: string | null): void {
    this.db.prepare('UPDATE instances SET theme = ?, updated_at = ? WHERE id = ?').run(theme, new Date().toISOString(), id);
  }
}
