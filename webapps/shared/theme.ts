/**
 * The instance theme in the browser: its keys and the cozy-ui CSS variables they set (as src/settings/theme.ts writes
 * /settings/theme.css), and `applyTheme`, which sets a theme on the page at once: a stylesheet of its own after the
 * others, light colours on :root and dark ones under `prefers-color-scheme: dark`, as theme.css does.
 */
export const THEME_KEYS = ['primary', 'primary_contrast_text', 'background', 'paper', 'text', 'secondary_text', 'divider', 'border', 'error', 'success', 'warning', 'focus'] as const;
export type ThemeKey = (typeof THEME_KEYS)[number];
export type ThemeColors = Record<ThemeKey, string>;
export interface Theme { colors: ThemeColors; dark_colors: ThemeColors; font_family: string }

export const THEME_VARS: Record<ThemeKey, string> = {
  primary: '--primaryColor', primary_contrast_text: '--primaryContrastTextColor', background: '--defaultBackgroundColor', paper: '--paperBackgroundColor',
  text: '--primaryTextColor', secondary_text: '--secondaryTextColor', divider: '--dividerColor', border: '--borderMainColor', error: '--errorColor',
  success: '--successColor', warning: '--warningColor', focus: '--focusColor',
};

/** The same closed grammars as the stack's (it checked them already; what reaches a stylesheet is checked again here). */
const COLOR_RE = /^#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/;
const FONT_RE = /^[A-Za-z0-9 ",-]{1,300}$/;

function block(colors: Partial<Record<string, unknown>>, font?: unknown): string {
  const lines: string[] = [];
  for (const k of THEME_KEYS) {
    const c = colors[k];
    if (typeof c === 'string' && COLOR_RE.test(c)) lines.push(`${THEME_VARS[k]}: ${c};`);
  }
  if (typeof font === 'string' && FONT_RE.test(font)) lines.push(`--fontFamily: ${font};`, `--primaryFont: ${font};`);
  return `:root { ${lines.join(' ')} }`;
}

/** The CSS of a theme as it came from the stack (an event's document): anything outside the grammars is left out. */
export function themeCssOf(theme: Partial<Record<keyof Theme, unknown>>): string {
  const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? v as Record<string, unknown> : {});
  return `${block(obj(theme.colors), theme.font_family)}\n@media (prefers-color-scheme: dark) { ${block(obj(theme.dark_colors))} }`;
}

const STYLE_ID = 'hearth-live-theme';

/** Sets `theme` on the page now, over the theme stylesheet the page loaded (the last :root rule wins). */
export function applyTheme(theme: Partial<Record<keyof Theme, unknown>>, doc: Document = document): void {
  let style = doc.getElementById(STYLE_ID);
  if (!style) {
    style = doc.createElement('style');
    style.id = STYLE_ID;
    doc.head.append(style);
  }
  style.textContent = themeCssOf(theme);
}
