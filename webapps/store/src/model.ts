/** What the Store reads out of manifests: names and texts in the locale, categories, versions, the permissions' changes. */
import type { Installed, Manifest, Perm, RegistryApp } from './api';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

/** A manifest field in the locale (`locales.fr.name`), else the manifest's own, else ''. */
export function localized(m: Manifest | undefined, field: string, locale: string): string {
  if (!m) return '';
  return str(m.locales?.[locale]?.[field]) ?? str(m[field]) ?? '';
}

export const nameOf = (m: Manifest | undefined, slug: string, locale: string): string => localized(m, 'name', locale) || slug;
export const manifestOf = (a: RegistryApp): Manifest | undefined => a.latest_version?.manifest;

export function categoriesOf(a: RegistryApp): string[] {
  const m = manifestOf(a);
  const list = Array.isArray(m?.categories) ? m.categories.filter((c): c is string => typeof c === 'string') : [];
  const one = str(a.category) ?? str(m?.category);
  return [...new Set(one ? [...list, one] : list)];
}

/** Whether `b` is a greater X.Y.Z than `a` (pre-release suffixes compare as text after the numbers). */
export function isNewer(b: string | undefined, a: string | undefined): boolean {
  if (!b || !a || a === b) return false;
  const parse = (v: string) => {
    const [core = '', pre = ''] = v.split('-', 2);
    return { nums: core.split('.').map((n) => Number.parseInt(n, 10) || 0), pre };
  };
  const x = parse(b);
  const y = parse(a);
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  if (x.pre === y.pre) return false;
  return x.pre === '' ? true : y.pre === '' ? false : x.pre > y.pre;
}

/** The version an installed app can be updated to: the one waiting for the owner's yes, or the registry's newer one. */
export function updateOf(installed: Installed | undefined, app: RegistryApp | undefined): string | null {
  if (!installed) return null;
  const latest = app?.latest_version?.version;
  if (installed.available_version && installed.available_version !== installed.version) return installed.available_version;
  return isNewer(latest, installed.version) ? (latest as string) : null;
}

const key = (p: Perm): string => JSON.stringify([p.type, [...(p.verbs ?? ['ALL'])].sort(), [...(p.values ?? [])].sort()]);

/** The permissions of `next` that `prev` did not have, as they are (new doctype, more verbs, other values). */
export function newPermissions(prev: Manifest['permissions'], next: Manifest['permissions']): Perm[] {
  const had = new Set(Object.values(prev ?? {}).map(key));
  return Object.values(next ?? {}).filter((p) => !had.has(key(p)));
}

/** Only http(s) links are shown (a manifest is hostile: no javascript: URLs). */
export function safeUrl(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}
