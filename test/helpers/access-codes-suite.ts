/**
 * The conformance suite of the OAuth access codes (src/oauth/codes.ts AccessCodeStore): memory and PostgreSQL run it
 * unchanged. `make(now, ttlMs)` gives a fresh store on the clock `now`.
 */
import { describe, expect, it } from 'vitest';
import type { AccessCodeStore } from '../../src/oauth/codes.js';

export function describeAccessCodes(name: string, make: (now: () => number, ttlMs: number) => Promise<AccessCodeStore>): void {
  describe(`OAuth access codes conformance: ${name}`, () => {
    it('single use, expiry by the injected clock, unknown codes', async () => {
      let t = 1000;
      const codes = await make(() => t, 100);
      const base = { instanceId: 'i', clientId: 'c', redirectUri: 'r', scope: 's', codeChallenge: null };
      const a = await codes.create(base);
      expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await codes.take(a)).toEqual({ ok: true, code: { ...base, expiresAt: 1100 } });
      expect(await codes.take(a)).toEqual({ ok: false, reason: 'used' });
      const b = await codes.create({ ...base, codeChallenge: 'x'.repeat(43) });
      t += 101;
      expect(await codes.take(b)).toEqual({ ok: false, reason: 'expired' });
      expect(await codes.take(a)).toEqual({ ok: false, reason: 'unknown' }); // used, and past its expiry: forgotten
      expect(await codes.take('nope')).toEqual({ ok: false, reason: 'unknown' });
    });

    it('gives a code once to concurrent takes', async () => {
      const codes = await make(Date.now, 60_000);
      const code = await codes.create({ instanceId: 'i', clientId: 'c', redirectUri: 'r', scope: 's', codeChallenge: null });
      const results = await Promise.all([codes.take(code), codes.take(code), codes.take(code)]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
    });
  });
}
