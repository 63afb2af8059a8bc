/**
 * Secrets at rest (TOTP secrets, OAuth client secrets, io.cozy.accounts credentials): AES-256-GCM under a key derived with
 * HKDF-SHA256 from the instance's session secret (info names the purpose, the instance id is the
 * associated data), so a copy of the stored rows alone does not give the secret away, and a sealed
 * value moved to another instance (or to another purpose) does not open.
 * Format: `v1.` + base64url(iv ‖ ciphertext ‖ tag).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const PREFIX = 'v1.';
const IV = 12;
const TAG = 16;

export type SealPurpose = 'hearth/2fa/totp-secret/v1' | 'hearth/oauth/client-secret/v1' | 'hearth/accounts/credentials/v1';
const TOTP: SealPurpose = 'hearth/2fa/totp-secret/v1';

function key(sessionSecret: Uint8Array, purpose: SealPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', sessionSecret, 'hearth/seal', purpose, 32));
}

export function sealSecret(sessionSecret: Uint8Array, instanceId: string, clear: string, purpose = TOTP): string {
  const iv = randomBytes(IV);
  const c = createCipheriv('aes-256-gcm', key(sessionSecret, purpose), iv).setAAD(Buffer.from(instanceId));
  const body = Buffer.concat([c.update(clear, 'utf8'), c.final()]);
  return PREFIX + Buffer.concat([iv, body, c.getAuthTag()]).toString('base64url');
}

/** The clear secret, or null if the value is not one sealed by this instance's key. */
export function openSecret(sessionSecret: Uint8Array, instanceId: string, sealed: string, purpose = TOTP): string | null {
  if (!sealed.startsWith(PREFIX)) return null;
  const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
  if (raw.length <= IV + TAG) return null;
  try {
    const d = createDecipheriv('aes-256-gcm', key(sessionSecret, purpose), raw.subarray(0, IV)).setAAD(Buffer.from(instanceId));
    d.setAuthTag(raw.subarray(raw.length - TAG));
    return Buffer.concat([d.update(raw.subarray(IV, raw.length - TAG)), d.final()]).toString('utf8');
  } catch {
    return null;
  }
}
