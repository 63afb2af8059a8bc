import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openSecret, sealSecret } from './seal.js';

describe('sealed secrets', () => {
  it('opens with the same instance key and id only, and detects tampering', () => {
    const key = randomBytes(64);
    const sealed = sealSecret(key, 'inst1', 'JBSWY3DPEHPK3PXP');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(sealSecret(key, 'inst1', 'JBSWY3DPEHPK3PXP')).not.toBe(sealed); // random IV
    expect(openSecret(key, 'inst1', sealed)).toBe('JBSWY3DPEHPK3PXP');
    expect(openSecret(randomBytes(64), 'inst1', sealed)).toBeNull();
    expect(openSecret(key, 'inst2', sealed)).toBeNull();
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[raw.length - 20]! ^= 1;
    expect(openSecret(key, 'inst1', `v1.${raw.toString('base64url')}`)).toBeNull();
    expect(openSecret(key, 'inst1', 'JBSWY3DPEHPK3PXP')).toBeNull();
  });

  it('keeps purposes apart: a sealed TOTP secret does not open as an OAuth client secret', () => {
    const key = randomBytes(64);
    const sealed = sealSecret(key, 'inst1', 'client-secret', 'hearth/oauth/client-secret/v1');
    expect(openSecret(key, 'inst1', sealed, 'hearth/oauth/client-secret/v1')).toBe('client-secret');
    expect(openSecret(key, 'inst1', sealed)).toBeNull();
  });
});
