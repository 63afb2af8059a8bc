/**
 * An instance's context and terms of service (cozy-stack's `ContextName`, `TOSSigned`, `TOSLatest`): the values the admin
 * API and the CLI accept, and the reading of a terms version (cozy-stack model/instance/tos.go).
 */
import { BadRequest } from '../common/errors.js';
import type { Instance } from './types.js';

export const DEFAULT_CONTEXT = 'default';
/** A context names configuration and storage keys (apps/assets): letters, digits, `_`, `-`, `.`, never a path. */
export const CONTEXT_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$';
const CONTEXT_RE = new RegExp(CONTEXT_PATTERN);
/** `A.B.C-YYYYMMDD` (a `v` allowed in front), `A.B.C`, or a bare `YYYYMMDD`. */
export const TOS_PATTERN = '^(v?[0-9]{1,6}\\.[0-9]{1,6}\\.[0-9]{1,6}(-[0-9]{8})?|[0-9]{8})$';

export function contextOf(instance: Pick<Instance, 'contextName'>): string {
  return instance.contextName || DEFAULT_CONTEXT;
}

export function checkContextName(name: string): string {
  if (!CONTEXT_RE.test(name) || name.includes('..')) throw new BadRequest(`invalid context name ${JSON.stringify(name.slice(0, 80))}: letters, digits, _ - . (at most 63)`);
  return name;
}

/** The major number and the date of a terms version, or null when it cannot be read (cozy-stack's ParseTOSVersion). */
export function parseTosVersion(v: string | null | undefined): { major: number; date: Date | null } | null {
  if (!v) return null;
  const day = (d: string) => {
    const t = Date.UTC(Number(d.slice(0, 4)), Number(d.slice(4, 6)) - 1, Number(d.slice(6, 8)));
    return Number.isNaN(t) ? null : new Date(t);
  };
  if (/^[0-9]{8}$/.test(v)) return { major: 1, date: day(v) };
  const m = /^v?([0-9]+)\.[0-9]+\.[0-9]+(?:-([0-9]{8}))?$/.exec(v);
  if (!m) return null;
  return { major: Number(m[1]), date: m[2] ? day(m[2]) : null };
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Where the owner stands with the latest terms (cozy-stack's CheckTOSNotSignedAndDeadline): `none` (signed, or no dated
 * latest terms, or more than 30 days before they apply), `warning` (not signed, they apply within 30 days), `blocked`
 * (not signed and they apply already).
 */
export function tosDeadline(instance: Pick<Instance, 'tosSigned' | 'tosLatest'>, now = Date.now()): 'none' | 'warning' | 'blocked' {
  const latest = parseTosVersion(instance.tosLatest);
  if (!latest?.date) return 'none';
  const signed = parseTosVersion(instance.tosSigned);
  if (signed && signed.major >= latest.major) return 'none';
  if (now > latest.date.getTime()) return 'blocked';
  return now > latest.date.getTime() - 30 * DAY_MS ? 'warning' : 'none';
}
