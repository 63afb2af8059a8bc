/**
 * A run's error in plain words: cozy's konnector error codes (cozy-konnector-libs' `errors`, cozy-harvest's
 * messages) as what happened and what to do. A code may carry a detail after a dot (LOGIN_FAILED.TOO_MANY_ATTEMPTS):
 * the most precise known code wins, then its family, then "unknown" (with the stack's words kept for a support request).
 */
import type { T } from '../../shared/i18n';

export interface RunError { code: string; message: string; action: string; /** Fixing it needs the person (new credentials, an action on the vendor's site). */ needsUser: boolean }

const KNOWN = [
  'LOGIN_FAILED.TOO_MANY_ATTEMPTS', 'LOGIN_FAILED.NEEDS_SECRET', 'LOGIN_FAILED',
  'USER_ACTION_NEEDED.CHANGE_PASSWORD', 'USER_ACTION_NEEDED.ACCOUNT_REMOVED', 'USER_ACTION_NEEDED.CGU_FORM',
  'USER_ACTION_NEEDED.OAUTH_OUTDATED', 'USER_ACTION_NEEDED.SCA_REQUIRED', 'USER_ACTION_NEEDED.TWOFA_EXPIRED', 'USER_ACTION_NEEDED',
  'VENDOR_DOWN', 'MAINTENANCE', 'DISK_QUOTA_EXCEEDED', 'NOT_EXISTING_DIRECTORY', 'FILE_DOWNLOAD_FAILED', 'TERMS_VERSION_MISMATCH',
  'CHALLENGE_ASKED', 'EXECUTION_TIMEOUT',
];

/** The cozy code of a job's error (the stack writes it as the konnector printed it, or a sentence of its own). */
export function codeOf(error: string): string {
  const e = error.trim();
  if (/^Timeout exceeded/i.test(e) || /ran for more than/i.test(e)) return 'EXECUTION_TIMEOUT';
  const head = /^[A-Z_]+(?:\.[A-Z_]+)?/.exec(e)?.[0] ?? '';
  for (const k of KNOWN) if (head === k || head.startsWith(`${k}.`)) return k;
  if (head.startsWith('VENDOR_DOWN')) return 'VENDOR_DOWN';
  return 'UNKNOWN_ERROR';
}

export function describeRunError(error: string, t: T): RunError {
  const code = codeOf(error);
  const key = `kerr.${code}`;
  return {
    code,
    message: t(key),
    action: t(`${key}.action`),
    needsUser: code.startsWith('LOGIN_FAILED') || (code.startsWith('USER_ACTION_NEEDED') && code !== 'USER_ACTION_NEEDED.CGU_FORM'),
  };
}
