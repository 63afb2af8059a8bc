/**
 * The app launcher: every installed web app as a tile (its icon from the stack, its localized name) linking to its
 * host. A roving tab stop: Tab enters the grid once, the arrow keys (and Home / End) move between tiles, Enter opens.
 */
import type { JSX } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { LayoutGrid } from 'lucide-preact';
import { Empty, useBoot } from '../../shared/components';
import { appName, type AppInfo } from './data';

/** How many tiles sit on the first row (the grid's columns at this width). */
function columns(tiles: HTMLElement[]): number {
  const top = tiles[0]?.offsetTop ?? 0;
  const n = tiles.findIndex((t) => t.offsetTop !== top);
  return n < 0 ? tiles.length : n;
}

export function nextIndex(key: string, i: number, count: number, cols: number): number | null {
  switch (key) {
    case 'ArrowRight': return Math.min(i + 1, count - 1);
    case 'ArrowLeft': return Math.max(i - 1, 0);
    case 'ArrowDown': return i + cols < count ? i + cols : i;
    case 'ArrowUp': return i - cols >= 0 ? i - cols : i;
    case 'Home': return 0;
    case 'End': return count - 1;
    default: return null;
  }
}

export function Launcher({ apps }: { apps: AppInfo[] }): JSX.Element {
  const { t, locale, appUrl, stackOrigin } = useBoot();
  const [current, setCurrent] = useState(0);
  const list = useRef<HTMLUListElement>(null);
  if (apps.length === 0) {
    return <Empty icon={<LayoutGrid aria-hidden="true" />} title={t('home.apps.empty')}><a href={appUrl('store')}>{t('home.apps.store')}</a></Empty>;
  }
  const onKeyDown = (e: KeyboardEvent) => {
    const tiles = Array.from(list.current?.querySelectorAll<HTMLElement>('a.tile') ?? []);
    const i = tiles.indexOf(document.activeElement as HTMLElement);
    if (i < 0) return;
    const next = nextIndex(e.key, i, tiles.length, columns(tiles));
    if (next === null) return;
    e.preventDefault();
    setCurrent(next);
    tiles[next]?.focus();
  };
  return (
    <>
      <p id="launcher-hint" class="sr-only">{t('home.apps.hint')}</p>
      <ul class="launcher" ref={list} onKeyDown={onKeyDown} aria-describedby="launcher-hint">
        {apps.map((app, i) => (
          <li key={app.slug}>
            <a class="tile" href={appUrl(app.slug)} tabIndex={i === Math.min(current, apps.length - 1) ? 0 : -1} onFocus={() => setCurrent(i)}>
              <img src={`${stackOrigin}${app.icon || `/apps/${app.slug}/icon`}`} alt="" width={48} height={48} loading="lazy" />
              <span>{appName(app, locale)}</span>
            </a>
          </li>
        ))}
      </ul>
    </>
  );
}
