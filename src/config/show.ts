/** Printing the effective configuration without leaking secrets. */
import { requireYaml } from './load.js';
import type { HearthConfig } from './types.js';

export const MASK = '********';

/** A copy of `config` with the admin passphrase, its hash, the SMTP password, the object store's keys and the passwords in the database and Redis URLs replaced by "********" (null stays null). */
export function maskConfig(config: HearthConfig): HearthConfig {
  const copy = structuredClone(config);
  if (copy.admin.passphrase !== null) copy.admin.passphrase = MASK;
  if (copy.admin.passphraseHash !== null) copy.admin.passphraseHash = MASK;
  if (copy.mail.password !== null) copy.mail.password = MASK;
  if (copy.blobs.swift.key !== null) copy.blobs.swift.key = MASK;
  if (copy.blobs.s3.secretAccessKey !== null) copy.blobs.s3.secretAccessKey = MASK;
  if (copy.docs.url !== null) copy.docs.url = maskUrlPassword(copy.docs.url);
  if (copy.coordination.url !== null) copy.coordination.url = maskUrlPassword(copy.coordination.url);
  return copy;
}

/** The masked configuration as YAML (the format of hearth.yaml). */
export function formatConfig(config: HearthConfig): string {
  return requireYaml().stringify(maskConfig(config));
}

/** postgres://user:secret@host/db → postgres://user:********@host/db (an URL without a password is unchanged). */
export function maskUrlPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = MASK;
    return parsed.toString();
  } catch {
    return MASK;
  }
}
