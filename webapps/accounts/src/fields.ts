/**
 * The account form generated from a konnector manifest's `fields` (cozy-harvest's conventions): types text, email,
 * password, date, dropdown (with `options`), hidden; `advanced` fields behind a toggle; every field required unless
 * `required: false`; `login` and `password` first. Labels come from the konnector's locales
 * (`locales.<lang>.fields.<name>.label`), then the known names (login, password, email, birthdate…), then the name.
 */
import type { T } from '../../shared/i18n';
import type { FieldSpec, Konnector } from './api';

export type FieldKind = 'text' | 'email' | 'password' | 'date' | 'dropdown' | 'hidden';
export interface FieldDef {
  name: string;
  kind: FieldKind;
  label: string;
  required: boolean;
  advanced: boolean;
  placeholder?: string;
  initial: string;
  options: { name: string; value: string }[];
  pattern?: string;
}

const KNOWN = new Set(['login', 'password', 'email', 'birthdate', 'code', 'answer', 'phone', 'phoneNumber', 'secret', 'identifier', 'firstname', 'lastname', 'zipcode']);
/** Fields the stack seals at rest: never shown again once saved. */
export const SECRET_NAMES = new Set(['password', 'secret', 'dob', 'code', 'answer', 'access_token', 'refresh_token', 'appSecret', 'session']);

function kindOf(name: string, spec: FieldSpec): FieldKind {
  const t = (spec.type ?? '').toLowerCase();
  if (t === 'password' || (t === '' && name === 'password')) return 'password';
  if (t === 'email') return 'email';
  if (t === 'date') return 'date';
  if (t === 'dropdown' || t === 'select') return 'dropdown';
  if (t === 'hidden') return 'hidden';
  return 'text';
}

function humanize(name: string): string {
  const s = name.replace(/[_-]+/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').trim().toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function fieldsOf(k: Konnector, locale: 'en' | 'fr', t: T): FieldDef[] {
  const own = k.locales?.[locale]?.fields ?? k.locales?.en?.fields ?? {};
  const label = (name: string, spec: FieldSpec): string => {
    const fromKonnector = own[name]?.label;
    if (fromKonnector) return fromKonnector;
    const key = spec.label && KNOWN.has(spec.label) ? spec.label : name;
    return KNOWN.has(key) ? t(`field.${key}`) : humanize(spec.label ?? name);
  };
  const defs = Object.entries(k.fields ?? {})
    .filter(([name, spec]) => name !== 'advancedFields' && spec && typeof spec === 'object')
    .map(([name, spec]): FieldDef => ({
      name,
      kind: kindOf(name, spec),
      label: label(name, spec),
      required: spec.required !== false,
      advanced: spec.advanced === true,
      placeholder: own[name]?.placeholder ?? spec.placeholder,
      initial: typeof spec.default === 'string' ? spec.default : '',
      options: (spec.options ?? []).map((o) => ({ name: String(o.name ?? o.value ?? ''), value: String(o.value ?? o.name ?? '') })),
      ...(spec.pattern ? { pattern: spec.pattern } : {}),
    }));
  const rank = (d: FieldDef) => (d.name === 'login' ? 0 : d.name === 'password' ? 1 : d.advanced ? 3 : 2);
  return defs.sort((a, b) => rank(a) - rank(b));
}

export type Values = Record<string, string>;
export type Mode = 'create' | 'edit';

/** Secrets are never prefilled: in an edit they stay as stored when left empty. */
export function initialValues(defs: FieldDef[], auth: Record<string, unknown> | undefined): Values {
  const v: Values = {};
  for (const d of defs) {
    const stored = auth?.[d.name];
    v[d.name] = d.kind === 'password' || SECRET_NAMES.has(d.name) ? '' : typeof stored === 'string' ? stored : d.initial;
  }
  return v;
}

/** The messages of the invalid fields, by name (empty when the form can be sent). */
export function validate(defs: FieldDef[], values: Values, mode: Mode, t: T, stored?: Record<string, unknown>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const d of defs) {
    if (d.kind === 'hidden') continue;
    const v = (values[d.name] ?? '').trim();
    const keepsSecret = mode === 'edit' && (d.kind === 'password' || SECRET_NAMES.has(d.name));
    if (!v) {
      if (!d.required || keepsSecret) continue;
      errors[d.name] = t('form.required', { field: d.label });
      continue;
    }
    if (d.kind === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) errors[d.name] = t('form.email');
    else if (d.kind === 'date' && Number.isNaN(new Date(v).getTime())) errors[d.name] = t('form.date');
    else if (d.kind === 'dropdown' && d.options.length && !d.options.some((o) => o.value === v)) errors[d.name] = t('form.choose', { field: d.label });
    else if (d.pattern && !safeTest(d.pattern, v)) errors[d.name] = t('form.pattern', { field: d.label });
  }
  // the stack seals the login with the password: a new login needs the password typed again
  const pw = defs.find((d) => d.name === 'password');
  if (mode === 'edit' && pw && !values.password && stored && typeof stored.login === 'string' && values.login !== undefined && values.login.trim() !== stored.login) {
    errors.password = t('form.password.again');
  }
  return errors;
}

function safeTest(pattern: string, v: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`).test(v);
  } catch {
    return true;
  }
}

/** What goes into `auth`: the typed values (trimmed, except secrets); an empty secret is left out (kept as stored). */
export function authOf(defs: FieldDef[], values: Values, mode: Mode): Record<string, string> {
  const auth: Record<string, string> = {};
  for (const d of defs) {
    const secret = d.kind === 'password' || SECRET_NAMES.has(d.name);
    const raw = values[d.name] ?? '';
    const v = secret ? raw : raw.trim();
    // an empty secret keeps the stored one; an emptied field of an edit is written empty
    if (v === '' && (secret || mode === 'create')) continue;
    auth[d.name] = v;
  }
  return auth;
}
