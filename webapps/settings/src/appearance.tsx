/**
 * The instance theme (GET/PUT/DELETE /settings/theme): light and dark colours and the font, previewed live on this page
 * (the variables set on the root element), saved for every page and app. After a save the page reloads its theme
 * stylesheet ({{.ThemeCSS}}); the other apps open elsewhere take it at once from the stack's theme event
 * (shared/live-theme.tsx).
 */
import { useEffect, useState } from 'preact/hooks';
import { ErrorView, Loading, useBoot, useToast } from '../../shared/components';
import { api, useLoad } from './hooks';
import { Wallpaper } from './wallpaper';
import { THEME_KEYS, THEME_VARS, type Theme, type ThemeKey } from '../../shared/theme';

/** `<input type=color>` takes #rrggbb only: #rgb is expanded, an alpha part dropped. */
const six = (c: string): string => (/^#[0-9a-f]{3,4}$/i.test(c) ? `#${[...c.slice(1, 4)].map((x) => x + x).join('')}` : c.slice(0, 7)).toLowerCase();

const dark = () => matchMedia('(prefers-color-scheme: dark)').matches;

/** The preview: the scheme in use now gets the edited colours as inline variables; null clears them. */
function preview(theme: Theme | null): void {
  const style = document.documentElement.style;
  for (const k of THEME_KEYS) {
    if (theme) style.setProperty(THEME_VARS[k], (dark() ? theme.dark_colors : theme.colors)[k]);
    else style.removeProperty(THEME_VARS[k]);
  }
}

/** Loads the theme stylesheet again (its URL with a new query), then drops the preview variables once it applies. */
export function reloadThemeCss(): Promise<void> {
  const link = document.querySelector<HTMLLinkElement>('link[rel=stylesheet][href*="theme.css"]');
  if (!link) { preview(null); return Promise.resolve(); }
  return new Promise((resolve) => {
    const next = link.cloneNode() as HTMLLinkElement;
    const url = new URL(link.href);
    url.searchParams.set('v', String(Date.now()));
    next.href = url.href;
    const done = () => { link.remove(); preview(null); resolve(); };
    next.addEventListener('load', done, { once: true });
    next.addEventListener('error', done, { once: true });
    link.after(next);
  });
}

export function Appearance() {
  const { client, t } = useBoot();
  const theme = useLoad(() => api<{ data: { attributes: Theme; meta: { defaults: Theme } } }>(client, 'GET', '/settings/theme').then((r) => r.data));
  useEffect(() => () => preview(null), []);
  return (
    <>
      <h1>{t('appearance.title')}</h1>
      <p class="muted">{t('appearance.intro')}</p>
      {theme.loading && <Loading />}
      {theme.error != null && <ErrorView error={theme.error} onRetry={theme.reload} />}
      {theme.data && <ThemeForm key={JSON.stringify(theme.data.attributes)} initial={theme.data.attributes} defaults={theme.data.meta.defaults} onChanged={theme.reload} />}
      <Wallpaper />
    </>
  );
}

function ThemeForm({ initial, defaults, onChanged }: { initial: Theme; defaults: Theme; onChanged: () => void }) {
  const { client, t } = useBoot();
  const toast = useToast();
  const [theme, setTheme] = useState<Theme>(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // only unsaved changes are previewed: the saved theme comes from the stylesheet
  useEffect(() => { preview(JSON.stringify(theme) === JSON.stringify(initial) ? null : theme); }, [theme, initial]);
  const setColor = (scheme: 'colors' | 'dark_colors', k: ThemeKey, v: string) => setTheme((th) => ({ ...th, [scheme]: { ...th[scheme], [k]: v } }));
  const run = async (fn: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      await reloadThemeCss();
      toast.show(done);
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const save = (e: Event) => { e.preventDefault(); void run(() => api(client, 'PUT', '/settings/theme', theme), t('appearance.saved')); };
  const reset = () => void run(() => api(client, 'DELETE', '/settings/theme'), t('appearance.reset.done'));
  const scheme = (which: 'colors' | 'dark_colors') => (
    <fieldset class="card colors">
      <legend>{t(which === 'colors' ? 'appearance.light' : 'appearance.dark')}</legend>
      <div class="color-grid">
        {THEME_KEYS.map((k) => {
          const id = `c-${which}-${k}`;
          return (
            <div class="color-field" key={k}>
              <input id={id} type="color" value={six(theme[which][k])} onInput={(e) => setColor(which, k, e.currentTarget.value)} />
              <label for={id}>{t(`color.${k}`)}</label>
            </div>
          );
        })}
      </div>
    </fieldset>
  );
  const same = JSON.stringify(theme) === JSON.stringify(defaults);
  return (
    <form onSubmit={save}>
      {error != null && <ErrorView error={error} />}
      <div class="card preview" aria-label={t('appearance.preview')} role="group">
        <strong>{t('appearance.preview')}</strong>
        <p class="muted small">{t('appearance.preview.text')}</p>
        <div class="row"><span class="button primary">{t('appearance.sample')}</span><span class="badge">{t('appearance.badge')}</span><a href="#/appearance">{t('appearance.link')}</a></div>
      </div>
      {scheme('colors')}
      {scheme('dark_colors')}
      <div class="card field">
        <label for="font">{t('appearance.font')}</label>
        <input id="font" value={theme.font_family} maxLength={300} aria-describedby="font-hint" onInput={(e) => setTheme((th) => ({ ...th, font_family: e.currentTarget.value }))} />
        <p class="hint" id="font-hint">{t('appearance.font.hint')}</p>
      </div>
      <div class="row actions">
        <button type="submit" class="primary" disabled={busy}>{busy ? t('common.saving') : t('common.save')}</button>
        <button type="button" onClick={reset} disabled={busy || same}>{t('appearance.reset')}</button>
      </div>
    </form>
  );
}
