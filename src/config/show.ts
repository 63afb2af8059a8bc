/** Printing the effective configuration without leaking secrets. */
import { requireYaml } from './load.js';
import type { HearthConfig } from './types.js';

export const MASK = '********';

/** A copy of `config` with the admin passphrase, its hash and the SMTP password replaced by "********" (null stays null). */
export function maskConfig(config: HearthConfig): HearthConfig {
  const copy = structuredClone(config);
  if (copy.admin.passphrase !== null) copy.admin.passphrase = MASK;
  if (copy.admin.passphraseHash !== null) copy.admin.passphraseHash = MASK;
  if (copy.mail.password !== null) copy.mail.password = MASK;
  return copy;
}

/** The masked configuration as YAML (the format of hearth.yaml). */
export function formatConfig(config: HearthConfig): string {
  return requireYaml().stringify(maskConfig(config));
}
