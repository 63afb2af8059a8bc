/** My apps (`#/installed`): the installed web apps and konnectors, with their state and updates, each to open or see. */
import type { JSX } from 'preact';
import { PackageOpen } from 'lucide-preact';
import { Empty, ErrorView, Loading, useBoot } from '../../shared/components';
import type { Installed } from './api';
import { useStore } from './data';
import { nameOf } from './model';
import { useOpenUrl } from './ops';
import { AppIcon, StatusBadge } from './parts';

export function InstalledPage(): JSX.Element {
  const { t, locale } = useBoot();
  const { installed, installedError, reloadInstalled, apps } = useStore();
  const openUrl = useOpenUrl();
  const bySlug = new Map((apps ?? []).map((a) => [a.slug, a]));
  const section = (kind: 'webapp' | 'konnector', list: Installed[]) => (
    <section class="mine" aria-labelledby={`mine-${kind}`}>
      <h2 id={`mine-${kind}`}>{t(`installed.${kind}`)}</h2>
      {list.length === 0 ? <p class="muted">{t(`installed.none.${kind}`)}</p> : (
        <ul class="list">
          {list.map((a) => {
            const name = nameOf(a, a.slug, locale);
            const ready = a.state === 'ready' || a.state === 'installed';
            return (
              <li key={a.slug}>
                <AppIcon slug={a.slug} installed={a} size={40} />
                <span class="grow-text">
                  <strong class="ellipsis">{name}</strong>
                  <span class="muted small">{t('installed.version', { version: a.version || '—' })} <StatusBadge installed={a} app={bySlug.get(a.slug)} quiet />{!ready && a.state !== 'errored' && <span class="badge">{t(`state.${a.state}`)}</span>}</span>
                </span>
                <a class="button ghost" href={`#/app/${encodeURIComponent(a.slug)}`} aria-label={t('installed.details', { name })}>{t('installed.details.short')}</a>
                {ready && <a class="button" href={openUrl(a.type, a.slug, a.related)} aria-label={t('installed.open', { name })}>{t('installed.open.short')}</a>}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
  if (installedError) return <><h1>{t('installed.title')}</h1><ErrorView error={installedError} onRetry={reloadInstalled} /></>;
  if (!installed) return <><h1>{t('installed.title')}</h1><Loading /></>;
  const all = [...installed.values()].sort((a, b) => nameOf(a, a.slug, locale).localeCompare(nameOf(b, b.slug, locale), locale));
  return (
    <>
      <h1>{t('installed.title')}</h1>
      {all.length === 0 ? <Empty icon={<PackageOpen aria-hidden="true" />} title={t('installed.empty')}><a href="#/discover">{t('installed.discover')}</a></Empty> : (
        <>
          {section('webapp', all.filter((a) => a.type !== 'konnector'))}
          {section('konnector', all.filter((a) => a.type === 'konnector'))}
        </>
      )}
    </>
  );
}
