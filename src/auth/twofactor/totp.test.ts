import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generate } from 'otplib';
import { base32Encode, newTotpSecret, otpauthUri, qrSvg, verifyTotp } from './totp.js';

/** Independent RFC 4226/6238 reference on node:crypto, to not only trust otplib. */
function reference(key: Uint8Array, unixSeconds: number, digits: number, algo = 'sha1'): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac(algo, key).update(counter).digest();
  const off = mac[mac.length - 1]! & 0xf;
  const bin = (mac.readUInt32BE(off) & 0x7fffffff) % 10 ** digits;
  return String(bin).padStart(digits, '0');
}

const RFC_KEY = Buffer.from('12345678901234567890'); // RFC 6238 appendix B, SHA-1
const RFC_SECRET = base32Encode(RFC_KEY);
const T = 1_111_111_109; // an RFC 6238 test time, mid-step (step 37037036 starts at …080)

describe('TOTP', () => {
  it('matches the RFC 6238 vectors (otplib and the node:crypto reference agree)', async () => {
    expect(RFC_SECRET).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(reference(RFC_KEY, 59, 8)).toBe('94287082');
    expect(reference(RFC_KEY, 1_111_111_109, 8)).toBe('07081804');
    expect(await generate({ secret: RFC_KEY, epoch: 59, digits: 8 })).toBe('94287082');
    expect(await generate({ secret: RFC_SECRET, epoch: 59 })).toBe('287082');
    expect(await verifyTotp(RFC_SECRET, '287082', { now: 59_000 })).toEqual({ valid: true, step: 1 });
  });

  it('accepts ±1 step of drift and refuses ±2', async () => {
    const now = T * 1000;
    for (const d of [-1, 0, 1]) {
      const r = await verifyTotp(RFC_SECRET, reference(RFC_KEY, T + d * 30, 6), { now });
      expect(r).toEqual({ valid: true, step: Math.floor(T / 30) + d });
    }
    for (const d of [-2, 2]) expect((await verifyTotp(RFC_SECRET, reference(RFC_KEY, T + d * 30, 6), { now })).valid).toBe(false);
  });

  it('refuses replay of a used step, and of older steps still in the drift window', async () => {
    const now = T * 1000;
    const code = reference(RFC_KEY, T, 6);
    const first = await verifyTotp(RFC_SECRET, code, { now });
    expect(first.valid).toBe(true);
    expect((await verifyTotp(RFC_SECRET, code, { now, lastUsedStep: first.step })).valid).toBe(false);
    const older = reference(RFC_KEY, T - 30, 6);
    expect((await verifyTotp(RFC_SECRET, older, { now, lastUsedStep: first.step })).valid).toBe(false);
    // The next step's code still works after the used one…
    const next = await verifyTotp(RFC_SECRET, reference(RFC_KEY, T + 30, 6), { now: now + 30_000, lastUsedStep: first.step });
    expect(next).toEqual({ valid: true, step: first.step! + 1 });
    // …and a lastUsedStep ahead of the clock refuses instead of throwing.
    expect((await verifyTotp(RFC_SECRET, code, { now, lastUsedStep: first.step! + 5 })).valid).toBe(false);
  });

  it('trims spaces and refuses malformed codes', async () => {
    const now = T * 1000;
    const code = reference(RFC_KEY, T, 6);
    expect((await verifyTotp(RFC_SECRET, ` ${code.slice(0, 3)} ${code.slice(3)} `, { now })).valid).toBe(true);
    for (const bad of ['', '12345', '1234567', reference(RFC_KEY, T, 8), `${code.slice(0, 5)}a`, `+${code.slice(1)}`, '１２３４５６', '9'.repeat(10_000)]) {
      expect((await verifyTotp(RFC_SECRET, bad, { now })).valid).toBe(false);
    }
  });

  it('makes 160-bit base32 secrets, distinct each time', () => {
    const a = newTotpSecret();
    expect(a).toMatch(/^[A-Z2-7]{32}$/);
    expect(newTotpSecret()).not.toBe(a);
  });

  it('builds an encoded otpauth URI and an SVG QR code', async () => {
    const uri = otpauthUri({ secret: RFC_SECRET, account: 'alice@cozy.example:x&y', issuer: 'Hearth Home' });
    expect(uri).toBe(
      'otpauth://totp/Hearth%20Home:alice%40cozy.example%3Ax%26y?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' +
        '&issuer=Hearth%20Home&algorithm=SHA1&digits=6&period=30',
    );
    const url = new URL(uri);
    expect(url.searchParams.get('issuer')).toBe('Hearth Home');
    const svg = await qrSvg(uri);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).not.toContain('data:');
  });
});
