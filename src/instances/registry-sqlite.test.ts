import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verify } from '@node-rs/argon2';
import { SqliteInstanceRegistry } from './registry-sqlite.js';

let dir: string;
let reg: SqliteInstanceRegistry;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-reg-'));
  reg = new SqliteInstanceRegistry(join(dir, 'registry.sqlite'));
});
afterAll(async () => {
  await reg.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('instance registry', () => {
  it('creates instances with secrets and finds them by host or alias, port included', async () => {
    const a = await reg.create({ domain: 'Alice.Example.org', aliases: ['alice.local:8080'], passphrase: 'pw', locale: 'fr' });
    expect(a).toMatchObject({ domain: 'alice.example.org', aliases: ['alice.local:8080'], locale: 'fr', onboarded: true });
    expect(await verify(a.passphraseHash as string, 'pw')).toBe(true);
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
