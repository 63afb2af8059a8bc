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

/**
 * `t` with more strings over it (a part of the page loaded on demand, which brings its own): a key of `dict` (or of
 * `fallback`, the English) is read there, any other key by `t`.
 */
export function withStrings(t: T, dict: Dict, fallback: Dict): T {
  const own = makeT(dict, fallback);
  return (key, vars) => (key in dict || key in fallback ? own(key, vars) : t(key, vars));
}

/**
 * One Intl formatter per locale and options, made on first use: building one costs about a millisecond (the locale's
 * data is loaded), formatting with it microseconds, and a listing formats two values per row at each render.
 */
const formatters = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat | Intl.Collator>();

function formatter<F extends Intl.NumberFormat | Intl.DateTimeFormat | Intl.Collator>(key: string, make: () => F): F {
  let f = formatters.get(key) as F | undefined;
  if (!f) { f = make(); formatters.set(key, f); }
  return f;
}

/**
 * Makes ahead the formatters a listing of files uses (of dates, of dates with the time, the collator that sorts names:
 * those it shows), each in a task of its own: the first formatter of a page loads the locale's data (tens of
 * milliseconds on a phone), which would otherwise lengthen the task that draws the first rows. Sizes need none
 * (formatBytes).
 */
export function prepareFormats(locale: 'en' | 'fr', shown: { date: boolean; time?: boolean; sort?: boolean } = { date: true }): void {
  const makes = [
    ...(shown.date ? [() => formatDate('2024-01-01T00:00:00Z', locale)] : []),
    ...(shown.time ? [() => formatDate('2024-01-01T00:00:00Z', locale, true)] : []),
    ...(shown.sort ? [() => compareNames(locale)] : []),
  ];
  for (const make of makes) setTimeout(make, 0);
}

/**
 * Sizes as a person reads them, in the locale's number format (1.5 MB, 1,5 Mo). Below 1,000 (every size short of
 * 1,000 TB) the number is written without Intl: the same digits as Intl.NumberFormat's, but the page's first
 * NumberFormat loads the locale's number data, a task of about 110 ms on a phone (4× slow-down), which a listing or
 * Home's recent files would otherwise pay in their first frames.
 */
export function formatBytes(n: number, locale: 'en' | 'fr'): string {
  const units = locale === 'fr' ? ['o', 'ko', 'Mo', 'Go', 'To'] : ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  const digits = i === 0 ? 0 : 1;
  return `${smallNumber(v, digits, locale) ?? formatter(`n:${locale}:${digits}`, () => new Intl.NumberFormat(locale, { maximumFractionDigits: digits })).format(v)} ${units[i]}`;
}

/** `v` (0 ≤ v < 1,000 once rounded) with at most `digits` (0 or 1) decimals, as Intl.NumberFormat writes it; else null. */
function smallNumber(v: number, digits: 0 | 1, locale: 'en' | 'fr'): string | null {
  // rounded half away from zero on the number's shortest decimal form, as Intl does (1.45 gives 1.5, toFixed 1.4)
  const m = /^(\d+)(?:\.(\d+))?$/.exec(String(v));
  if (!m) return null;
  const [, whole = '', fraction = ''] = m;
  const tenths = Number(whole + fraction.slice(0, digits).padEnd(digits, '0')) + ((fraction[digits] ?? '0') >= '5' ? 1 : 0);
  const unit = digits ? Math.floor(tenths / 10) : tenths;
  if (unit >= 1000) return null;
  const decimal = digits ? tenths % 10 : 0;
  return decimal ? `${unit}${locale === 'fr' ? ',' : '.'}${decimal}` : String(unit);
}

export function formatDate(iso: string | undefined, locale: 'en' | 'fr', withTime = false): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const options: Intl.DateTimeFormatOptions = withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' };
  return formatter(`d:${locale}:${withTime ? 1 : 0}`, () => new Intl.DateTimeFormat(locale, options)).format(d);
}

/**
 * The locale's order of names, for `sort`: one collator per locale (String's `localeCompare(b, locale)` makes one at
 * each call, about a millisecond each on a phone).
 */
export function compareNames(locale: 'en' | 'fr'): (a: string, b: string) => number {
  return formatter(`c:${locale}`, () => new Intl.Collator(locale)).compare;
}
