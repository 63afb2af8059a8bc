import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteInstanceRegistry } from './registry-sqlite.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-reg2fa-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('two-factor columns of the registry', () => {
  it('migrates an old registry to basic, and the state stored then survives a reopen', async () => {
    const old = new Database(join(dir, 'old.sqlite'));
    old.exec(`CREATE TABLE instances (id TEXT PRIMARY KEY, domain TEXT NOT NULL UNIQUE, locale TEXT NOT NULL, email TEXT, public_name TEXT,
      tz TEXT, disk_quota INTEGER, passphrase_hash TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
      secret_session BLOB NOT NULL, secret_cli BLOB NOT NULL, secret_oauth BLOB NOT NULL, kdf_iterations INTEGER NOT NULL DEFAULT 1000);
      INSERT INTO instances (id, domain, locale, created_at, updated_at, secret_session, secret_cli, secret_oauth)
      VALUES ('i1','old.example.org','en','t','t',x'00',x'00',x'00');`);
    old.close();
    const reg = new SqliteInstanceRegistry(join(dir, 'old.sqlite'));
    const inst = (await reg.get('old.example.org'))!;
    expect(await reg.twoFactor(inst)).toEqual({ authMode: 'basic', totpSecret: null, totpLastStep: null, recoveryHashes: [], mailLastStep: null });
    // the behaviour itself (steps, recovery swaps) is the conformance suite's (test/helpers/registry-suite.ts)
    await reg.setTwoFactor(inst, { authMode: 'two_factor_totp', totpSecret: 'v1.x', recoveryHashes: ['b'], totpLastStep: 10, mailLastStep: 3 });
    await reg.close();
    // The state survives a reopen (and the migration does not run twice).
    const again = new SqliteInstanceRegistry(join(dir, 'old.sqlite'));
    expect(await again.twoFactor(inst)).toEqual({ authMode: 'two_factor_totp', totpSecret: 'v1.x', totpLastStep: 10, recoveryHashes: ['b'], mailLastStep: 3 });
    await again.close();
  });
});
