import { hash } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import { newRecoveryCodes, useRecoveryCode } from './recovery.js';

describe('recovery codes', () => {
  it('makes n distinct codes like "k3v9-2xq7", stored as argon2id hashes', async () => {
    const { codes, hashes } = await newRecoveryCodes(4);
    expect(codes).toHaveLength(4);
    expect(new Set(codes).size).toBe(4);
    for (const c of codes) expect(c).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
    for (const h of hashes) expect(h.startsWith('$argon2id$')).toBe(true);
    expect(hashes.join()).not.toContain(codes[0]!.replace('-', ''));
  });

  it('are single-use, case- and dash-insensitive', async () => {
    const { codes, hashes } = await newRecoveryCodes(3);
    const typed = ` ${codes[1]!.replace('-', '').toUpperCase()} `;
    const first = await useRecoveryCode(typed, hashes);
    expect(first.ok).toBe(true);
    expect(first.remaining).toEqual([hashes[0], hashes[2]]);
    const again = await useRecoveryCode(codes[1]!, first.remaining);
    expect(again).toEqual({ ok: false, remaining: first.remaining });
    expect((await useRecoveryCode(codes[2]!, first.remaining)).remaining).toEqual([hashes[0]]);
  });

  it('reads i, l, o as 1, 1, 0 and refuses malformed or unknown codes', async () => {
    const { hashes } = await newRecoveryCodes(1);
    const known = await newRecoveryCodes(1);
    expect((await useRecoveryCode(known.codes[0]!, hashes)).ok).toBe(false);
    for (const bad of ['', 'abc', 'k3v9-2xq7-zz', 'k3v9_2xq7', 'u3v9-2xq7', 'x'.repeat(10_000)]) {
      expect(await useRecoveryCode(bad, hashes)).toEqual({ ok: false, remaining: hashes });
    }
    const code = '10a0-1b10';
    const h = [await hash(code.replace('-', ''))];
    expect((await useRecoveryCode('IOA0-lBIO', h)).ok).toBe(true);
    expect((await useRecoveryCode(code, ['not a hash', ...h])).remaining).toEqual(['not a hash']);
  });
});
