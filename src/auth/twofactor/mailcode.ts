/**
 * cozy-stack's `two_factor_mail` mode. After a correct passphrase the server mails a 6-digit
 * code and answers with a `two_factor_token`; the login completes when both come back.
 *
 * - The code is a TOTP over a per-instance secret derived from the server key, so nothing
 *   is stored: any server of a cluster can check it. HMAC-SHA256 rather than SHA-1 since no
 *   authenticator app has to compute it. It is accepted for 10 steps of 30 s after the one
 *   it was made in (5 to 5.5 min), never before (the server made it, so there is no drift
 *   to allow for).
 * - The token is `base64url(version ‖ issuedAt ‖ nonce ‖ HMAC)`: it proves that the
 *   passphrase step succeeded for this instance less than 5 minutes ago, so a code alone
 *   (e.g. read from a stolen mailbox) does not log anybody in.
 * Sub-keys are derived per purpose and instance so that neither value can stand for the other, and tokens per use: the
 * token of a login does not stand for the one of a move's consent (src/move/transfer/authorize.ts), and back.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { generate } from 'otplib';
import { verifyCode } from './totp.js';
import type { TotpCheck } from './totp.js';

const CODE_TTL_S = 300;
export const TWO_FACTOR_TOKEN_TTL_MS = 5 * 60_000;
/** Tokens issued by another server of the cluster may be this far "in the future". */
const CLOCK_SKEW_MS = 5_000;
const VERSION = 1;
const NONCE_BYTES = 16;
const MAC_BYTES = 32;
const TOKEN_BYTES = 1 + 6 + NONCE_BYTES + MAC_BYTES;

function subKey(secretKey: Uint8Array, purpose: string, instanceId: string): Buffer {
  return createHmac('sha256', secretKey).update(`hearth/2fa/${purpose}\0${instanceId}`).digest();
}

/** The code to mail now (`now` in ms). */
export function mailCode(secretKey: Uint8Array, instanceId: string, now: number = Date.now()): Promise<string> {
  return generate({
    secret: subKey(secretKey, 'mail-totp', instanceId),
    epoch: Math.floor(now / 1000),
    algorithm: 'sha256',
    digits: 6,
    period: 30,
  });
}

/** Checks a mailed code; pass the returned step back as `lastUsedStep` to refuse its reuse. */
export function verifyMailCode(
  secretKey: Uint8Array,
  instanceId: string,
  code: string,
  opts: { now?: number; lastUsedStep?: number } = {},
): Promise<TotpCheck> {
  return verifyCode({
    secret: subKey(secretKey, 'mail-totp', instanceId),
    code,
    now: opts.now,
    lastUsedStep: opts.lastUsedStep,
    algorithm: 'sha256',
    tolerance: [CODE_TTL_S, 0],
  });
}

/** What a two-factor token opens: a session (`login`) or the consent to a move into this instance (`move`). */
export type TwoFactorUse = 'login' | 'move';

function mac(secretKey: Uint8Array, instanceId: string, body: Uint8Array, use: TwoFactorUse): Buffer {
  return createHmac('sha256', subKey(secretKey, use === 'login' ? 'token' : `token-${use}`, instanceId)).update(body).digest();
}

/** The token returned with "code sent": proof that the passphrase step passed (`now` in ms). */
export function twoFactorToken(secretKey: Uint8Array, instanceId: string, now: number = Date.now(), use: TwoFactorUse = 'login'): string {
  const body = Buffer.alloc(1 + 6 + NONCE_BYTES);
  body.writeUInt8(VERSION, 0);
  body.writeUIntBE(now, 1, 6); // 48-bit milliseconds: good until year 10889
  randomBytes(NONCE_BYTES).copy(body, 7); // each login attempt gets its own token
  return Buffer.concat([body, mac(secretKey, instanceId, body, use)]).toString('base64url');
}

/** True if the token was made by this server for this instance and this use less than 5 minutes ago. */
export function checkTwoFactorToken(secretKey: Uint8Array, instanceId: string, token: string, now: number = Date.now(), use: TwoFactorUse = 'login'): boolean {
  if (token.length > 2 * TOKEN_BYTES) return false;
  const raw = Buffer.from(token, 'base64url');
  // Node's decoder skips junk characters: demand the canonical form so one token has one spelling.
  if (raw.length !== TOKEN_BYTES || raw.toString('base64url') !== token) return false;
  const body = raw.subarray(0, TOKEN_BYTES - MAC_BYTES);
  if (!timingSafeEqual(raw.subarray(TOKEN_BYTES - MAC_BYTES), mac(secretKey, instanceId, body, use))) return false;
  if (body.readUInt8(0) !== VERSION) return false;
  const issuedAt = body.readUIntBE(1, 6);
  return issuedAt <= now + CLOCK_SKEW_MS && now - issuedAt <= TWO_FACTOR_TOKEN_TTL_MS;
}
