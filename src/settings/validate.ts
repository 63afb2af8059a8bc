/** The checks of `PUT /settings/instance`'s fields: each bad value is refused with what to send instead. */
import { BadRequest } from '../common/errors.js';

/** The locales cozy apps are translated into (Hearth's own pages speak en and fr, others fall back to en). */
export const LOCALES = ['en', 'fr', 'de', 'es', 'it', 'nl', 'pt', 'pt_BR', 'ja', 'ru', 'zh_CN', 'zh_TW', 'pl', 'cs', 'sv'] as const;

export function checkLocale(v: unknown): string {
  if (typeof v === 'string') {
    const found = LOCALES.find((l) => l.toLowerCase() === v.replace('-', '_').toLowerCase());
    if (found) return found;
  }
  throw new BadRequest(`"locale" must be one of ${LOCALES.join(', ')}`);
}

/** A mailbox as a mail client would accept it (no display name, no spaces, one @, a dotted domain). */
const EMAIL_RE = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function checkEmail(v: unknown): string | null {
  if (v === null || v === '') return null;
  if (typeof v === 'string' && v.length <= 254 && EMAIL_RE.test(v) && !v.split('@')[0]!.startsWith('.') && !v.includes('..')) return v;
  throw new BadRequest('"email" must be a mail address such as alice@example.org (or null to remove it)');
}

let zones: Map<string, string> | null = null;

/** A real IANA time zone, as Intl knows them (canonical names and aliases such as UTC, Etc/UTC or Asia/Calcutta), stored in IANA's spelling. */
export function checkTz(v: unknown): string | null {
  if (v === null || v === '') return null;
  if (typeof v === 'string' && v.length <= 64 && /^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(v)) {
    zones ??= new Map(Intl.supportedValuesOf('timeZone').map((z) => [z.toLowerCase(), z]));
    const canonical = zones.get(v.toLowerCase());
    if (canonical) return canonical;
    try {
      new Intl.DateTimeFormat('en', { timeZone: v }); // throws RangeError for what is not a zone (offsets such as +02:00 included)
      return v;
    } catch {
      /* not a zone */
    }
  }
  throw new BadRequest('"tz" must be an IANA time zone such as Europe/Paris or America/New_York (or null)');
}

/** cozy-stack's `default_redirection`: an app slug, a slash, then the app's route (path and fragment), in URL characters only. */
export const REDIRECTION_RE = /^[a-z0-9][a-z0-9-]{0,62}\/[A-Za-z0-9\-._~!$&'()*+,;=:@/?#%[\]]*$/;

export function checkRedirection(v: unknown): string | null {
  if (v === null || v === '') return null;
  if (typeof v === 'string' && v.length <= 1024 && REDIRECTION_RE.test(v)) return v;
  throw new BadRequest('"default_redirection" must be an app slug, a slash and the app\'s route, such as drive/#/folder or home/ (or null for the default)');
}

export function checkPublicName(v: unknown): string | null {
  if (v === null) return null;
  // eslint-disable-next-line no-control-regex
  if (typeof v === 'string' && v.trim().length <= 200 && !/[\u0000-\u001f\u007f]/.test(v)) return v.trim() === '' ? null : v.trim();
  throw new BadRequest('"public_name" must be a name of at most 200 characters, without control characters (or null)');
}
