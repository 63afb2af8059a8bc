/**
 * The instance's theme: colours (light and dark) and a font, served as CSS variables at
 * /settings/theme.css with cozy-ui's variable names (`--primaryColor`, `--paperBackgroundColor`…) so
 * that cozy apps pick them up. The defaults are the look of Hearth's own pages (auth/login-page.ts).
 *
 * Every value reaches a stylesheet, so it is checked against a closed grammar, never escaped:
 * colours are `#rgb`, `#rgba`, `#rrggbb` or `#rrggbbaa`; the font is a list of family names made of
 * letters, digits, spaces and hyphens (written quoted) or CSS generic families. Nothing else
 * (`;`, `}`, `url(`, comments, quotes, backslashes, new lines) can get in.
 */
import { createHash } from 'node:crypto';
import { BadRequest } from '../common/errors.js';

export const COLOR_KEYS = [
  'primary', 'primary_contrast_text', 'background', 'paper', 'text', 'secondary_text', 'divider', 'border', 'error', 'success', 'warning', 'focus',
] as const;
export type ColorKey = (typeof COLOR_KEYS)[number];
export type Colors = Record<ColorKey, string>;

/** cozy-ui's names; `--focusColor` is Hearth's own (the focus ring). */
const CSS_VARS: Record<ColorKey, string> = {
  primary: '--primaryColor', primary_contrast_text: '--primaryContrastTextColor', background: '--defaultBackgroundColor',
  paper: '--paperBackgroundColor', text: '--primaryTextColor', secondary_text: '--secondaryTextColor', divider: '--dividerColor',
  border: '--borderMainColor', error: '--errorColor', success: '--successColor', warning: '--warningColor', focus: '--focusColor',
};

export interface Theme {
  colors: Colors;
  dark_colors: Colors;
  font_family: string;
}

/** What the owner set (each part optional): the stored form. */
export type ThemeOverrides = { colors?: Partial<Colors>; dark_colors?: Partial<Colors>; font_family?: string };

export const DEFAULT_THEME: Theme = {
  colors: {
    primary: '#1d4ed8', primary_contrast_text: '#ffffff', background: '#f4f5f7', paper: '#ffffff', text: '#1d2330', secondary_text: '#5b6475',
    divider: '#d5d9e2', border: '#8a93a6', error: '#b3261e', success: '#14532d', warning: '#8a5a00', focus: '#f59e0b',
  },
  dark_colors: {
    primary: '#9db8ff', primary_contrast_text: '#12151c', background: '#12151c', paper: '#1d2330', text: '#e8eaf0', secondary_text: '#aab2c3',
    divider: '#343b4d', border: '#8a93a6', error: '#ffb4ab', success: '#a7f3c0', warning: '#ffd58a', focus: '#f59e0b',
  },
  font_family: 'system-ui, sans-serif',
};

const COLOR_RE = /^#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/;
const GENERIC_FONTS = new Set(['serif', 'sans-serif', 'monospace', 'cursive', 'fantasy', 'system-ui', 'ui-serif', 'ui-sans-serif', 'ui-monospace', 'ui-rounded']);
const FAMILY_RE = /^[A-Za-z0-9][A-Za-z0-9 -]{0,62}$/;

function checkColors(v: unknown, field: string): Partial<Colors> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BadRequest(`"${field}" must be an object of colours, e.g. {"primary":"#1d4ed8"}`);
  const out: Partial<Colors> = {};
  for (const [k, c] of Object.entries(v)) {
    if (!(COLOR_KEYS as readonly string[]).includes(k)) throw new BadRequest(`"${field}.${k.slice(0, 40)}" is not a theme colour: use ${COLOR_KEYS.join(', ')}`);
    if (typeof c !== 'string' || !COLOR_RE.test(c)) throw new BadRequest(`"${field}.${k}" must be a hex colour: #rgb, #rgba, #rrggbb or #rrggbbaa`);
    out[k as ColorKey] = c.toLowerCase();
  }
  return out;
}

/** The font list normalised: families quoted, generic ones bare, separated by ", ". */
function checkFont(v: unknown): string {
  const parts = typeof v === 'string' && v.length <= 300 ? v.split(',').map((p) => p.trim().replace(/^"(.*)"$/, '$1')) : [];
  if (parts.length === 0 || parts.length > 8 || parts.some((p) => !FAMILY_RE.test(p))) {
    throw new BadRequest('"font_family" must be up to 8 font names (letters, digits, spaces, hyphens) separated by commas, e.g. "Lato, sans-serif"');
  }
  return parts.map((p) => (GENERIC_FONTS.has(p.toLowerCase()) ? p.toLowerCase() : `"${p}"`)).join(', ');
}

/** Validates a `PUT /settings/theme` body (attributes): only the known keys, each in its grammar. */
export function checkTheme(a: Record<string, unknown>): ThemeOverrides {
  const out: ThemeOverrides = {};
  for (const k of Object.keys(a)) {
    if (k !== 'colors' && k !== 'dark_colors' && k !== 'font_family') throw new BadRequest(`"${k.slice(0, 40)}" is not a theme setting: use colors, dark_colors and font_family`);
  }
  if (a.colors !== undefined) out.colors = checkColors(a.colors, 'colors');
  if (a.dark_colors !== undefined) out.dark_colors = checkColors(a.dark_colors, 'dark_colors');
  if (a.font_family !== undefined) out.font_family = checkFont(a.font_family);
  return out;
}

/** The stored overrides over the defaults. A stored value that no longer passes the checks is dropped (never served). */
export function effectiveTheme(stored: string | null): Theme {
  let o: ThemeOverrides = {};
  if (stored) {
    try {
      o = checkTheme(JSON.parse(stored) as Record<string, unknown>);
    } catch {
      o = {};
    }
  }
  return {
    colors: { ...DEFAULT_THEME.colors, ...o.colors },
    dark_colors: { ...DEFAULT_THEME.dark_colors, ...o.dark_colors },
    font_family: o.font_family ?? DEFAULT_THEME.font_family,
  };
}

function block(colors: Colors, font?: string): string {
  const lines = COLOR_KEYS.map((k) => `  ${CSS_VARS[k]}: ${colors[k]};`);
  // --primaryFont is the one the built-in apps' stylesheet (webapps/shared/ui.css) reads
  if (font) lines.push(`  --fontFamily: ${font};`, `  --primaryFont: ${font};`);
  return `:root {\n${lines.join('\n')}\n}`;
}

export function themeCss(theme: Theme): { css: string; etag: string } {
  const css = `/* Hearth instance theme: cozy-ui variables (light, then dark) */\n${block(theme.colors, theme.font_family)}\n`
    + `@media (prefers-color-scheme: dark) {\n${block(theme.dark_colors).replace(/^/gm, '  ')}\n}\n`;
  return { css, etag: `"${createHash('sha256').update(css).digest('hex').slice(0, 32)}"` };
}
