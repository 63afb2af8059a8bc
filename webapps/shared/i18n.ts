/**
 * A small translator, English and French: `t('files.count', { n: 3 })`. Strings use cozy's `%{name}` placeholders;
 * plural forms are `one || other` separated by ` |||| ` (the polyglot convention cozy apps' locale files use), chosen by
 * `n`. A key missing in French falls back to English, then to the key itself (visible, never empty).
 */
export type Dict = Record<string, string>;
export type T = (key: string, vars?: Record<string, string | number>) => string;

export function localeOf(tag: string | undefined): 'en' | 'fr' {
  return (tag ?? '').toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

export function makeT(dict: Dict, fallback: Dict): T {
  return (key, vars = {}) => {
    let s = dict[key] ?? fallback[key] ?? key;
    if (s.includes(' |||| ')) {
      const [one = '', other = one] = s.split(' |||| ');
      const n = Number(vars.n ?? vars.smart_count ?? 0);
      s = Math.abs(n) === 1 ? one : other;
    }
    return s.replace(/%\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
  };
}

/** Sizes as a person reads them, in the locale's number format (1.5 MB, 1,5 Mo). */
export function formatBytes(n: number, locale: 'en' | 'fr'): string {
  const units = locale === 'fr' ? ['o', 'ko', 'Mo', 'Go', 'To'] : ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: i === 0 ? 0 : 1 }).format(v)} ${units[i]}`;
}

export function formatDate(iso: string | undefined, locale: 'en' | 'fr', withTime = false): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(locale, withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' }).format(d);
}
