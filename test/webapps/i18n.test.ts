/**
 * The apps' number and date formatting (webapps/shared/i18n.ts) in both locales, with one Intl formatter per locale
 * and options: Drive formats a size and a date per row at each render, and building a formatter is what costs
 * (about a millisecond each; re-built per call, they were the two heaviest functions of Drive's first render).
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

interface I18n {
  formatBytes(n: number, locale: 'en' | 'fr'): string;
  formatDate(iso: string | undefined, locale: 'en' | 'fr', withTime?: boolean): string;
  prepareFormats(locale: 'en' | 'fr', shown?: { size: boolean; date: boolean; time?: boolean; sort?: boolean }): void;
  compareNames(locale: 'en' | 'fr'): (a: string, b: string) => number;
}
let formatBytes: I18n['formatBytes'];
let formatDate: I18n['formatDate'];
let source: string;
/** A fresh instance of the module (its own formatters). */
const instance = (): I18n => {
  const module = { exports: {} as I18n };
  new Function('module', 'exports', source)(module, module.exports);
  return module.exports;
};

// the module as the apps' bundles have it (webapps/ is type-checked for the browser, on its own tsconfig)
beforeAll(async () => {
  const r = await build({ entryPoints: [join(import.meta.dirname, '..', '..', 'webapps', 'shared', 'i18n.ts')], bundle: true, write: false, format: 'cjs', platform: 'neutral', logLevel: 'error' });
  source = r.outputFiles[0]!.text;
  ({ formatBytes, formatDate } = instance());
});

afterEach(() => { vi.restoreAllMocks(); });

describe('formatBytes and formatDate', () => {
  it('write sizes and dates in the locale', () => {
    expect(formatBytes(999, 'en')).toBe('999 B');
    expect(formatBytes(1_500_000, 'en')).toBe('1.5 MB');
    expect(formatBytes(1_500_000, 'fr')).toBe('1,5 Mo');
    expect(formatBytes(2_000_000_000_000_000, 'en')).toBe('2,000 TB');
    expect(formatDate('2024-03-05T10:20:00Z', 'en')).toMatch(/^Mar 5, 2024$/);
    expect(formatDate('2024-03-05T10:20:00Z', 'fr')).toMatch(/^5 mars 2024$/);
    expect(formatDate('2024-03-05T10:20:00Z', 'en', true)).toMatch(/^Mar 5, 2024, \d{1,2}:\d{2}\s?[AP]M$/);
    expect(formatDate(undefined, 'en')).toBe('');
    expect(formatDate('not a date', 'en')).toBe('');
  });

  it('write a size short of 1,000 TB with the digits Intl.NumberFormat gives, without building one', () => {
    const fresh = instance();
    const numbers = vi.spyOn(Intl, 'NumberFormat');
    // rounding on the shortest decimal form (1.45 kB is 1.5, as Intl writes it; toFixed(1) gives 1.4), the carry
    // to 1,000 (999.95 kB, written by Intl: "1,000 kB"), every unit, both locales
    const sizes = [0, 1, 999, 1_000, 1_049, 1_050, 1_450, 1_250, 12_350, 150, 999_949, 1_500_000, 2_675_000, 7_919 * 123, 999_949_999_999_999];
    for (let i = 1; i < 400; i++) sizes.push(Math.round(1.37 ** (i / 8) * 997), i * 1_049, i * 999_931);
    const written = sizes.flatMap((n) => [fresh.formatBytes(n, 'en'), fresh.formatBytes(n, 'fr')]);
    expect(numbers).not.toHaveBeenCalled();
    vi.restoreAllMocks();
    const expected = sizes.flatMap((n) => (['en', 'fr'] as const).map((locale) => {
      const units = locale === 'fr' ? ['o', 'ko', 'Mo', 'Go', 'To'] : ['B', 'kB', 'MB', 'GB', 'TB'];
      let i = 0;
      let v = n;
      while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
      return `${new Intl.NumberFormat(locale, { maximumFractionDigits: i === 0 ? 0 : 1 }).format(v)} ${units[i]}`;
    }));
    expect(written).toEqual(expected);
    expect(fresh.formatBytes(1_450, 'en')).toBe('1.5 kB');
    expect(fresh.formatBytes(999_950, 'fr')).toBe(new Intl.NumberFormat('fr', { maximumFractionDigits: 1 }).format(999.95) + ' ko');
  });

  it('build each formatter once, however many rows they format', () => {
    // warm: the formatters of these options may already exist from the test above
    formatBytes(1, 'en'); formatBytes(1_500, 'en'); formatDate('2024-01-01T00:00:00Z', 'en'); formatDate('2024-01-01T00:00:00Z', 'en', true);
    const numbers = vi.spyOn(Intl, 'NumberFormat');
    const dates = vi.spyOn(Intl, 'DateTimeFormat');
    const sizes = Array.from({ length: 500 }, (_, i) => formatBytes(i * 7_919, 'en'));
    const days = Array.from({ length: 500 }, (_, i) => formatDate(new Date(Date.UTC(2024, 0, 1 + i)).toISOString(), 'en', i % 2 === 0));
    expect(new Set(sizes).size).toBeGreaterThan(100);
    expect(new Set(days).size).toBe(500);
    expect(numbers).not.toHaveBeenCalled();
    expect(dates).not.toHaveBeenCalled();
  });

  it('are made ahead by prepareFormats, in later tasks, so that drawing the first rows builds none', async () => {
    const fresh = instance();
    let numbers = vi.spyOn(Intl, 'NumberFormat');
    let dates = vi.spyOn(Intl, 'DateTimeFormat');
    fresh.prepareFormats('fr');
    // nothing built in the caller's task
    expect(numbers).not.toHaveBeenCalled();
    expect(dates).not.toHaveBeenCalled();
    vi.restoreAllMocks();
    await new Promise((r) => setTimeout(r, 20));
    numbers = vi.spyOn(Intl, 'NumberFormat');
    dates = vi.spyOn(Intl, 'DateTimeFormat');
    expect([fresh.formatBytes(12, 'fr'), fresh.formatBytes(1_500, 'fr'), fresh.formatDate('2024-03-05T10:20:00Z', 'fr')]).toEqual(['12 o', '1,5 ko', '5 mars 2024']);
    expect(numbers).not.toHaveBeenCalled();
    expect(dates).not.toHaveBeenCalled();
  });

  it('are made by prepareFormats only for the columns shown (no sizes on a phone\'s list)', async () => {
    const fresh = instance();
    const numbers = vi.spyOn(Intl, 'NumberFormat');
    fresh.prepareFormats('en', { size: false, date: true });
    await new Promise((r) => setTimeout(r, 20));
    expect(numbers).not.toHaveBeenCalled();
    vi.restoreAllMocks();
    const dates = vi.spyOn(Intl, 'DateTimeFormat');
    expect(fresh.formatDate('2024-03-05T10:20:00Z', 'en')).toBe('Mar 5, 2024');
    expect(dates).not.toHaveBeenCalled();
  });

  it('make ahead the dates with their time and the order of names when asked (Home: its konnectors\' last run, its apps)', async () => {
    const fresh = instance();
    fresh.prepareFormats('fr', { size: false, date: false, time: true, sort: true });
    await new Promise((r) => setTimeout(r, 20));
    const dates = vi.spyOn(Intl, 'DateTimeFormat');
    const collators = vi.spyOn(Intl, 'Collator');
    expect(fresh.formatDate('2024-03-05T10:20:00Z', 'fr', true)).toMatch(/^5 mars 2024/);
    expect(['Zèbre', 'écran', 'Agenda', 'zoo'].sort(fresh.compareNames('fr'))).toEqual(['Agenda', 'écran', 'Zèbre', 'zoo']);
    expect(dates).not.toHaveBeenCalled();
    expect(collators).not.toHaveBeenCalled();
  });
});

describe('compareNames', () => {
  it('orders names as the locale does, with one collator per locale however many names it compares', () => {
    const fresh = instance();
    expect(['b', 'Émile', 'a', 'E', 'z'].sort(fresh.compareNames('en'))).toEqual(['a', 'b', 'E', 'Émile', 'z']);
    const collators = vi.spyOn(Intl, 'Collator');
    const names = Array.from({ length: 200 }, (_, i) => `App ${(i * 37) % 200}`);
    names.sort(fresh.compareNames('en'));
    expect(names.slice(0, 3)).toEqual(['App 0', 'App 1', 'App 10']);
    expect(collators).not.toHaveBeenCalled();
  });
});
