/**
 * Browse the registries: by kind (apps, connectors) and category (chips, in the URL: `#/discover?type=&category=`),
 * with a search on name and description. The registry's filters are equalities only, so the search, like the
 * chips, runs on the catalogue read once; the grid shows PAGE cards at a time with a "show more".
 */
import type { JSX } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { AlertTriangle, Search, SearchX } from 'lucide-preact';
import { Empty, ErrorView, Loading, useBoot } from '../../shared/components';
import { useStore } from './data';
import { categoriesOf, localized, manifestOf, nameOf } from './model';
import { AppCard } from './parts';
import { hrefOf } from './route';

const PAGE = 24;

export function Discover({ params }: { params: URLSearchParams }): JSX.Element {
  const { t, locale } = useBoot();
  const { apps, appsError, partial, installed, reloadApps } = useStore();
  const type = params.get('type') === 'konnector' ? 'konnector' : params.get('type') === 'webapp' ? 'webapp' : '';
  const category = params.get('category') ?? '';
  const [q, setQ] = useState(params.get('q') ?? '');
  const [shown, setShown] = useState(PAGE);
  const ofType = useMemo(() => (apps ?? []).filter((a) => !type || a.type === type), [apps, type]);
  const categories = useMemo(() => [...new Set(ofType.flatMap(categoriesOf))].sort(), [ofType]);
  const found = useMemo(() => {
    const words = q.toLowerCase().split(/\s+/).filter(Boolean);
    return ofType.filter((a) => {
      if (category && !categoriesOf(a).includes(category)) return false;
      const m = manifestOf(a);
      const hay = [a.slug, nameOf(m, a.slug, locale), localized(m, 'short_description', locale), localized(m, 'long_description', locale), a.editor ?? ''].join(' ').toLowerCase();
      return words.every((w) => hay.includes(w));
    }).sort((a, b) => nameOf(manifestOf(a), a.slug, locale).localeCompare(nameOf(manifestOf(b), b.slug, locale), locale));
  }, [ofType, category, q, locale]);
  const link = (p: Record<string, string>) => hrefOf('discover', { type, category, q, ...p });
  const search = (v: string) => {
    setQ(v);
    setShown(PAGE);
    history.replaceState(null, '', hrefOf('discover', { type, category, q: v }));
  };
  const catLabel = (c: string) => (t(`category.${c}`) === `category.${c}` ? c : t(`category.${c}`));

  return (
    <>
      <h1>{t('discover.title')}</h1>
      <nav class="row tabs" aria-label={t('discover.kinds')}>
        {(['', 'webapp', 'konnector'] as const).map((k) => (
          <a key={k} class="chip" href={link({ type: k, category: '' })} aria-current={type === k ? 'page' : undefined}>{t(`kind.${k || 'all'}`)}</a>
        ))}
      </nav>
      <form class="search" role="search" onSubmit={(e) => e.preventDefault()}>
        <label for="store-search" class="sr-only">{t('discover.search')}</label>
        <Search size={18} aria-hidden="true" />
        <input id="store-search" type="search" placeholder={t('discover.search')} value={q} onInput={(e) => search((e.target as HTMLInputElement).value)} />
      </form>
      {categories.length > 0 && (
        <nav class="row chips" aria-label={t('discover.categories')}>
          <a class="chip" href={link({ category: '' })} aria-current={category === '' ? 'page' : undefined}>{t('category.all')}</a>
          {categories.map((c) => <a key={c} class="chip" href={link({ category: c })} aria-current={category === c ? 'page' : undefined}>{catLabel(c)}</a>)}
        </nav>
      )}
      {partial && !appsError && (
        <div class="alert" role="alert">
          <AlertTriangle size={22} aria-hidden="true" />
          <div style={{ flex: 1 }}><strong>{t('discover.partial')}</strong><span>{t('discover.partial.action')}</span></div>
          <button type="button" onClick={reloadApps}>{t('common.retry')}</button>
        </div>
      )}
      {appsError ? <ErrorView error={appsError} onRetry={reloadApps} />
        : !apps ? <Loading label={t('discover.loading')} />
        : found.length === 0 ? <Empty icon={<SearchX aria-hidden="true" />} title={t('discover.none')}><p>{t('discover.none.hint')}</p></Empty>
        : (
          <>
            <p class="muted small" aria-live="polite">{t('discover.count', { n: found.length })}</p>
            <ul class="app-grid" aria-label={t('discover.results')}>
              {found.slice(0, shown).map((a) => <AppCard key={a.slug} app={a} installed={installed?.get(a.slug)} />)}
            </ul>
            {found.length > shown && <p class="more"><button type="button" onClick={() => setShown(shown + PAGE)}>{t('discover.more', { n: Math.min(PAGE, found.length - shown) })}</button></p>}
          </>
        )}
    </>
  );
}
