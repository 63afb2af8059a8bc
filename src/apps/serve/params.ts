/** The values of an app index's template (cozy-stack's serveParams; the contract's table, §2). */
import type { HearthConfig } from '../../config/types.js';
import type { Instance } from '../../instances/types.js';
import { capabilitiesOf, flagsOf } from '../../settings/routes.js';
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
}

export function templateParams(p: ParamsInput): Record<string, TemplateValue> {
  const { app, assets, domain } = p;
  const locale = p.instance.locale;
  const localized = app.locales?.[locale]?.name;
  const name = typeof localized === 'string' && localized ? localized : (app.name ?? '');
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const capabilities = capabilitiesOf(p.config);
  const flags = flagsOf(p.config.settings.flags);
  const subdomain = p.config.apps.subdomains;
  const tracking = false; // Hearth's settings document has no `tracking` field: never "true"
  const fonts = `<link rel="stylesheet" type="text/css" href="${assets.url(domain, 'fonts/fonts.css')}">`;
  const appInfo = { editor: str(app.editor), name, prefix: str(app.name_prefix), slug: app.slug, icon: str(app.icon) };
  return {
    Token: p.token,
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
    CozyData: JSON.stringify({
      token: p.token, domain, subdomain, tracking, locale, isLoggedIn: p.loggedIn, app: appInfo, flags, capabilities,
    }),
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
}
