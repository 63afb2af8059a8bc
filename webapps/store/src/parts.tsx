/** The Store's own small pieces: an app's icon (with a fallback), its card in a grid, its long text, its badge. */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { Package } from 'lucide-preact';
import { useBoot } from '../../shared/components';
import type { Installed, RegistryApp } from './api';
import { localized, manifestOf, nameOf, updateOf } from './model';

/** The registry's icon of an app (a version's, cached for ever), or the installed app's; a neutral one when missing. */
export function AppIcon({ slug, version, installed, size = 48 }: { slug: string; version?: string; installed?: Installed; size?: number }): JSX.Element {
  const { stackOrigin } = useBoot();
  const [broken, setBroken] = useState(false);
  const src = version
    ? `${stackOrigin}/registry/${encodeURIComponent(slug)}/${encodeURIComponent(version)}/icon`
    : `${stackOrigin}/${installed?.type === 'konnector' ? 'konnectors' : 'apps'}/${encodeURIComponent(slug)}/icon${installed?.version ? `/${encodeURIComponent(installed.version)}` : ''}`;
  if (broken) return <span class="app-icon placeholder" style={{ width: size, height: size }} aria-hidden="true"><Package size={size * 0.6} /></span>;
  return <img class="app-icon" src={src} alt="" width={size} height={size} loading="lazy" onError={() => setBroken(true)} />;
}

/** Installed, update available, or needs attention; `quiet` leaves out "installed" (My apps lists only installed ones). */
export function StatusBadge({ installed, app, quiet }: { installed?: Installed; app?: RegistryApp; quiet?: boolean }): JSX.Element | null {
  const { t } = useBoot();
  if (!installed) return null;
  if (installed.state === 'errored') return <span class="badge error">{t('badge.errored')}</span>;
  if (updateOf(installed, app)) return <span class="badge update">{t('badge.update')}</span>;
  return quiet ? null : <span class="badge">{t('badge.installed')}</span>;
}

export function AppCard({ app, installed }: { app: RegistryApp; installed?: Installed }): JSX.Element {
  const { locale } = useBoot();
  const m = manifestOf(app);
  return (
    <li>
      <a class="app-card" href={`#/app/${encodeURIComponent(app.slug)}`}>
        <AppIcon slug={app.slug} version={app.latest_version?.version} />
        <span class="app-card-text">
          <strong class="ellipsis">{nameOf(m, app.slug, locale)}</strong>
          <span class="muted small clamp">{localized(m, 'short_description', locale)}</span>
          <StatusBadge installed={installed} app={app} />
        </span>
      </a>
    </li>
  );
}

/**
 * A long description written in Markdown-ish text, shown as text only: blank lines make paragraphs, `-`/`*` lines a
 * list, `#` lines a heading; `**`, `__`, backquotes and link targets are dropped. Nothing of it is ever HTML.
 */
export function Description({ text }: { text: string }): JSX.Element {
  const clean = (s: string) => s.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/\*\*|__|`/g, '').trim();
  const blocks = text.replace(/\r\n?/g, '\n').split(/\n\s*\n/).map((b) => b.trim()).filter(Boolean).slice(0, 60);
  return (
    <div class="description">
      {blocks.map((b, i) => {
        const lines = b.split('\n');
        if (lines.every((l) => /^\s*[-*]\s+/.test(l))) return <ul key={i}>{lines.map((l, j) => <li key={j}>{clean(l.replace(/^\s*[-*]\s+/, ''))}</li>)}</ul>;
        if (lines.length === 1 && /^#{1,6}\s/.test(b)) return <h3 key={i}>{clean(b.replace(/^#+\s*/, ''))}</h3>;
        return <p key={i}>{clean(lines.join(' '))}</p>;
      })}
    </div>
  );
}
