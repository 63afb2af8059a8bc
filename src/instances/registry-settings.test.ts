/** The settings columns of the SQLite registry: the migration of an older file (the compare-and-swap and the CLI's bumps: test/helpers/registry-suite.ts). */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIRST_SETTINGS_REV } from './registry-settings.js';
import { SqliteInstanceRegistry } from './registry-sqlite.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function file(): string {
  const d = mkdtempSync(join(tmpdir(), 'hearth-reg-settings-'));
  dirs.push(d);
  return join(d, 'registry.sqlite');
}

describe('settings in the registry', () => {
  it('migrates a registry without the settings columns: existing rows keep their fields and get the first revision', async () => {
    const f = file();
    let reg = new SqliteInstanceRegistry(f, { kdfIterations: 1000 });
    await reg.create({ domain: 'old.example.org', locale: 'fr', publicName: 'Old', tz: 'Europe/Paris' });
    await reg.close();
    const db = new Database(f);
    for (const col of ['settings_rev', 'default_redirection', 'theme']) db.exec(`ALTER TABLE instances DROP COLUMN ${col}`);
    db.close();

    reg = new SqliteInstanceRegistry(f, { kdfIterations: 1000 });
    const inst = (await reg.get('old.example.org'))!;
    const { instance, settings } = await reg.settings(inst);
    expect(instance).toMatchObject({ locale: 'fr', publicName: 'Old', tz: 'Europe/Paris' });
    expect(settings).toEqual({ rev: FIRST_SETTINGS_REV, defaultRedirection: null, theme: null });
    const next = await reg.updateSettings(inst, FIRST_SETTINGS_REV, { defaultRedirection: 'drive/' });
    expect(next.settings.rev).toMatch(/^2-[0-9a-f]{32}$/);
    expect(next.instance.locale).toBe('fr');
    await reg.close();
  });
});
