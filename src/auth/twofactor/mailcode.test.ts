import { describe, expect, it } from 'vitest';
import { checkTwoFactorToken, mailCode, twoFactorToken, verifyMailCode } from './mailcode.js';

const KEY = new Uint8Array(32).fill(7);
const OTHER_KEY = new Uint8Array(32).fill(8);
const NOW = 1_700_000_000_000;

describe('mail code', () => {
  it('is 6 digits, valid about 5 minutes, never before it was made', async () => {
    const code = await mailCode(KEY, 'inst1', NOW);
    expect(code).toMatch(/^\d{6}$/);
    expect((await verifyMailCode(KEY, 'inst1', code, { now: NOW })).valid).toBe(true);
    expect((await verifyMailCode(KEY, 'inst1', code, { now: NOW + 299_000 })).valid).toBe(true);
    expect((await verifyMailCode(KEY, 'inst1', code, { now: NOW + 331_000 })).valid).toBe(false);
    expect((await verifyMailCode(KEY, 'inst1', code, { now: NOW - 31_000 })).valid).toBe(false);
  });

  it('is bound to the instance and the key, and refuses reuse and junk', async () => {
    const code = await mailCode(KEY, 'inst1', NOW);
    const other = await mailCode(KEY, 'inst2', NOW);
    expect(other).not.toBe(code); // fixed inputs, so this is deterministic
    expect((await verifyMailCode(KEY, 'inst2', code, { now: NOW })).valid).toBe(false);
    expect((await verifyMailCode(OTHER_KEY, 'inst1', code, { now: NOW })).valid).toBe(false);
    const ok = await verifyMailCode(KEY, 'inst1', code, { now: NOW });
    expect((await verifyMailCode(KEY, 'inst1', code, { now: NOW + 1000, lastUsedStep: ok.step })).valid).toBe(false);
    expect((await verifyMailCode(KEY, 'inst1', `${code}0`, { now: NOW })).valid).toBe(false);
  });
});

describe('two-factor token', () => {
  it('is valid 5 minutes for its instance only', () => {
    const t = twoFactorToken(KEY, 'inst1', NOW);
    expect(t).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(checkTwoFactorToken(KEY, 'inst1', t, NOW)).toBe(true);
    expect(checkTwoFactorToken(KEY, 'inst1', t, NOW + 300_000)).toBe(true);
    expect(checkTwoFactorToken(KEY, 'inst1', t, NOW + 300_001)).toBe(false);
    expect(checkTwoFactorToken(KEY, 'inst1', t, NOW - 60_000)).toBe(false); // from the future
    expect(checkTwoFactorToken(KEY, 'inst2', t, NOW)).toBe(false);
    expect(checkTwoFactorToken(OTHER_KEY, 'inst1', t, NOW)).toBe(false);
    expect(twoFactorToken(KEY, 'inst1', NOW)).not.toBe(t); // a fresh nonce per login
  });

  it('refuses tampering: any flipped byte, truncation, junk, non-canonical spelling', () => {
    const t = twoFactorToken(KEY, 'inst1', NOW);
    const raw = Buffer.from(t, 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const copy = Buffer.from(raw);
      copy[i]! ^= 1;
      expect(checkTwoFactorToken(KEY, 'inst1', copy.toString('base64url'), NOW)).toBe(false);
    }
    // Pushing issuedAt forward to extend the token's life breaks the MAC.
    const later = Buffer.from(raw);
    later.writeUIntBE(NOW + 600_000, 1, 6);
    expect(checkTwoFactorToken(KEY, 'inst1', later.toString('base64url'), NOW + 600_000)).toBe(false);
    for (const bad of ['', t.slice(0, -1), `${t}A`, `${t}.`, ` ${t}`, 'x'.repeat(10_000)]) {
      expect(checkTwoFactorToken(KEY, 'inst1', bad, NOW)).toBe(false);
    }
  });
});
