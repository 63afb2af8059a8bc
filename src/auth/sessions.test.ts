/** The session store's kinds: browser sessions and the sessions of command-line app tokens, also in files from before the kinds. */
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Instance } from '../instances/types.js';
import { SessionStore } from './sessions.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const file = () => {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-sessions-'));
  dirs.push(dir);
  return join(dir, 'sessions.sqlite');
};
const instance = { id: 'inst1' } as Instance;

describe('session kinds', () => {
  it('stores the kind, web by default, and lists one kind apart', () => {
    const store = new SessionStore(file());
    const web = store.create(instance, { userAgent: 'Firefox' });
    const app = store.create(instance, { userAgent: 'hearth-cli', kind: 'app-token' });
    expect(store.get(web.id)?.kind).toBe('web');
    expect(store.get(app.id)?.kind).toBe('app-token');
    expect(store.list(instance).map((s) => s.id)).toEqual([web.id, app.id]);
    expect(store.list(instance, 'web').map((s) => s.id)).toEqual([web.id]);
    expect(store.list(instance, 'app-token').map((s) => s.id)).toEqual([app.id]);
    store.close();
  });

  it('adds the kind to a file from before the kinds: the CLI sessions become app-token ones', () => {
    const path = file();
    const old = new Database(path);
    old.exec(`CREATE TABLE sessions (id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL,
      expires_at INTEGER NOT NULL, user_agent TEXT, ip TEXT)`);
    const later = Date.now() + 3600_000;
    old.prepare('INSERT INTO sessions VALUES (?,?,?,?,?,?,?)').run('a'.repeat(32), 'inst1', 1, 1, later, 'Firefox', '10.0.0.1');
    old.prepare('INSERT INTO sessions VALUES (?,?,?,?,?,?,?)').run('b'.repeat(32), 'inst1', 2, 2, later, 'hearth-cli', null);
    old.close();
    const store = new SessionStore(path);
    expect(store.list(instance).map((s) => [s.userAgent, s.kind])).toEqual([['Firefox', 'web'], ['hearth-cli', 'app-token']]);
    store.close();
    // opening it again changes nothing
    const again = new SessionStore(path);
    expect(again.list(instance, 'app-token')).toHaveLength(1);
    again.close();
  });
});
