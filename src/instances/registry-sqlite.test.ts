import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRegistry } from '../../test/helpers/registry-suite.js';
import { SqliteInstanceRegistry } from './registry-sqlite.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-reg-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeRegistry('SQLite', async () => new SqliteInstanceRegistry(join(dir, `registry-${Math.random().toString(36).slice(2)}.sqlite`), { kdfIterations: 1000 }), (r) => r.close());

describe('passphrase storage', () => {
  it('migrates old registries: a row from before client-side derivation gets the production iterations', async () => {
    const Database = (await import('better-sqlite3')).default;
    const old = new Database(join(dir, 'old.sqlite'));
    old.exec(`CREATE TABLE instances (id TEXT PRIMARY KEY, domain TEXT NOT NULL UNIQUE, locale TEXT NOT NULL, email TEXT, public_name TEXT,
      tz TEXT, disk_quota INTEGER, passphrase_hash TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
      secret_session BLOB NOT NULL, secret_cli BLOB NOT NULL, secret_oauth BLOB NOT NULL);
      INSERT INTO instances VALUES ('i1','old.example.org','en',NULL,NULL,NULL,NULL,NULL,'t','t',x'00',x'00',x'00');`);
    old.close();
    const migrated = new SqliteInstanceRegistry(join(dir, 'old.sqlite'));
    expect((await migrated.get('old.example.org'))?.kdfIterations).toBe(650_000);
    await migrated.close();
  });
});

describe('registry commits', () => {
  it('are acknowledged only after their WAL is fsynced off the event loop (synchronous = NORMAL: no fsync inside COMMIT)', async () => {
    const own = new SqliteInstanceRegistry(join(dir, 'durable.sqlite'), { kdfIterations: 1000 });
    const priv = own as unknown as { db: { pragma(p: string, o: { simple: true }): unknown }; wal: { syncs: number; fd: number | null } };
    expect(priv.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    const before = priv.wal.syncs;
    await own.create({ domain: 'durable.example.org', passphrase: 'pw' });
    expect(priv.wal.syncs).toBeGreaterThan(before);
    // a WAL that cannot be fsynced: the commit is not acknowledged (503), and no later write is
    priv.wal.fd = 1_000_000;
    await expect(own.create({ domain: 'lost.example.org', passphrase: 'pw' })).rejects.toMatchObject({ status: 503 });
    priv.wal.fd = null;
    await expect(own.modify('durable.example.org', { locale: 'fr' })).rejects.toMatchObject({ status: 503 });
    await own.close();
  });
});
