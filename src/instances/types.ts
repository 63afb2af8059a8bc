/** Instances: one per person, chosen by the Host header. */
export interface Instance {
  /** Stable identifier; also names the instance's storage (never derived from user text). */
  id: string;
  /** The main domain, port included when not 80/443 (e.g. "alice.example.org", "hearth.localhost:8080"). */
  domain: string;
  aliases: string[];
  locale: string;
  email: string | null;
  publicName: string | null;
  tz: string | null;
  /** Bytes; null = unlimited. */
  diskQuota: number | null;
  /** argon2id hash of the owner's passphrase (set at creation or by onboarding), or null. */
  passphraseHash: string | null;
  /** Set once onboarding is done (a passphrase exists). */
  onboarded: boolean;
  /** PBKDF2 iterations the client uses to derive the passphrase it sends (auth/passphrase.ts). */
  kdfIterations: number;
  createdAt: string;
  updatedAt: string;
  /**
   * cozy-stack's context (`ContextName`): which per-context configuration applies, e.g. the stack assets overriding the
   * defaults (apps/assets). The registry always sets the fields below; instances built elsewhere (tests) may leave them out.
   */
  contextName?: string;
  /** The terms of service the owner signed and the latest ones (cozy-stack's `TOSSigned` / `TOSLatest`: `A.B.C-YYYYMMDD`). */
  tosSigned?: string | null;
  tosLatest?: string | null;
  /** The settings document's `tracking` (the owner accepts usage statistics: `{{.Tracking}}` in app pages). */
  tracking?: boolean;
  /** The clear onboarding token (auth/passphrase-routes.ts): only on create()'s result, when no passphrase was given. */
  registerToken?: string;
}

/** Per-instance secrets, generated at creation, never returned by the admin API. */
export interface InstanceSecrets {
  /** Signs app and konnector tokens (cozy-stack's session secret). */
  session: Uint8Array;
  /** Signs cli tokens. */
  cli: Uint8Array;
  /** Signs OAuth access/refresh and share tokens. */
  oauth: Uint8Array;
}

export interface NewInstance {
  domain: string;
  aliases?: string[];
  locale?: string;
  email?: string | null;
  publicName?: string | null;
  tz?: string | null;
  diskQuota?: number | null;
  /** The owner's clear passphrase: stored as argon2id(derivePassphrase(passphrase, domain, kdfIterations)). */
  passphrase?: string | null;
  /** PBKDF2 iterations for that derivation; the registry's default otherwise. */
  kdfIterations?: number;
  /** `default` when not given. */
  contextName?: string;
  tosSigned?: string | null;
  tosLatest?: string | null;
}

/** cozy-stack's `auth_mode`, plus `two_factor_totp` (an authenticator app; cozy-stack has none). */
export type AuthMode = 'basic' | 'two_factor_mail' | 'two_factor_totp';
export const AUTH_MODES: readonly AuthMode[] = ['basic', 'two_factor_mail', 'two_factor_totp'];

/** The owner's second factor. The registry stores these values as given (the secret comes sealed, see auth/twofactor/seal.ts). */
export interface TwoFactorState {
  authMode: AuthMode;
  /** The sealed TOTP secret: pending enrolment while `authMode` is not `two_factor_totp`. */
  totpSecret: string | null;
  /** Last TOTP time step accepted (replay refusal). */
  totpLastStep: number | null;
  /** argon2id hashes of the unused recovery codes. */
  recoveryHashes: string[];
  /** Last mail-code time step accepted. */
  mailLastStep: number | null;
}

/** Second-factor storage (the SQLite registry implements it; kept apart from InstanceRegistry on purpose). */
export interface TwoFactorStore {
  twoFactor(instance: Instance): Promise<TwoFactorState>;
  setTwoFactor(instance: Instance, patch: Partial<TwoFactorState>): Promise<TwoFactorState>;
  /** Records `step` as used if it is after the stored one; false when it is not (a replay or a race lost). */
  useStep(instance: Instance, kind: 'totp' | 'mail', step: number): Promise<boolean>;
  /** Compare-and-swap of the recovery hashes: false when they changed meanwhile (the code was used concurrently). */
  swapRecoveryHashes(instance: Instance, expected: readonly string[], next: readonly string[]): Promise<boolean>;
}

/** One-time passphrase tokens, stored hashed: onboarding (`register`, no expiry) and reset by mail (`reset`). */
export type PassphraseTokenKind = 'register' | 'reset';
export type PassphraseTokenState = 'valid' | 'expired' | 'invalid';

export interface PassphraseTokenStore {
  /** A new random token of `kind` (replacing the previous one); `expiresAt` in ms since the epoch, null = none. Returns it in clear. */
  issuePassphraseToken(instance: Instance, kind: PassphraseTokenKind, expiresAt: number | null): Promise<string>;
  /** Whether `token` is the live token of `kind`, without using it. */
  passphraseTokenState(instance: Instance, kind: PassphraseTokenKind, token: string, now: number): Promise<PassphraseTokenState>;
  /** Uses `token` (atomically): true when it was valid, and it no longer is. */
  consumePassphraseToken(instance: Instance, kind: PassphraseTokenKind, token: string, now: number): Promise<boolean>;
}

/**
 * The owner's change of e-mail address (settings/email-routes.ts), as cozy-stack's: the new address waits, with a one-time
 * token (stored hashed, with its expiry), until the link mailed to it is opened.
 */
export interface EmailChangeStore {
  /** Records `email` as the pending address with a new token (replacing any previous one); returns the token in clear. */
  start(instance: Instance, email: string, expiresAt: number): Promise<string>;
  /** The address waiting for its confirmation, if any. */
  pending(instance: Instance): Promise<string | null>;
  /** A new token for the pending address (the previous one no longer works); null when none is pending. */
  renew(instance: Instance, expiresAt: number): Promise<string | null>;
  /** Makes the pending address the instance's email (with a new settings revision) if `token` is live: the address, or null. */
  confirm(instance: Instance, token: string, now: number): Promise<string | null>;
  /** Forgets the pending address and its token: false when none was pending. */
  cancel(instance: Instance): Promise<boolean>;
}

export type InstancePatch = Partial<Omit<NewInstance, 'domain'>>;

/** What the settings document (`io.cozy.settings.instance`, settings/) keeps beside the Instance fields. */
export interface InstanceSettings {
  /** The document's revision (`N-hex`): every change of locale, email, public name, tz or default redirection makes a new one. */
  rev: string;
  /** cozy-stack's `default_redirection` (`<slug>/<path>`), or null for the configured default. */
  defaultRedirection: string | null;
  /** The owner's theme overrides as stored (settings/theme.ts validates them), or null for the defaults. */
  theme: string | null;
}

export type InstanceSettingsPatch = Partial<Pick<Instance, 'locale' | 'email' | 'publicName' | 'tz'>> & { defaultRedirection?: string | null; tracking?: boolean };

/** The settings document's storage (the SQLite registry implements it, in the instance's row). */
export interface InstanceSettingsStore {
  /** The instance as stored now, with its settings. */
  settings(instance: Instance): Promise<{ instance: Instance; settings: InstanceSettings }>;
  /** Applies `patch` only if `rev` is still the current revision (compare-and-swap): Conflict otherwise. */
  updateSettings(instance: Instance, rev: string, patch: InstanceSettingsPatch): Promise<{ instance: Instance; settings: InstanceSettings }>;
  /** Stores the theme overrides (JSON text), or null to go back to the defaults. */
  setTheme(instance: Instance, theme: string | null): Promise<void>;
}

export interface InstanceRegistry {
  create(input: NewInstance): Promise<Instance>;
  get(domain: string): Promise<Instance | null>;
  /** Resolves a Host header (domain or alias, port included). */
  findByHost(host: string): Promise<Instance | null>;
  list(): Promise<Instance[]>;
  /** At most `limit` instances by domain, those after `after` (a page of a listing: memory and time bounded). */
  page(opts: { after?: string; limit: number }): Promise<Instance[]>;
  count(): Promise<number>;
  modify(domain: string, patch: InstancePatch): Promise<Instance>;
  destroy(domain: string): Promise<void>;
  secrets(instance: Instance): Promise<InstanceSecrets>;
  /** Checks a client-derived passphrase (auth/passphrase.ts) against the stored hash. */
  checkPassphrase(instance: Instance, derived: string): Promise<boolean>;
  /** Stores a client-derived passphrase and the iterations it was derived with. */
  setDerivedPassphrase(instance: Instance, derived: string, iterations: number): Promise<Instance>;
  ping(): Promise<number>;
  close(): Promise<void>;
}
