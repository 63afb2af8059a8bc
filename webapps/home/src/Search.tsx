/**
 * The search box (an ARIA combobox): apps by name (filtered here) and files by name (a Mango `_find` on the stack),
 * each result a link — an app to its host, a file to Drive at its folder with its preview open. Keyboard: `/`
 * focuses it from anywhere, the arrows move in the results, Enter opens, Escape closes (then clears).
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Search as SearchIcon } from 'lucide-preact';
import { useBoot } from '../../shared/components';
import { describeError } from '../../shared/errors';
import { appName, searchFiles, type AppInfo, type FileInfo } from './data';
import { FileIcon, fileUrl } from './files';

/** An input with role=combobox (ARIA 1.2); Preact's types want a `list` attribute there, which this pattern does not use. */
const COMBOBOX = { role: 'combobox' } as Record<string, string>;

interface Result { key: string; href: string; label: string; detail?: string; icon: JSX.Element }

export function Search({ apps }: { apps: AppInfo[] }): JSX.Element {
  const { client, t, locale, appUrl, stackOrigin } = useBoot();
  const [q, setQ] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [files, setFiles] = useState<{ q: string; items: FileInfo[] | null; error: unknown }>({ q: '', items: [], error: null });
  const input = useRef<HTMLInputElement>(null);
  const text = q.trim();

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      const typing = target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
      if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey && !document.querySelector('dialog[open]')) {
        e.preventDefault();
        input.current?.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    if (!text) { setFiles({ q: '', items: [], error: null }); return undefined; }
    setFiles({ q: text, items: null, error: null });
    let stale = false;
    const timer = setTimeout(() => {
      searchFiles(client, text).then((items) => { if (!stale) setFiles({ q: text, items, error: null }); }, (error: unknown) => { if (!stale) setFiles({ q: text, items: [], error }); });
    }, 250);
    return () => { stale = true; clearTimeout(timer); };
  }, [client, text]);

  const lower = text.toLowerCase();
  const appResults: Result[] = !text ? [] : apps.filter((a) => appName(a, locale).toLowerCase().includes(lower) || a.slug.includes(lower)).slice(0, 6).map((a) => ({
    key: `app-${a.slug}`, href: appUrl(a.slug), label: appName(a, locale), icon: <img src={`${stackOrigin}${a.icon || `/apps/${a.slug}/icon`}`} alt="" width={24} height={24} />,
  }));
  const fileResults: Result[] = (files.items ?? []).map((f) => ({ key: `file-${f.id}`, href: fileUrl(appUrl, f), label: f.name, icon: <FileIcon file={f} /> }));
  const results = [...appResults, ...fileResults];
  const shown = open && text.length > 0;
  const listed = shown && results.length > 0;

  const go = (r: Result | undefined) => { if (r) location.assign(r.href); };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      setOpen(true);
      if (results.length === 0) return;
      const step = e.key === 'ArrowDown' ? 1 : -1;
      setActive((i) => (i < 0 ? (step > 0 ? 0 : results.length - 1) : (i + step + results.length) % results.length));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      go(results[active >= 0 ? active : 0]);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      if (shown) setOpen(false); else setQ('');
      setActive(-1);
    }
  };

  const option = (r: Result, i: number) => (
    <div key={r.key} id={`search-${r.key}`} role="option" aria-selected={i === active} class={i === active ? 'option active' : 'option'}
      onMouseDown={(e) => e.preventDefault()} onClick={() => go(r)} onMouseEnter={() => setActive(i)}>
      {r.icon}<span class="ellipsis">{r.label}</span>
    </div>
  );
  const group = (id: string, title: string, items: Result[], offset: number) => items.length > 0 && (
    <div role="group" aria-labelledby={id}>
      <div id={id} class="group" role="presentation">{title}</div>
      {items.map((r, i) => option(r, offset + i))}
    </div>
  );
  const failure = files.error ? describeError(files.error, t) : null;
  return (
    <div class="search" role="search">
      <label for="home-search" class="sr-only">{t('home.search.label')}</label>
      <div class="search-field">
        <SearchIcon size={20} aria-hidden="true" />
        <input id="home-search" ref={input} type="search" autocomplete="off" spellcheck={false} value={q} placeholder={t('home.search.placeholder')}
          {...COMBOBOX} aria-expanded={listed} aria-controls={listed ? 'search-results' : undefined} aria-autocomplete="list" aria-keyshortcuts="/"
          aria-activedescendant={shown && results[active] ? `search-${results[active]!.key}` : undefined}
          onInput={(e) => { setQ((e.target as HTMLInputElement).value); setOpen(true); setActive(-1); }}
          onKeyDown={onKeyDown} onFocus={() => { setOpen(true); void client.load().catch(() => undefined); }} onBlur={() => setOpen(false)} />
      </div>
      <div class="search-panel" hidden={!shown}>
        {listed && (
          <div id="search-results" role="listbox" aria-label={t('home.search.label')}>
            {group('search-g-apps', t('home.search.apps'), appResults, 0)}
            {group('search-g-files', t('home.search.files'), fileResults, appResults.length)}
          </div>
        )}
        <div class="search-status" role="status">
          {shown && files.items === null && <span class="muted small">{t('home.search.searching')}</span>}
          {shown && failure && <div class="alert" role="alert"><div><strong>{t('home.search.failed')} {failure.message}</strong><span>{failure.action}</span></div></div>}
          {shown && files.items !== null && !failure && results.length === 0 && <span class="muted">{t('home.search.none', { q: text })}</span>}
          {shown && files.items !== null && results.length > 0 && <span class="sr-only">{t('home.search.count', { n: results.length })}</span>}
        </div>
      </div>
    </div>
  );
}
