import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verify } from '@node-rs/argon2';
import { derivePassphrase } from '../auth/passphrase.js';
import { SqliteInstanceRegistry } from './registry-sqlite.js';

let dir: string;
let reg: SqliteInstanceRegistry;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-reg-'));
  reg = new SqliteInstanceRegistry(join(dir, 'registry.sqlite'), { kdfIterations: 1000 });
});
afterAll(async () => {
  await reg.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('instance registry', () => {
  it('creates instances with secrets and finds them by host or alias, port included', async () => {
    const a = await reg.create({ domain: 'Alice.Example.org', aliases: ['alice.local:8080'], passphrase: 'pw', locale: 'fr' });
    expect(a).toMatchObject({ domain: 'alice.example.org', aliases: ['alice.local:8080'], locale: 'fr', onboarded: true });
    expect(a.kdfIterations).toBe(1000);
    const derived = await derivePassphrase('pw', 'alice.example.org', 1000);
    expect(await verify(a.passphraseHash as string, derived)).toBe(true);
    expect(await reg.checkPassphrase(a, derived)).toBe(true);
    expect(await reg.checkPassphrase(a, 'pw')).toBe(false);
    expect((await reg.findByHost('ALICE.example.org:443'))?.id).toBe(a.id);
    expect((await reg.findByHost('alice.local:8080'))?.id).toBe(a.id);
    expect(await reg.findByHost('alice.local:9090')).toBeNull();
    const s = await reg.secrets(a);
    expect(s.session).toHaveLength(64);
    const b = await reg.create({ domain: 'bob.example.org' });
    expect(Buffer.compare(Buffer.from((await reg.secrets(b)).cli), Buffer.from(s.cli))).not.toBe(0);
    expect(b.onboarded).toBe(false);
  });

  it('refuses duplicates and bad domains', async () => {
    await expect(reg.create({ domain: 'alice.example.org' })).rejects.toMatchObject({ status: 409 });
    await expect(reg.create({ domain: 'other.example.org', aliases: ['alice.local:8080'] })).rejects.toMatchObject({ status: 409 });
    for (const bad of ['../etc', 'a b.org', 'x.org:99999', '', 'nodots', '-bad.org']) {
      await expect(reg.create({ domain: bad })).rejects.toMatchObject({ status: 400 });
    }
  });

  it('modifies, lists, counts and destroys', async () => {
    const m = await reg.modify('alice.example.org', { email: 'a@example.org', aliases: [] });
    expect(m).toMatchObject({ email: 'a@example.org', aliases: [] });
    expect((await reg.list()).map((i) => i.domain)).toEqual(['alice.example.org', 'bob.example.org']);
    expect(await reg.count()).toBe(2);
    await reg.destroy('bob.example.org');
    expect(await reg.get('bob.example.org')).toBeNull();
    await expect(reg.destroy('bob.example.org')).rejects.toMatchObject({ status: 404 });
  });
});

describe('passphrase storage', () => {
  it('stores a derived passphrase with its iterations, and migrates old registries', async () => {
    const c = await reg.create({ domain: 'carol.example.org' });
    expect(c).toMatchObject({ onboarded: false, kdfIterations: 1000 });
    expect(await reg.checkPassphrase(c, 'x')).toBe(false);
    const derived = await derivePassphrase('secret', 'carol.example.org', 5000);
    const after = await reg.setDerivedPassphrase(c, derived, 5000);
    expect(after).toMatchObject({ onboarded: true, kdfIterations: 5000 });
    expect(await reg.checkPassphrase(after, derived)).toBe(true);
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
