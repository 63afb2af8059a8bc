/**
 * The rows (list) or tiles (grid) of a folder, the trash or the recent files: an ARIA grid, one focusable row per
 * file (`data-file-id`): the first FIRST_ROWS (a phone's or a laptop's screen) and, while the screen is not full (a
 * tall window, the grid's tiles), FIRST_ROWS more at a time; once the person scrolls, STEP more each time the end
 * comes near, drawn DRAW_STEP per task. Nothing below the screen is drawn while the folder loads (each drawing task
 * is also a layout and a paint of the page: on a phone, a long task each). A row is drawn again only when what it
 * shows changes (a file's page arriving, a live update or a selection elsewhere leave the others alone).
 * Keyboard: arrows, Home/End move, Shift
 * extends, Space toggles, Enter opens, Ctrl/Cmd+A, Delete, F2, Escape; right click or the ⋯ button opens the menu.
 * Rows are dragged onto folders to move them.
 */
import { Component, type FunctionComponent, type JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ArrowDown, ArrowUp } from 'lucide-preact';
import { formatBytes, formatDate } from '../../shared/i18n';
import { useBoot } from '../../shared/components';
import { FileIcon, SpriteIcon, Thumb } from './icons';
import type { Selection } from './selection';
import type { Sort, SortKey, ViewMode } from './sort';
import type { DriveFile } from './types';

export const DRAG_TYPE = 'application/x-hearth-files';
/** Rows drawn with the first page: what a phone's or a laptop's screen shows (about 11 rows of the list). */
export const FIRST_ROWS = 12;
/** Rows drawn per task on the way to what is shown: each task stays short (Lighthouse counts a task over 50 ms on a phone). */
export const DRAW_STEP = 8;
/** Rows added to what is shown each time the person, having scrolled, comes near the end of it. */
export const STEP = 200;

export interface ListingProps {
  items: DriveFile[];
  view: ViewMode;
  sort: Sort;
  onSort(s: Sort): void;
  selection: Selection;
  label: string;
  /** the href a name links to (a folder, a preview), or none */
  hrefOf?(f: DriveFile): string | undefined;
  onOpen(f: DriveFile): void;
  onMenu(at: { x: number; y: number } | HTMLElement): void;
  onDelete?(): void;
  onRename?(): void;
  /** rows dropped onto a folder row */
  onDropOn?(ids: string[], dirId: string): void;
}

export function dragIds(e: DragEvent): string[] | null {
  const raw = e.dataTransfer?.getData(DRAG_TYPE);
  if (!raw) return null;
  try { const v: unknown = JSON.parse(raw); return Array.isArray(v) ? v.map(String) : null; } catch { return null; }
}

interface RowProps {
  f: DriveFile;
  rowIndex: number;
  view: ViewMode;
  /** the columns the CSS shows (a hidden one is left empty: its value is not formatted) */
  columns: Columns;
  selected: boolean;
  tabbable: boolean;
  over: boolean;
  href?: string;
  draggable: boolean;
}

/** Which of the size and date columns show: app.css hides both in the list on a phone's width, the size in the grid. */
export interface Columns { size: boolean; date: boolean }
export const NARROW = '(max-width: 640px)';

export function columnsOf(view: ViewMode, narrow: boolean): Columns {
  return { size: view === 'list' && !narrow, date: view === 'grid' || !narrow };
}

/** Whether the window is as narrow as a phone's (NARROW), kept up to date. */
export function useNarrow(): boolean {
  const [narrow, setNarrow] = useState(() => matchMedia(NARROW).matches);
  useEffect(() => {
    const query = matchMedia(NARROW);
    const changed = () => setNarrow(query.matches);
    query.addEventListener('change', changed);
    return () => query.removeEventListener('change', changed);
  }, []);
  return narrow;
}

/**
 * `C` drawn again only when one of its props changed (compared one by one), as preact/compat's `memo`, without
 * preact/compat: importing it hooks every element the page creates (its `options.vnode`), about a tenth of the first
 * rows' render on a phone, and brings its chunk into the page's first scripts.
 */
function memo<P extends object>(C: FunctionComponent<P>): FunctionComponent<P> {
  class Memo extends Component<P> {
    override shouldComponentUpdate(next: P): boolean {
      const now = this.props as Record<string, unknown>;
      const then = next as Record<string, unknown>;
      for (const k in then) if (then[k] !== now[k]) return true;
      for (const k in now) if (!(k in then)) return true;
      return false;
    }

    override render(props: P): JSX.Element {
      return <C {...props} />;
    }
  }
  return Memo as unknown as FunctionComponent<P>;
}

/** One file's row: markup only, the listing's grid handles the events of all its rows (one listener each, not one per row). */
const Row = memo(function Row({ f, rowIndex, view, columns, selected, tabbable, over, href, draggable }: RowProps): JSX.Element {
  const { t, locale, stackOrigin } = useBoot();
  const dir = f.type === 'directory';
  const name = href
    ? <a href={href} tabIndex={-1} class="fname ellipsis">{f.name}</a>
    : <span class="fname ellipsis">{f.name}</span>;
  return (
    <div role="row" data-file-id={f._id} aria-rowindex={rowIndex} aria-selected={selected ? 'true' : 'false'}
      tabIndex={tabbable ? 0 : -1} class={`frow${over ? ' drop-over' : ''}`} draggable={draggable}>
      <div role="gridcell" class="c-check">
        <input type="checkbox" tabIndex={-1} checked={selected} aria-label={t('list.select', { name: f.name })} />
      </div>
      <div role="gridcell" class="c-name">
        {view === 'grid' ? <Thumb file={f} stackOrigin={stackOrigin} /> : <FileIcon file={f} />}
        {name}
      </div>
      <div role="gridcell" class="c-size muted">{dir || !columns.size ? '' : formatBytes(Number(f.size ?? 0), locale)}</div>
      <div role="gridcell" class="c-date muted">{columns.date ? formatDate(f.updated_at, locale) : ''}</div>
      <div role="gridcell" class="c-more">
        <button type="button" class="icon-button" tabIndex={-1} aria-label={t('list.more', { name: f.name })} aria-haspopup="menu">
          <SpriteIcon name="more" size={18} />
        </button>
      </div>
    </div>
  );
});

export function Listing(p: ListingProps): JSX.Element {
  const { t } = useBoot();
  // rows there are to show (grows as the person scrolls), and rows drawn so far (catches up, DRAW_STEP per task)
  const [shown, setShown] = useState(FIRST_ROWS);
  const [drawn, setDrawn] = useState(FIRST_ROWS);
  // the person scrolled (the page or the listing): from then on, rows are drawn ahead of the screen
  const [scrolled, setScrolled] = useState(false);
  const [over, setOver] = useState<string | null>(null);
  const narrow = useNarrow();
  const shownColumns = useMemo(() => columnsOf(p.view, narrow), [p.view, narrow]);
  const gridRef = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const sel = p.selection;
  const ids = p.items.map((f) => f._id);
  const drawnRows = Math.min(shown, drawn, p.items.length);
  // the end of what is shown, once drawn: scrolled near, it shows STEP more
  const more = p.items.length > shown && drawn >= shown;

  useEffect(() => {
    if (drawn >= Math.min(shown, p.items.length)) return undefined;
    const next = setTimeout(() => setDrawn((n) => n + DRAW_STEP), 0);
    return () => clearTimeout(next);
  }, [drawn, shown, p.items.length]);

  useEffect(() => {
    if (scrolled) return undefined;
    const onScroll = () => setScrolled(true);
    document.addEventListener('scroll', onScroll, { capture: true, passive: true, once: true });
    return () => document.removeEventListener('scroll', onScroll, { capture: true });
  }, [scrolled]);

  useEffect(() => {
    const el = sentinel.current;
    if (!el) return undefined;
    // observed again when the person first scrolls (the observer reports the sentinel's state when it starts)
    const io = new IntersectionObserver((entries) => {
      for (const x of entries) {
        if (!x.isIntersecting) continue;
        // before a scroll, only the rows that the screen has room for
        if (scrolled) setShown((n) => n + STEP);
        else if (x.boundingClientRect.top < innerHeight) setShown((n) => n + FIRST_ROWS);
      }
    }, { rootMargin: '600px' });
    io.observe(el);
    return () => io.disconnect();
  }, [more, scrolled]);

  const focusRow = (id: string) => {
    const find = () => gridRef.current?.querySelector<HTMLElement>(`[data-file-id="${CSS.escape(id)}"]`);
    const el = find();
    // a drawn row takes the focus at once (the next key press must find it there); a row not drawn yet, once drawn
    if (el) { el.focus(); return; }
    const upTo = ids.indexOf(id) + STEP;
    setShown(upTo);
    setDrawn(upTo);
    requestAnimationFrame(() => find()?.focus());
  };

  // the events of the rows, handled here for all of them: the row (and the file) an event is about
  const byId = useMemo(() => new Map(p.items.map((f) => [f._id, f])), [p.items]);
  const rowOf = (e: Event): { f: DriveFile; row: HTMLElement; target: HTMLElement } | null => {
    const target = e.target as HTMLElement;
    const row = target.closest<HTMLElement>('[role=row][data-file-id]');
    const f = row ? byId.get(row.dataset.fileId ?? '') : undefined;
    return row && f ? { f, row, target } : null;
  };
  const menuOf = (f: DriveFile, at: { x: number; y: number } | HTMLElement) => { if (!sel.has(f._id)) sel.click(f._id, {}); p.onMenu(at); };
  const onClick = (e: MouseEvent) => {
    const on = rowOf(e);
    if (!on) return;
    const { f, target } = on;
    if (target.closest('input[type=checkbox]')) { sel.toggle(f._id); return; }
    const button = target.closest<HTMLElement>('button');
    if (button) { menuOf(f, button); return; }
    // a name's link opens the file, not with a modifier (which selects on the rest of the row)
    if (target.closest('a')) { if (e.shiftKey || e.ctrlKey || e.metaKey) e.preventDefault(); return; }
    sel.click(f._id, { shift: e.shiftKey, toggle: e.ctrlKey || e.metaKey });
  };
  const onDblClick = (e: MouseEvent) => {
    const on = rowOf(e);
    if (on && !on.target.closest('a,button,input')) p.onOpen(on.f);
  };
  const onFocusIn = (e: FocusEvent) => {
    const on = rowOf(e);
    if (on && on.target === on.row && sel.focus !== on.f._id) sel.move(on.f._id, false);
  };
  const onContextMenu = (e: MouseEvent) => {
    const on = rowOf(e);
    if (!on) return;
    e.preventDefault();
    menuOf(on.f, { x: e.clientX, y: e.clientY });
  };
  const onDragStart = (e: DragEvent) => {
    const on = rowOf(e);
    if (!on) return;
    const list = sel.has(on.f._id) ? [...sel.ids] : [on.f._id];
    e.dataTransfer?.setData(DRAG_TYPE, JSON.stringify(list));
    e.dataTransfer?.setData('text/plain', on.f.name);
  };
  const onDragOver = (e: DragEvent) => {
    const on = rowOf(e);
    if (!on || on.f.type !== 'directory' || !p.onDropOn || !e.dataTransfer?.types.includes(DRAG_TYPE)) return;
    e.preventDefault();
    e.stopPropagation();
    setOver(on.f._id);
  };
  const onDragLeave = (e: DragEvent) => {
    const on = rowOf(e);
    if (on) setOver((o) => (o === on.f._id ? null : o));
  };
  const onDrop = (e: DragEvent) => {
    const on = rowOf(e);
    if (!on) return;
    setOver(null);
    const moved = dragIds(e);
    if (on.f.type !== 'directory' || !moved || !p.onDropOn) return;
    e.preventDefault();
    e.stopPropagation();
    const rest = moved.filter((id) => id !== on.f._id);
    if (rest.length) p.onDropOn(rest, on.f._id);
  };

  const columns = (): number => {
    if (p.view === 'list') return 1;
    const rows = [...(gridRef.current?.querySelectorAll<HTMLElement>('[role=row][data-file-id]') ?? [])];
    const top = rows[0]?.offsetTop;
    const n = rows.filter((r) => r.offsetTop === top).length;
    return Math.max(1, n);
  };

  const onKey = (e: KeyboardEvent) => {
    if ((e.target as HTMLElement).closest('[role=menu], input:not([type=checkbox])')) return;
    const ctrl = e.ctrlKey || e.metaKey;
    const cur = sel.focus ?? ids[0];
    if (cur === undefined) return;
    const i = Math.max(0, ids.indexOf(cur));
    const to = (j: number) => {
      const id = ids[Math.min(ids.length - 1, Math.max(0, j))];
      if (id === undefined) return;
      e.preventDefault();
      sel.move(id, e.shiftKey);
      focusRow(id);
    };
    const cols = columns();
    const f = p.items[i];
    switch (e.key) {
      case 'ArrowDown': to(i + cols); break;
      case 'ArrowUp': to(i - cols); break;
      case 'ArrowRight': if (p.view === 'grid') to(i + 1); break;
      case 'ArrowLeft': if (p.view === 'grid') to(i - 1); break;
      case 'Home': to(0); break;
      case 'End': to(ids.length - 1); break;
      case 'PageDown': to(i + 10); break;
      case 'PageUp': to(i - 10); break;
      case ' ': e.preventDefault(); sel.toggle(cur); break;
      case 'Enter': if (f && !(e.target as HTMLElement).closest('button,a')) { e.preventDefault(); p.onOpen(f); } break;
      case 'Escape': if (sel.ids.size) { e.preventDefault(); sel.clear(); } break;
      case 'Delete': if (p.onDelete && sel.ids.size) { e.preventDefault(); p.onDelete(); } break;
      case 'F2': if (p.onRename && sel.ids.size === 1) { e.preventDefault(); p.onRename(); } break;
      case 'ContextMenu': { e.preventDefault(); const row = gridRef.current?.querySelector<HTMLElement>(`[data-file-id="${CSS.escape(cur)}"]`); if (row) { if (!sel.has(cur)) sel.click(cur, {}); p.onMenu(row); } break; }
      default:
        if (ctrl && e.key.toLowerCase() === 'a') { e.preventDefault(); sel.all(); }
    }
  };

  const sortHeader = (key: SortKey, label: string, cls: string) => {
    const active = p.sort.key === key;
    const Arrow = p.sort.dir === 'asc' ? ArrowUp : ArrowDown;
    return (
      <div role="columnheader" class={cls} aria-sort={active ? (p.sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
        <button type="button" class="ghost sort" onClick={() => p.onSort({ key, dir: active && p.sort.dir === 'asc' ? 'desc' : 'asc' })}>
          {label}{active && <Arrow size={16} aria-hidden="true" />}
        </button>
      </div>
    );
  };

  const tabStop = sel.focus ?? ids[0];
  return (
    <>
    <div ref={gridRef} role="grid" aria-label={p.label} aria-multiselectable="true" aria-rowcount={p.items.length + (p.view === 'list' ? 1 : 0)}
      class={`files files-${p.view}`} onKeyDown={onKey} onClick={onClick} onDblClick={onDblClick} onFocusIn={onFocusIn} onContextMenu={onContextMenu}
      onDragStart={onDragStart} onDragOver={onDragOver} onDragLeave={onDragLeave} onDrop={onDrop}>
      {p.view === 'list' && (
        <div role="row" class="files-head" aria-rowindex={1}>
          <div role="columnheader" class="c-check"><span class="sr-only">{t('list.selected')}</span></div>
          {sortHeader('name', t('sort.name'), 'c-name')}
          {sortHeader('size', t('sort.size'), 'c-size')}
          {sortHeader('date', t('sort.date'), 'c-date')}
          <div role="columnheader" class="c-more"><span class="sr-only">{t('list.actions')}</span></div>
        </div>
      )}
      {p.items.slice(0, drawnRows).map((f, i) => (
        <Row key={f._id} f={f} rowIndex={i + (p.view === 'list' ? 2 : 1)} view={p.view} columns={shownColumns} selected={sel.has(f._id)} tabbable={f._id === tabStop}
          over={over === f._id} href={p.hrefOf?.(f)} draggable={!!p.onDropOn} />
      ))}
    </div>
    {more && <div ref={sentinel} class="sentinel" aria-hidden="true" />}
    </>
  );
}
