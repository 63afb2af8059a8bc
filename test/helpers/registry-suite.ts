/**
 * The conformance suite of an instance registry engine (src/instances/types.ts: InstanceRegistry and the stores it
 * implements beside it): SQLite runs it (registry-sqlite.test.ts), PostgreSQL runs it unchanged (registry-pg.test.ts).
 * `make` gives a fresh, empty registry (kdfIterations 1000); `done` disposes of it.
 */
import { verify } from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derivePassphrase } from '../../src/auth/passphrase.js';
import { Conflict } from '../../src/common/errors.js';
import type { EmailChangeStore, Instance, InstanceRegistry, InstanceSettingsStore, PassphraseTokenStore, TwoFactorStore } from '../../src/instances/types.js';

export type FullRegistry = InstanceRegistry & TwoFactorStore & PassphraseTokenStore & InstanceSettingsStore & {
  beginDestroy(domain: string): Promise<Instance>;
  pendingDestroys(): Promise<Instance[]>;
  endDestroy(id: string): Promise<void>;
  emailChanges: EmailChangeStore;
};

export function describeRegistry(name: string, make: () => Promise<FullRegistry>, done: (reg: FullRegistry) => Promise<void>): void {
  describe(`instance registry conformance: ${name}`, () => {
    let reg: FullRegistry;
    beforeAll(async () => {
      reg = await make();
    });
    afterAll(() => done(reg));

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
      const b = await reg.create({ domain: 'bob.example.org', diskQuota: 5_000_000_000 });
      expect(b.diskQuota).toBe(5_000_000_000);
      expect(Buffer.compare(Buffer.from((await reg.secrets(b)).cli), Buffer.from(s.cli))).not.toBe(0);
      expect(b.onboarded).toBe(false);
      expect(b.registerToken).toMatch(/^[0-9a-f]{32}$/);
    });

    it('refuses duplicates and bad domains', async () => {
      await expect(reg.create({ domain: 'alice.example.org' })).rejects.toMatchObject({ status: 409 });
      await expect(reg.create({ domain: 'alice.local:8080' })).rejects.toMatchObject({ status: 409 });
      await expect(reg.create({ domain: 'other.example.org', aliases: ['alice.local:8080'] })).rejects.toMatchObject({ status: 409 });
      await expect(reg.create({ domain: 'other.example.org', aliases: ['other.example.org'] })).rejects.toMatchObject({ status: 400 });
      for (const bad of ['../etc', 'a b.org', 'x.org:99999', '', 'nodots', '-bad.org']) {
        await expect(reg.create({ domain: bad })).rejects.toMatchObject({ status: 400 });
      }
      expect(await reg.get('other.example.org')).toBeNull();
    });

    it('modifies, lists, pages, counts and destroys', async () => {
      const m = await reg.modify('alice.example.org', { email: 'a@example.org', aliases: ['alice.other:1'] });
      expect(m).toMatchObject({ email: 'a@example.org', aliases: ['alice.other:1'], locale: 'fr' });
      expect(await reg.findByHost('alice.local:8080')).toBeNull(); // the old alias is free
      expect((await reg.findByHost('alice.other:1'))?.id).toBe(m.id);
      await expect(reg.modify('bob.example.org', { aliases: ['alice.other:1'] })).rejects.toMatchObject({ status: 409 });
      await expect(reg.modify('bob.example.org', { aliases: ['bob.example.org'] })).rejects.toMatchObject({ status: 400 });
      await expect(reg.modify('nobody.example.org', { email: null })).rejects.toMatchObject({ status: 404 });
      expect((await reg.modify('alice.example.org', { aliases: [] })).aliases).toEqual([]);
      expect((await reg.list()).map((i) => i.domain)).toEqual(['alice.example.org', 'bob.example.org']);
      expect((await reg.page({ limit: 1 })).map((i) => i.domain)).toEqual(['alice.example.org']);
      expect((await reg.page({ after: 'alice.example.org', limit: 5 })).map((i) => i.domain)).toEqual(['bob.example.org']);
      expect(await reg.count()).toBe(2);
      await reg.destroy('bob.example.org');
      expect(await reg.get('bob.example.org')).toBeNull();
      expect(await reg.findByHost('bob.example.org')).toBeNull();
      await expect(reg.destroy('bob.example.org')).rejects.toMatchObject({ status: 404 });
      expect((await reg.create({ domain: 'bob.example.org' })).domain).toBe('bob.example.org'); // its domain is free again
    });

    it('destroys in two steps: the domain stays taken until the end, and a pending destroy is listed', async () => {
      const d = await reg.create({ domain: 'dave.example.org', aliases: ['dave.alias.org'] });
      expect((await reg.beginDestroy('dave.example.org')).id).toBe(d.id);
      expect(await reg.get('dave.example.org')).toBeNull();
      expect(await reg.findByHost('dave.example.org')).toBeNull();
      expect((await reg.pendingDestroys()).map((i) => i.id)).toEqual([d.id]);
      await expect(reg.create({ domain: 'dave.example.org' })).rejects.toMatchObject({ status: 409 });
      await reg.endDestroy(d.id);
      expect(await reg.pendingDestroys()).toEqual([]);
      const again = await reg.create({ domain: 'dave.example.org', aliases: ['dave.alias.org'] });
      expect(again.id).not.toBe(d.id);
      await reg.destroy('dave.example.org');
    });

    it('stores a derived passphrase with its iterations, and the passphrase tokens', async () => {
      const c = await reg.create({ domain: 'carol.example.org' });
      expect(c).toMatchObject({ onboarded: false, kdfIterations: 1000 });
      expect(await reg.checkPassphrase(c, 'x')).toBe(false);
      expect(await reg.passphraseTokenState(c, 'register', c.registerToken as string, Date.now())).toBe('valid');
      const derived = await derivePassphrase('secret', 'carol.example.org', 5000);
      const after = await reg.setDerivedPassphrase(c, derived, 5000);
      expect(after).toMatchObject({ onboarded: true, kdfIterations: 5000 });
      expect(await reg.checkPassphrase(after, derived)).toBe(true);
      expect(await reg.passphraseTokenState(c, 'register', c.registerToken as string, Date.now())).toBe('invalid'); // onboarding is done
      const reset = await reg.issuePassphraseToken(c, 'reset', 2_000);
      expect(await reg.passphraseTokenState(c, 'reset', reset, 1_000)).toBe('valid');
      expect(await reg.passphraseTokenState(c, 'reset', reset, 2_000)).toBe('expired');
      expect(await reg.passphraseTokenState(c, 'reset', 'f'.repeat(32), 1_000)).toBe('invalid');
      expect(await reg.consumePassphraseToken(c, 'reset', reset, 2_500)).toBe(false);
      expect(await reg.consumePassphraseToken(c, 'reset', reset, 1_500)).toBe(true);
      expect(await reg.consumePassphraseToken(c, 'reset', reset, 1_500)).toBe(false);
      await expect(reg.setDerivedPassphrase({ ...c, id: 'nope', domain: 'nope.org' }, derived, 5000)).rejects.toMatchObject({ status: 404 });
    });

    it('stores the second factor, refuses a used step and a stale recovery swap', async () => {
      const inst = await reg.create({ domain: 'tfa.example.org' });
      expect(await reg.twoFactor(inst)).toEqual({ authMode: 'basic', totpSecret: null, totpLastStep: null, recoveryHashes: [], mailLastStep: null });
      await reg.setTwoFactor(inst, { authMode: 'two_factor_totp', totpSecret: 'v1.x', recoveryHashes: ['a', 'b'] });
      expect(await reg.useStep(inst, 'totp', 10)).toBe(true);
      expect(await reg.useStep(inst, 'totp', 10)).toBe(false);
      expect(await reg.useStep(inst, 'totp', 9)).toBe(false);
      expect(await reg.useStep(inst, 'mail', 3)).toBe(true);
      expect(await reg.swapRecoveryHashes(inst, ['a', 'b'], ['b'])).toBe(true);
      expect(await reg.swapRecoveryHashes(inst, ['a', 'b'], ['a'])).toBe(false);
      expect(await reg.twoFactor(inst)).toEqual({ authMode: 'two_factor_totp', totpSecret: 'v1.x', totpLastStep: 10, recoveryHashes: ['b'], mailLastStep: 3 });
    });

    it('applies a settings change only from the current revision, and the CLI\'s changes of the document\'s fields make a new one', async () => {
      const inst = await reg.create({ domain: 'cas.example.org' });
      const r1 = (await reg.settings(inst)).settings.rev;
      const { instance, settings } = await reg.updateSettings(inst, r1, { locale: 'de', publicName: 'Ada', tz: 'UTC', email: 'ada@example.org' });
      expect(instance).toMatchObject({ locale: 'de', publicName: 'Ada', tz: 'UTC', email: 'ada@example.org' });
      expect((await reg.findByHost('cas.example.org'))?.locale).toBe('de'); // the host cache was cleared
      await expect(reg.updateSettings(inst, r1, { locale: 'fr' })).rejects.toBeInstanceOf(Conflict);
      await reg.modify('cas.example.org', { diskQuota: 1000 });
      expect((await reg.settings(inst)).settings.rev).toBe(settings.rev); // not a field of the document
      await reg.modify('cas.example.org', { locale: 'de' });
      expect((await reg.settings(inst)).settings.rev).toBe(settings.rev); // unchanged value
      await reg.modify('cas.example.org', { tz: 'Asia/Tokyo' });
      const r3 = (await reg.settings(inst)).settings.rev;
      expect(r3).toMatch(/^3-/);
      await expect(reg.updateSettings(inst, settings.rev, { locale: 'fr' })).rejects.toBeInstanceOf(Conflict);
      await reg.setTheme(inst, '{"colors":{"primary":"#000000"}}');
      expect((await reg.settings(inst)).settings).toMatchObject({ rev: r3, theme: '{"colors":{"primary":"#000000"}}' });
      const redirected = await reg.updateSettings(inst, r3, { defaultRedirection: 'drive/' });
      expect(redirected.settings).toMatchObject({ defaultRedirection: 'drive/' });
      expect(redirected.instance.tz).toBe('Asia/Tokyo');
    });

    it('keeps a pending e-mail change until its live token confirms it, with a new settings revision', async () => {
      const inst = await reg.create({ domain: 'mail.example.org', email: 'old@example.org' });
      const changes = reg.emailChanges;
      expect(await changes.pending(inst)).toBeNull();
      expect(await changes.renew(inst, Date.now() + 60_000)).toBeNull();
      const expired = await changes.start(inst, 'late@example.org', Date.now() - 1);
      expect(await changes.confirm(inst, expired, Date.now())).toBeNull();
      const first = await changes.start(inst, 'new@example.org', Date.now() + 60_000);
      expect(await changes.pending(inst)).toBe('new@example.org');
      const second = (await changes.renew(inst, Date.now() + 60_000)) as string;
      expect(await changes.confirm(inst, first, Date.now())).toBeNull(); // replaced
      expect(await changes.confirm(inst, 'not-a-token', Date.now())).toBeNull();
      const rev = (await reg.settings(inst)).settings.rev;
      const [a, b] = await Promise.all([changes.confirm(inst, second, Date.now()), changes.confirm(inst, second, Date.now())]);
      expect([a, b].filter((x) => x !== null)).toEqual(['new@example.org']); // used once
      const now = await reg.settings(inst);
      expect(now.instance.email).toBe('new@example.org');
      expect(now.settings.rev).toMatch(new RegExp(`^${Number.parseInt(rev, 10) + 1}-[0-9a-f]{32}$`));
      expect((await reg.findByHost('mail.example.org'))?.email).toBe('new@example.org'); // the host cache was cleared
      expect(await changes.pending(inst)).toBeNull();
      await changes.start(inst, 'other@example.org', Date.now() + 60_000);
      expect(await changes.cancel(inst)).toBe(true);
      expect(await changes.cancel(inst)).toBe(false);
      expect(await changes.pending(inst)).toBeNull();
    });

    it('answers a ping', async () => {
      expect(await reg.ping()).toBeGreaterThanOrEqual(0);
    });
  });
}
