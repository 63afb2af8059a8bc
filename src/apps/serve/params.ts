/** The values of an app index's template (cozy-stack's serveParams; the contract's table, §2). */
import type { HearthConfig } from '../../config/types.js';
import type { Instance } from '../../instances/types.js';
import { capabilitiesOf } from '../../settings/routes.js';
import { flagsOf } from '../../settings/flags.js';
import { effectiveTheme, themeCss } from '../../settings/theme.js';
import type { StackAssets } from '../assets/assets.js';
import type { AppDoc } from '../types.js';
import type { TemplateValue } from './template.js';

export interface ParamsInput {
  config: HearthConfig;
  assets: StackAssets;
  instance: Instance;
  /** The instance's host as the request reached it (its domain or an alias). */
  domain: string;
  app: AppDoc;
  token: string;
  loggedIn: boolean;
  /** The instance's stored theme, when the page has a `{{.ThemeStyle}}` (undefined: it has none, not read). */
  theme?: string | null;
}

/** Everything of a page but the token, for one instance host, locale and app version: built once, then reused. */
function baseParams(p: Omit<ParamsInput, 'token' | 'theme'>, flags: Record<string, unknown>, capabilities: Record<string, unknown>): { base: Record<string, TemplateValue>; cozyDataTail: string } {
  const { app, assets, domain } = p;
  const locale = p.instance.locale;
  const localized = app.locales?.[locale]?.name;
  const name = typeof localized === 'string' && localized ? localized : (app.name ?? '');
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const subdomain = p.config.apps.subdomains;
  const tracking = false; // Hearth's settings document has no `tracking` field: never "true"
  const fonts = `<link rel="stylesheet" type="text/css" href="${assets.url(domain, 'fonts/fonts.css')}">`;
  const appInfo = { editor: str(app.editor), name, prefix: str(app.name_prefix), slug: app.slug, icon: str(app.icon) };
  // CozyData is {token, …}: the part after the token, so that a request only splices its token in
  const cozyDataTail = JSON.stringify({ domain, subdomain, tracking, locale, isLoggedIn: p.loggedIn, app: appInfo, flags, capabilities }).slice(1);
  const base: Record<string, TemplateValue> = {
    Domain: domain,
    ContextName: 'default',
    Locale: locale,
    AppSlug: app.slug,
    AppName: name,
    AppEditor: appInfo.editor,
    AppNamePrefix: appInfo.prefix,
    IconPath: appInfo.icon,
    SubDomain: subdomain,
    Tracking: tracking,
    Capabilities: JSON.stringify(capabilities),
    Flags: JSON.stringify(flags),
    CozyBar: { html: `${fonts}\n<link rel="stylesheet" type="text/css" href="${assets.url(domain, 'css/cozy-bar.min.css')}">\n<script src="${assets.url(domain, 'js/cozy-bar.min.js')}"></script>` },
    CozyClientJS: { html: `<script src="${assets.url(domain, 'js/cozy-client.min.js')}"></script>` },
    CozyFonts: { html: fonts },
    ThemeCSS: { html: `<link rel="stylesheet" type="text/css" href="${assets.url(domain, 'styles/theme.css')}">` },
    Favicon: {
      html: `<link rel="icon" href="${assets.url(domain, 'favicon.ico')}">\n<link rel="icon" type="image/svg+xml" href="${assets.url(domain, 'icon.svg')}">\n`
        + `<link rel="apple-touch-icon" sizes="180x180" href="${assets.url(domain, 'apple-touch-icon.png')}">\n<link rel="manifest" href="${assets.url(domain, 'manifest.webmanifest')}">`,
    },
    DefaultWallpaper: assets.url(domain, 'images/default-wallpaper.jpg'),
    Warnings: { html: '' }, // Hearth has no instance warnings (terms to sign…) yet
  };
  return { base, cozyDataTail };
}

const MAX = 10_000;

/**
 * `{{.ThemeStyle}}` (a Hearth extension, which the built-in apps use in place of `{{.ThemeCSS}}`): the instance theme's
 * variables inline, so that the first paint does not wait for a request to the stack's origin, then the same
 * `theme.css` link as `{{.ThemeCSS}}` with `media="print"`, which does not block the paint (the page sets its media to
 * `all`: a theme change reloads that link). The theme's values are checked when saved (settings/theme.ts); a stylesheet
 * holding `<` all the same is left to the link alone.
 */
export function themeStyle(assets: StackAssets, domain: string, storedTheme: string | null): { html: string } {
  const href = assets.url(domain, 'styles/theme.css');
  const { css } = themeCss(effectiveTheme(storedTheme));
  if (css.includes('<')) return { html: `<link rel="stylesheet" type="text/css" href="${href}">` };
  return { html: `<style>${css}</style>\n<link rel="stylesheet" type="text/css" href="${href}" media="print">` };
}

/** The template values of pages, the parts that do not change between requests kept per (instance, host, locale, app version, login). */
export class TemplateParams {
  private readonly cache = new Map<string, ReturnType<typeof baseParams>>();
  private readonly themes = new Map<string, { html: string }>();
  private readonly flags: Record<string, unknown>;
  private readonly capabilities: Record<string, unknown>;

  constructor(config: HearthConfig) {
    this.flags = flagsOf(config.settings.flags);
    this.capabilities = capabilitiesOf(config);
  }

  values(p: ParamsInput): Record<string, TemplateValue> {
    const { app } = p;
    const key = [p.instance.id, p.domain, p.instance.locale, app.slug, app.version, app.checksum, app._rev ?? app.updated_at, p.loggedIn].join('\n');
    let hit = this.cache.get(key);
    if (!hit) {
      if (this.cache.size >= MAX) this.cache.clear();
      hit = baseParams(p, this.flags, this.capabilities);
      this.cache.set(key, hit);
    }
    const values: Record<string, TemplateValue> = { ...hit.base, Token: p.token, CozyData: `{"token":${JSON.stringify(p.token)},${hit.cozyDataTail}` };
    if (p.theme !== undefined) values.ThemeStyle = this.themeStyle(p.domain, p.theme, p.assets);
    return values;
  }

  private themeStyle(domain: string, stored: string | null, assets: StackAssets): { html: string } {
    const key = `${domain}\n${stored ?? ''}`;
    let hit = this.themes.get(key);
    if (!hit) {
      if (this.themes.size >= MAX) this.themes.clear();
      hit = themeStyle(assets, domain, stored);
      this.themes.set(key, hit);
    }
    return hit;
  }
}
