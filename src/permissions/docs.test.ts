import { describe, expect, it } from 'vitest';
import { SHORTCODE_RE, expiryFromTTL, shortcode } from './docs.js';

describe('cozy durations and shortcodes', () => {
  const now = new Date('2026-01-31T10:00:00.000Z');
  it.each([
    ['30s', '2026-01-31T10:00:30.000Z'],
    ['15m', '2026-01-31T10:15:00.000Z'],
    ['1h', '2026-01-31T11:00:00.000Z'],
    ['1D', '2026-02-01T10:00:00.000Z'],
    ['2M', '2026-03-31T10:00:00.000Z'],
    ['1Y', '2027-01-31T10:00:00.000Z'],
    ['1h30m', '2026-01-31T11:30:00.000Z'],
  ])('%s', (ttl, want) => expect(expiryFromTTL(ttl, now).toISOString()).toBe(want));

  it('refuses other durations', () => {
    for (const bad of ['', '1', 'h', '1d', '1 h', '-1h']) expect(() => expiryFromTTL(bad, now)).toThrow(/invalid ttl/);
  });

  it('makes 12-char and 6-digit codes that never look like a JWT', () => {
    expect(shortcode(false)).toMatch(/^[A-Za-z0-9]{12}$/);
    expect(shortcode(true)).toMatch(/^\d{6}$/);
    expect(SHORTCODE_RE.test('a.b.c')).toBe(false);
  });
});
