/**
 * The fields of the instance settings (`PUT /settings/instance`; the admin API's instances): their
 * schemas, the one definition of what each accepts and of the sentence a bad value gets (the routes
 * declare them, server/validation.ts checks them), and the normalisations applied once they passed.
 */
import type { JsonSchema } from '../common/schemas.js';

/** The locales cozy apps are translated into (Hearth's own pages speak en and fr, others fall back to en). */
export const LOCALES = ['en', 'fr', 'de', 'es', 'it', 'nl', 'pt', 'pt_BR', 'ja', 'ru', 'zh_CN', 'zh_TW', 'pl', 'cs', 'sv'] as const;

/** `pt_BR`, `pt-br` and `PT_br` are all pt_BR: a pattern that ignores case and takes - for _. */
const anyCase = (l: string) => [...l].map((c) => (c === '_' ? '[-_]' : /[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c)).join('');

/** A mailbox as a mail client would accept it (no display name, no spaces, one @, a dotted domain, no leading dot, no ..). */
export const EMAIL_RE = "^(?!\\.)(?!.*\\.\\.)[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$";

/** cozy-stack's `default_redirection`: an app slug, a slash, then the app's route (path and fragment), in URL characters only. */
export const REDIRECTION_RE = /^[a-z0-9][a-z0-9-]{0,62}\/[A-Za-z0-9\-._~!$&'()*+,;=:@/?#%[\]]*$/;

export const FIELD_SCHEMAS = {
  locale: {
    type: 'string', pattern: `^(?:${LOCALES.map(anyCase).join('|')})$`, example: 'fr',
    errorMessage: `"locale" must be one of ${LOCALES.join(', ')}`,
  },
  email: {
    type: ['string', 'null'], maxLength: 254, pattern: `^$|${EMAIL_RE}`, example: 'alice@example.org',
    errorMessage: '"email" must be a mail address such as alice@example.org (or null to remove it)',
  },
  tz: {
    type: ['string', 'null'], format: 'time-zone', example: 'Europe/Paris',
    errorMessage: '"tz" must be an IANA time zone such as Europe/Paris or America/New_York (or null)',
  },
  default_redirection: {
    type: ['string', 'null'], maxLength: 1024, pattern: `^$|${REDIRECTION_RE.source}`, example: 'drive/#/folder',
    errorMessage: '"default_redirection" must be an app slug, a slash and the app\'s route, such as drive/#/folder or home/ (or null for the default)',
  },
  public_name: {
    type: ['string', 'null'], maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$', example: 'Alice',
    errorMessage: '"public_name" must be a name of at most 200 characters, without control characters (or null)',
  },
} satisfies Record<string, JsonSchema>;

/** The locale in LOCALES' spelling (the schema accepted it). */
export const normalizeLocale = (v: string): string => LOCALES.find((l) => l.toLowerCase() === v.replace('-', '_').toLowerCase()) ?? v;

let zones: Map<string, string> | null = null;
/** A time zone in IANA's spelling (asia/tokyo → Asia/Tokyo); '' and null are none. */
export function canonicalTz(v: string | null): string | null {
  if (v === null || v === '') return null;
  zones ??= new Map(Intl.supportedValuesOf('timeZone').map((z) => [z.toLowerCase(), z]));
  return zones.get(v.toLowerCase()) ?? v;
}
export const emptyIsNull = (v: string | null): string | null => (v === '' ? null : v);
export const trimmedName = (v: string | null): string | null => (v === null || v.trim() === '' ? null : v.trim());
