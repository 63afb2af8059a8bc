/**
 * What every built-in app does first: read the data the stack wrote into its page (`data-cozy="{{.CozyData}}"` on the
 * `[role=application]` element: token, domain, locale, app…), make the app's client on it (client.ts: cozy-client,
 * loaded after the first paint; realtime on first use: realtime.ts), and apply the locale and the theme. cozy-client's
 * core is imported from its own module, not from the package's index, which would bring React and react-redux along
 * (the apps render with Preact).
 */
import { AppClient } from './client';
import { makeT, localeOf, type Dict, type T } from './i18n';

export interface CozyData {
  token: string;
  domain: string;
  subdomain: 'nested' | 'flat';
  locale: string;
  tracking?: string;
  app: { editor: string; name: string; slug: string; prefix: string; icon: string };
  flags?: Record<string, unknown>;
  capabilities?: Record<string, unknown>;
}

export interface Boot {
  client: AppClient;
  data: CozyData;
  t: T;
  locale: 'en' | 'fr';
  /** The stack's own origin (`http://alice.example.org`): the API, the login page, the other apps' links. */
  stackOrigin: string;
  /** The URL of another app of the same instance (`appUrl('drive', '#/folder/x')`). */
  appUrl(slug: string, path?: string): string;
}

export function readCozyData(root: Element | null = document.querySelector('[role=application][data-cozy]')): CozyData {
  const raw = root?.getAttribute('data-cozy');
  if (!raw) throw new Error('This page was not served by Hearth (no data-cozy attribute).');
  return JSON.parse(raw) as CozyData;
}

/** `nested`: <slug>.<domain>; `flat`: <first>-<slug>.<rest>, as the stack names app hosts. */
export function appHost(domain: string, slug: string, mode: 'nested' | 'flat'): string {
  if (mode === 'nested') return `${slug}.${domain}`;
  const dot = domain.indexOf('.');
  return dot < 0 ? `${domain}-${slug}` : `${domain.slice(0, dot)}-${slug}${domain.slice(dot)}`;
}

/**
 * The page's theme comes inline (`{{.ThemeStyle}}`), then as the theme.css link with `media="print"`, which does not
 * hold the first paint back: switched to all media once loaded (the same values), so that a theme change can reload it
 * (settings' appearance.tsx) and the page shows the new theme.
 */
export function themeLinkOn(doc: Document = document): void {
  for (const link of doc.querySelectorAll<HTMLLinkElement>('link[rel=stylesheet][media=print][href*="theme.css"]')) {
    if (link.sheet) link.media = 'all';
    else link.addEventListener('load', () => { link.media = 'all'; }, { once: true });
  }
}

export function boot(dicts: { en: Dict; fr: Dict }): Boot {
  const data = readCozyData();
  const scheme = location.protocol;
  const stackOrigin = `${scheme}//${data.domain}`;
  const client = new AppClient({ uri: stackOrigin, token: data.token, slug: data.app.slug });
  const locale = localeOf(data.locale);
  document.documentElement.lang = locale;
  themeLinkOn();
  return {
    client,
    data,
    locale,
    t: makeT(dicts[locale], dicts.en),
    stackOrigin,
    appUrl: (slug, path = '') => `${scheme}//${appHost(data.domain, slug, data.subdomain)}/${path}`,
  };
}
