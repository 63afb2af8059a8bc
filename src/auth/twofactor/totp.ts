/**
 * Authenticator-app TOTP (RFC 6238): SHA-1, 6 digits, 30 s, the only parameters every app
 * honours (Google Authenticator ignores the others). otplib computes and compares the codes
 * (in constant time); this module adds the policy: ±1 step of drift, no replay, strict input.
 */
import { randomBytes } from 'node:crypto';
import { verify } from 'otplib';
import { loadQrCode } from '../../common/lazy-libs.js';

const PERIOD = 30;
const DIGITS = 6;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding (what otpauth URIs carry). */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** A new secret: 20 random bytes (160 bits, the HMAC-SHA1 block RFC 4226 recommends), base32. */
export function newTotpSecret(): string {
  return base32Encode(randomBytes(20));
}

/**
 * The provisioning URI (Google's Key URI format). The issuer goes both in the label prefix
 * (older apps) and in the `issuer` parameter (newer ones); each part is percent-encoded so a
 * ':' or '&' in an account name cannot forge another field.
 */
export function otpauthUri(o: { secret: string; account: string; issuer: string }): string {
  const label = `${encodeURIComponent(o.issuer)}:${encodeURIComponent(o.account)}`;
  const q = `secret=${o.secret}&issuer=${encodeURIComponent(o.issuer)}&algorithm=SHA1&digits=${DIGITS}&period=${PERIOD}`;
  return `otpauth://totp/${label}?${q}`;
}

/** The QR code as inline SVG markup: no data: URL, so it works under `img-src 'self'`. */
export async function qrSvg(uri: string): Promise<string> {
  return (await loadQrCode()).toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

export interface TotpCheck {
  valid: boolean;
  /** The time step that matched: store it and pass it back as `lastUsedStep` next time. */
  step?: number;
}

/**
 * Checks a code typed by the user. `now` is in milliseconds. A step at or before
 * `lastUsedStep` is refused, so a code seen over a shoulder or replayed from a log is useless
 * once used (RFC 6238 §5.2) — including an older code still inside the drift window.
 */
export async function verifyTotp(
  secret: string,
  code: string,
  opts: { lastUsedStep?: number; now?: number } = {},
): Promise<TotpCheck> {
  return verifyCode({ secret, code, now: opts.now, lastUsedStep: opts.lastUsedStep, algorithm: 'sha1', tolerance: PERIOD });
}

/** Shared by authenticator codes and mail codes (mailcode.ts): normalise, then let otplib compare. */
export async function verifyCode(o: {
  secret: string | Uint8Array;
  code: string;
  now: number | undefined;
  lastUsedStep: number | undefined;
  algorithm: 'sha1' | 'sha256';
  /** Seconds of accepted drift: a number (±) or [past, future]. */
  tolerance: number | [number, number];
}): Promise<TotpCheck> {
  if (o.code.length > 32) return { valid: false }; // do not regex-scan arbitrary input
  const token = o.code.replace(/\s+/g, ''); // apps display "123 456"
  if (!/^\d{6}$/.test(token)) return { valid: false };
  const epoch = Math.floor((o.now ?? Date.now()) / 1000);
  const future = typeof o.tolerance === 'number' ? o.tolerance : o.tolerance[1];
  const last = o.lastUsedStep;
  // otplib throws when afterTimeStep is past the newest acceptable step: that just means no
  // acceptable step is left (e.g. the clock went back), so refuse instead of throwing.
  if (last !== undefined && last >= Math.floor((epoch + future) / PERIOD)) return { valid: false };
  const r = await verify({
    secret: o.secret,
    token,
    epoch,
    algorithm: o.algorithm,
    digits: DIGITS,
    period: PERIOD,
    epochTolerance: o.tolerance,
    ...(last !== undefined ? { afterTimeStep: last } : {}),
  });
  // delta is the matched step's offset from the current one (the union type lacks timeStep).
  return r.valid ? { valid: true, step: Math.floor(epoch / PERIOD) + r.delta } : { valid: false };
}
