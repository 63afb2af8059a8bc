/**
 * The CLI's checks of the instance fields it sends to the admin API (instances add/modify): the very schemas
 * of PUT /settings/instance and of the admin API (settings/validate.ts FIELD_SCHEMAS, instances/schemas.ts PASSPHRASE), checked by the routes'
 * compiler (server/validation.ts checkField), so an option is refused before any request with the sentence the
 * server would answer, and normalised as the server normalises it.
 */
import { CONTEXT_NAME, PASSPHRASE, TOS_VERSION } from '../instances/schemas.js';
import { checkField } from '../server/validation.js';
import { canonicalTz, emptyIsNull, FIELD_SCHEMAS, normalizeLocale, trimmedName } from '../settings/validate.js';

export const checkPassphraseStrength = (v: unknown): string => checkField<string>(PASSPHRASE, v);
export const checkLocale = (v: unknown): string => normalizeLocale(checkField<string>(FIELD_SCHEMAS.locale, v));
export const checkEmail = (v: unknown): string | null => emptyIsNull(checkField<string | null>(FIELD_SCHEMAS.email, v));
export const checkTz = (v: unknown): string | null => canonicalTz(checkField<string | null>(FIELD_SCHEMAS.tz, v));
export const checkPublicName = (v: unknown): string | null => trimmedName(checkField<string | null>(FIELD_SCHEMAS.public_name, v));
export const checkContextName = (v: unknown): string => checkField<string>(CONTEXT_NAME, v);
export const checkTos = (v: unknown): string | null => emptyIsNull(checkField<string | null>(TOS_VERSION, v));
