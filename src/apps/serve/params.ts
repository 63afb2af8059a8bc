/** The values of an app index's template (cozy-stack's serveParams; the contract's table, §2). */
import type { HearthConfig } from '../../config/types.js';
import type { Instance } from '../../instances/types.js';
import { capabilitiesOf } from '../../settings/routes.js';
import { flagsOf } from '../../settings/flags.js';
import { effectiveTheme, themeCss } from '../../settings/theme.js';
import { listWarnings, warningsHtml } from '../../settings/warnings.js';
import { contextOf } from '../../instances/context.js';
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
  /** The context's asset overrides (apps/assets/context-assets.ts): plain name → hashed name, and their generation. */
  overrides?: { names: Map<string, string>; generation: number };
  /** The instance's stored theme, when the page has a `{{.ThemeStyle}}` (undefined: it has none, not read). */
  theme?: string | null;
}

/** Everything of a page but the token, for one instance host, locale and app version: built once, then reused. */
function baseParams(p: Omit<ParamsInput, 'token' | 'theme'>, flags: Record<string, unknown>, capabilities: Record<string, unknown>): { base: Record<string, TemplateValue>; cozyDataTail: string } {
  const { app, domain } = p;
  const assets = assetsOf(p);
  const locale = p.instance.locale;
  const localized = app.locales?.[locale]?.name;
  const name = typeof localized === 'string' && localized ? localized : (app.name ?? '');
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const subdomain = p.config.apps.subdomains;
  const tracking = p.instance.tracking === true; // the settings document's `tracking` (PUT /settings/instance), as cozy-stack reads it
  const fonts = `<link rel="stylesheet" type="text/css" href="${assets.url(domain, 'fonts/fonts.css')}">`;
  const appInfo = { editor: str(app.editor), name, prefix: str(app.name_prefix), slug: app.slug, icon: str(app.icon) };
  // CozyData is {token, …}: the part after the token, so that a request only splices its token in
  const cozyDataTail = JSON.stringify({ domain, subdomain, tracking, locale, isLoggedIn: p.loggedIn, app: appInfo, flags, capabilities }).slice(1);
  const base: Record<string, TemplateValue> = {
    Domain: domain,
    ContextName: contextOf(p.instance),
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
  };
  return { base, cozyDataTail };
}

const MAX = 10_000;

/** The assets' URLs of a page: an asset the instance's context overrides is linked by the override's own hashed name. */
function assetsOf(p: Pick<ParamsInput, 'assets' | 'overrides'>): Pick<StackAssets, 'url'> {
  const names = p.overrides?.names;
  return { url: (d, name) => (names?.has(name) ? `//${d}/assets/${names.get(name)}` : p.assets.url(d, name)) };
}

/**
 * `{{.ThemeStyle}}` (a Hearth extension, which the built-in apps use in place of `{{.ThemeCSS}}`): the instance theme's
 * variables inline, so that the first paint does not wait for a request to the stack's origin, then the same
 * `theme.css` link as `{{.ThemeCSS}}` with `media="print"`, which does not block the paint (the page sets its media to
 * `all`: a theme change reloads that link). The theme's values are checked when saved (settings/theme.ts); a stylesheet
 * holding `<` all the same is left to the link alone, and so is a theme.css that the instance's context overrides (the
 * context's stylesheet replaces the instance's theme).
 */
export function themeStyle(assets: Pick<StackAssets, 'url'>, domain: string, storedTheme: string | null, overridden = false): { html: string } {
  const href = assets.url(domain, 'styles/theme.css');
  const { css } = themeCss(effectiveTheme(storedTheme));
  if (overridden || css.includes('<')) return { html: `<link rel="stylesheet" type="text/css" href="${href}">` };
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
    const key = [p.instance.id, p.domain, p.instance.locale, contextOf(p.instance), p.overrides?.generation ?? 0, p.instance.tracking === true, app.slug, app.version, app.checksum, app._rev ?? app.updated_at, p.loggedIn].join('\n');
    let hit = this.cache.get(key);
    if (!hit) {
      if (this.cache.size >= MAX) this.cache.clear();
      hit = baseParams(p, this.flags, this.capabilities);
      this.cache.set(key, hit);
    }
    // the warnings depend on the time (a terms date): computed per page, from the instance as this request read it
    const Warnings = { html: warningsHtml(listWarnings(p.instance, p.config.settings.tosLink), p.loggedIn) };
    const values: Record<string, TemplateValue> = { ...hit.base, Token: p.token, CozyData: `{"token":${JSON.stringify(p.token)},${hit.cozyDataTail}`, Warnings };
    if (p.theme !== undefined) values.ThemeStyle = this.themeStyle(p, p.theme);
    return values;
  }

  private themeStyle(p: ParamsInput, stored: string | null): { html: string } {
    if (p.overrides?.names.has('styles/theme.css')) return themeStyle(assetsOf(p), p.domain, stored, true);
    const key = `${p.domain}\n${stored ?? ''}`;
    let hit = this.themes.get(key);
    if (!hit) {
      if (this.themes.size >= MAX) this.themes.clear();
      hit = themeStyle(p.assets, p.domain, stored);
      this.themes.set(key, hit);
    }
    return hit;
  }
}
