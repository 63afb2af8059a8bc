/**
 * What every built-in app does first: read the data the stack wrote into its page (`data-cozy="{{.CozyData}}"` on the
 * `[role=application]` element: token, domain, locale, app…), build a cozy-client on it (its realtime plugin comes on
 * first use: realtime.ts), and apply the locale and the theme. cozy-client's core and its query DSL are imported from their own modules, not from
 * the package's index, which would bring React and react-redux along (the apps render with Preact).
 */
import CozyClient from 'cozy-client/dist/CozyClient';
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
  client: CozyClient;
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

export function boot(dicts: { en: Dict; fr: Dict }): Boot {
  const data = readCozyData();
  const scheme = location.protocol;
  const stackOrigin = `${scheme}//${data.domain}`;
  const client = new CozyClient({ uri: stackOrigin, token: data.token, appMetadata: { slug: data.app.slug, version: '1' } });
  const locale = localeOf(data.locale);
  document.documentElement.lang = locale;
  return {
    client,
    data,
    locale,
    t: makeT(dicts[locale], dicts.en),
    stackOrigin,
    appUrl: (slug, path = '') => `${scheme}//${appHost(data.domain, slug, data.subdomain)}/${path}`,
  };
}
