/**
 * Home's early script (deferred, before the bundle in index.html, so that it runs first, while the bundle is on its way
 * or at least before the first paint): makes once the Intl objects of the page's locale that Home's parts use (a
 * date, a date with its time, the collator that orders the apps), and drops them. The page's first Intl object loads
 * ICU's data for the locale, 65 to 130 ms under a phone's CPU (4× slow-down), and each kind's first one a few tens
 * more; made here, before the first paint, that time is not a long task after it (Lighthouse's blocking time), and
 * the bundle's own formatters (shared/i18n.ts, made after the first paint) each take a few milliseconds. Imports only
 * `localeOf`, so that the script stays small.
 */
import { localeOf } from '../../shared/i18n';

function warm(): void {
  const raw = document.querySelector('[role=application][data-cozy]')?.getAttribute('data-cozy');
  let tag: string | undefined;
  try { tag = (JSON.parse(raw ?? '{}') as { locale?: string }).locale; } catch { /* the bundle says what is wrong */ }
  const locale = localeOf(tag);
  const day = new Date(0);
  new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(day);
  new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(day);
  new Intl.Collator(locale).compare('a', 'b');
}

if (typeof document !== 'undefined') warm();
