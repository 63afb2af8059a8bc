/** The SQLite session store: the conformance suite of every engine, and its file from before the session kinds. */
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Instance } from '../instances/types.js';
import { describeSessionStore } from '../../test/helpers/session-suite.js';
import { SqliteSessionStore } from './sessions.js';

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

describeSessionStore('SQLite', {
  make: async (now) => new SqliteSessionStore(file(), { now }),
  settle: async () => undefined,
  done: (store) => store.close(),
});

describe('the SQLite session file', () => {
  it('adds the kind to a file from before the kinds: the CLI sessions become app-token ones', async () => {
    const path = file();
    const old = new Database(path);
    old.exec(`CREATE TABLE sessions (id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL,
      expires_at INTEGER NOT NULL, user_agent TEXT, ip TEXT)`);
    const later = Date.now() + 3600_000;
    old.prepare('INSERT INTO sessions VALUES (?,?,?,?,?,?,?)').run('a'.repeat(32), 'inst1', 1, 1, later, 'Firefox', '10.0.0.1');
    old.prepare('INSERT INTO sessions VALUES (?,?,?,?,?,?,?)').run('b'.repeat(32), 'inst1', 2, 2, later, 'hearth-cli', null);
    old.close();
    const store = new SqliteSessionStore(path);
    expect((await store.list(instance)).map((s) => [s.userAgent, s.kind])).toEqual([['Firefox', 'web'], ['hearth-cli', 'app-token']]);
    await store.close();
    // opening it again changes nothing
    const again = new SqliteSessionStore(path);
    expect(await again.list(instance, 'app-token')).toHaveLength(1);
    await again.close();
  });

  it('adds the detail to the security events of a file from before the e-mail events: old events have none', async () => {
    const path = file();
    const old = new Database(path);
    old.exec(`CREATE TABLE security_events (id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, at INTEGER NOT NULL,
      kind TEXT NOT NULL, ip TEXT, user_agent TEXT)`);
    old.prepare('INSERT INTO security_events (instance_id, at, kind, ip, user_agent) VALUES (?,?,?,?,?)').run('inst1', Date.now(), 'login', '10.0.0.1', 'Firefox');
    old.close();
    const store = new SqliteSessionStore(path);
    await store.events.record(instance, 'email_changed', {}, { from: null, to: 'b***@example.org' });
    expect((await store.events.list(instance, 10)).events.map((e) => [e.kind, e.detail])).toEqual([['email_changed', { from: null, to: 'b***@example.org' }], ['login', null]]);
    await store.close();
    const again = new SqliteSessionStore(path); // opening it again changes nothing
    expect((await again.events.list(instance, 10)).total).toBe(2);
    await again.close();
  });
});
