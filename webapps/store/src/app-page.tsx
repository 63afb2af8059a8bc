/**
 * An app's page (`#/app/<slug>`): what the registry says of it (icon, name, editor, description in the locale,
 * screenshots, version and channel, size, links), its permissions in plain words, and the operations: install,
 * open, update (the new permissions to accept first) and uninstall.
 */
import { Fragment, type JSX } from 'preact';
import { useCallback, useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { ArrowLeft, Download, ExternalLink, RefreshCw, Trash2 } from 'lucide-preact';
import { ErrorView, Loading, useBoot } from '../../shared/components';
import { formatBytes, formatDate } from '../../shared/i18n';
import { application, installedApp, type Installed, type Kind, type Manifest, type RegistryApp } from './api';
import { useStore } from './data';
import { categoriesOf, localized, nameOf, newPermissions, safeUrl, updateOf } from './model';
import { OperationDialog, UninstallDialog, useOpenUrl } from './ops';
import { AppIcon, Description, StatusBadge } from './parts';
import { PermissionList } from './permission-list';

type Dialogs = 'install' | 'update' | 'uninstall' | null;
const channelOf = (version: string): string => (/-dev\b/.test(version) ? 'dev' : /-beta\b/.test(version) ? 'beta' : 'stable');

export function AppPage({ slug }: { slug: string }): JSX.Element {
  const { client, t, locale } = useBoot();
  const store = useStore();
  const openUrl = useOpenUrl();
  const [app, setApp] = useState<RegistryApp | null | undefined>(undefined);
  const [mine, setMine] = useState<Installed | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [dialog, setDialog] = useState<Dialogs>(null);

  const load = useCallback(() => {
    setError(null);
    application(client, slug)
      .catch((e: unknown) => { if ((e as { status?: number }).status === 404) return null; throw e; })
      .then(async (a) => {
        // not in the registries: installed from elsewhere, as a web app or a konnector
        const i = a ? await installedApp(client, a.type, slug) : (await installedApp(client, 'webapp', slug)) ?? (await installedApp(client, 'konnector', slug));
        if (!a && !i) throw Object.assign(new Error('not found'), { status: 404 });
        setApp(a);
        setMine(i);
      })
      .catch(setError);
  }, [client, slug]);
  useEffect(load, [load]);
  // before the paint: the page's heading and its title arrive together
  useLayoutEffect(() => {
    const before = document.title;
    if (app || mine) document.title = `${nameOf(app?.latest_version?.manifest ?? mine ?? undefined, slug, locale)} · ${before}`;
    return () => { document.title = before; };
  }, [app, mine, slug, locale]);

  const back = <p><a href="#/discover" class="back"><ArrowLeft size={18} aria-hidden="true" />{t('app.back')}</a></p>;
  if (error) return <>{back}<ErrorView error={error} onRetry={load} /></>;
  if (app === undefined || mine === undefined) return <Loading />;

  const latest = app?.latest_version;
  const m: Manifest = latest?.manifest ?? (mine as Manifest);
  const kind: Kind = app?.type ?? mine?.type ?? 'webapp';
  const name = nameOf(m, slug, locale);
  const update = updateOf(mine ?? undefined, app ?? undefined);
  const newPerms = newPermissions(mine?.permissions, m.permissions);
  const perms = Object.values(m.permissions ?? {});
  const screenshots = (Array.isArray(m.screenshots) ? m.screenshots : []).filter((s): s is string => typeof s === 'string').slice(0, 12);
  const longText = localized(m, 'long_description', locale) || localized(m, 'short_description', locale);
  const links = [['app.source', safeUrl(m.source)], ['app.website', safeUrl(m.developer?.url)], ['app.support', safeUrl(m.support)]] as const;
  const size = Number(latest?.size);
  const closed = (changed: boolean) => {
    setDialog(null);
    if (changed) { load(); store.reloadInstalled(); }
  };

  return (
    <>
      {back}
      <article class="app-page" aria-labelledby="app-name">
        <header class="app-head">
          <AppIcon slug={slug} version={latest?.version} installed={mine ?? undefined} size={96} />
          <div class="app-head-text">
            <h1 id="app-name">{name}</h1>
            <p class="muted">{t('app.by', { editor: (app?.editor || m.editor || m.developer?.name || '—') })}</p>
            <p class="row"><span class="badge kind">{t(`kind.${kind}.one`)}</span><StatusBadge installed={mine ?? undefined} app={app ?? undefined} /></p>
          </div>
          <div class="app-actions">
            {!mine && latest && <button type="button" class="primary" onClick={() => setDialog('install')}><Download size={18} aria-hidden="true" />{t('app.install')}</button>}
            {mine && (mine.state === 'ready' || mine.state === 'installed') && (
              <a class="button primary" href={openUrl(kind, slug, mine.related)}><ExternalLink size={18} aria-hidden="true" />{t(kind === 'konnector' ? 'app.open.konnector' : 'app.open')}</a>
            )}
            {mine && update && <button type="button" onClick={() => setDialog('update')}><RefreshCw size={18} aria-hidden="true" />{t('app.update', { version: update })}</button>}
            {mine && <button type="button" class="danger" onClick={() => setDialog('uninstall')}><Trash2 size={18} aria-hidden="true" />{t('app.uninstall')}</button>}
          </div>
        </header>
        {mine?.state === 'errored' && <div class="alert" role="alert"><div><strong>{t('app.errored')}</strong><span>{mine.error ?? t('app.errored.action')}</span></div></div>}
        {app?.maintenance_activated && <div class="alert info" role="note"><div><strong>{t('app.maintenance')}</strong></div></div>}
        {screenshots.length > 0 && latest && (
          <section aria-labelledby="shots"><h2 id="shots">{t('app.screenshots')}</h2><Gallery slug={slug} version={latest.version} paths={screenshots} name={name} /></section>
        )}
        <section aria-labelledby="about"><h2 id="about">{t('app.about')}</h2>{longText ? <Description text={longText} /> : <p class="muted">{t('app.nodescription')}</p>}</section>
        <section aria-labelledby="perms-title">
          <h2 id="perms-title">{t('app.permissions')}</h2>
          {perms.length ? <PermissionList perms={perms} /> : <p class="muted">{t('app.noperms')}</p>}
        </section>
        <section aria-labelledby="details"><h2 id="details">{t('app.details')}</h2>
          <dl class="details">
            <dt>{t('app.version')}</dt><dd>{latest ? t('app.version.value', { version: latest.version, channel: t(`channel.${channelOf(latest.version)}`) }) : '—'}{latest?.created_at ? ` · ${formatDate(latest.created_at, locale)}` : ''}</dd>
            {mine && <><dt>{t('app.installed.version')}</dt><dd>{mine.version || '—'}</dd></>}
            {Number.isFinite(size) && size > 0 && <><dt>{t('app.size')}</dt><dd>{formatBytes(size, locale)}</dd></>}
            {app && categoriesOf(app).length > 0 && <><dt>{t('app.categories')}</dt><dd>{categoriesOf(app).map((c) => (t(`category.${c}`) === `category.${c}` ? c : t(`category.${c}`))).join(', ')}</dd></>}
            {links.filter(([, u]) => u).map(([k, u]) => <Fragment key={k}><dt>{t(k)}</dt><dd><a href={u as string} rel="noopener noreferrer" target="_blank">{new URL(u as string).host}</a></dd></Fragment>)}
          </dl>
        </section>
      </article>
      {(dialog === 'install' || dialog === 'update') && (
        <OperationDialog op={dialog} kind={kind} slug={slug} name={name} version={dialog === 'update' ? (update ?? '') : (latest?.version ?? '')} perms={dialog === 'update' ? newPerms : perms} onClose={closed} />
      )}
      {dialog === 'uninstall' && <UninstallDialog kind={kind} slug={slug} name={name} onClose={closed} />}
    </>
  );
}

/** The screenshots: a row that scrolls sideways, each a link to the full image. */
function Gallery({ slug, version, paths, name }: { slug: string; version: string; paths: string[]; name: string }): JSX.Element {
  const { stackOrigin, t } = useBoot();
  return (
    <ul class="gallery">
      {paths.map((p, i) => {
        const src = `${stackOrigin}/registry/${encodeURIComponent(slug)}/${encodeURIComponent(version)}/screenshots/${p.split('/').map(encodeURIComponent).join('/')}`;
        const alt = t('app.screenshot', { n: i + 1, total: paths.length, name });
        return <li key={p}><a href={src} target="_blank" rel="noopener noreferrer"><img src={src} alt={alt} loading="lazy" /></a></li>;
      })}
    </ul>
  );
}
