/**
 * The passphrase on the wire, as cozy-stack does it (reference §2.9): the browser never sends
 * the password but `base64(PBKDF2-SHA256(PBKDF2-SHA256(password, "me@<domain>", iterations, 32), password, 1, 32))`
 * — Bitwarden's "master password hash". The server stores an argon2id hash of that value.
 * The salt is "me@" + the instance domain, port included, as cozy-stack's `PassphraseSalt`.
 */
import { pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** PBKDF2-SHA256 iterations for new passphrases: cozy-stack's figure since Dec 2023. */
export const DEFAULT_KDF_ITERATIONS = 650_000;
/** `kdf: 0` = PBKDF2-SHA256 (Bitwarden's KdfType). */
export const KDF_PBKDF2 = 0;

export function passphraseSalt(domain: string): string {
  return `me@${domain}`;
}

/** What a client sends for `password` on `domain` (the CLI, the admin path and tests derive it here). */
export async function derivePassphrase(password: string, domain: string, iterations: number): Promise<string> {
  const master = await pbkdf2Async(password, passphraseSalt(domain), iterations, 32, 'sha256');
  const hashed = await pbkdf2Async(master, password, 1, 32, 'sha256');
  return hashed.toString('base64');
}

/** A derived passphrase is 32 bytes in base64 (44 characters); anything else is refused early. */
export function isDerivedPassphrase(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(value);
}

/** The shortest passphrase an owner may choose: the passphrase page refuses shorter ones in the browser (the server only ever sees them derived). */
export const MIN_PASSPHRASE_CHARS = 8;
