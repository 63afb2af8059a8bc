/**
 * Recovery codes: the way in when the authenticator is lost. Shown once, stored hashed, each
 * usable once.
 *
 * A code is 8 Crockford base32 characters (40 bits), shown as "k3v9-2xq7": short enough to
 * type, unambiguous (no i, l, o, u; those typed anyway are read as 1, 1, 0). 40 bits is plenty
 * online (rate limits allow a few thousand guesses a day) but weak offline: a leaked database
 * of SHA-256 hashes would fall in hours on a GPU, salt or not. Hence argon2id (the library's
 * defaults: 19 MiB, 2 passes, OWASP's minimum), which makes each guess cost ~10⁵× more.
 */
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const LENGTH = 8;

function normalise(code: string): string | null {
  if (code.length > 32) return null;
  const s = code
    .toLowerCase()
    .replace(/[\s-]+/g, '')
    .replace(/[il]/g, '1')
    .replace(/o/g, '0');
  return s.length === LENGTH && [...s].every((c) => ALPHABET.includes(c)) ? s : null;
}

function newCode(): string {
  // 256 is a multiple of 32: `byte & 31` is uniform, no modulo bias.
  const chars = [...randomBytes(LENGTH)].map((b) => ALPHABET[b & 31]).join('');
  return `${chars.slice(0, 4)}-${chars.slice(4)}`;
}

/** `codes` are for the user's eyes only (show once); store `hashes`. */
export async function newRecoveryCodes(n = 10): Promise<{ codes: string[]; hashes: string[] }> {
  const codes = Array.from({ length: n }, newCode);
  const hashes = await Promise.all(codes.map((c) => hash(normalise(c)!)));
  return { codes, hashes };
}

/**
 * Checks a code against the stored hashes. On success the matching hash is removed from
 * `remaining`, which the caller must store back (single use). Every hash is checked, in
 * parallel, so the answer time does not tell which position matched.
 */
export async function useRecoveryCode(code: string, hashes: readonly string[]): Promise<{ ok: boolean; remaining: string[] }> {
  const candidate = normalise(code);
  if (candidate === null) return { ok: false, remaining: [...hashes] };
  const matches = await Promise.all(hashes.map((h) => verify(h, candidate).catch(() => false)));
  const index = matches.indexOf(true);
  if (index < 0) return { ok: false, remaining: [...hashes] };
  return { ok: true, remaining: hashes.filter((_, i) => i !== index) };
}
