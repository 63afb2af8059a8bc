/**
 * The rows (list) or tiles (grid) of a folder, the trash or the recent files: an ARIA grid, one focusable row per
 * file (`data-file-id`): the first FIRST_ROWS (more than a screen holds), then 200 more each time the person scrolls near
 * the end. Keyboard: arrows, Home/End move, Shift
 * extends, Space toggles, Enter opens, Ctrl/Cmd+A, Delete, F2, Escape; right click or the ⋯ button opens the menu.
 * Rows are dragged onto folders to move them.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ArrowDown, ArrowUp, MoreVertical } from 'lucide-preact';
import { formatBytes, formatDate } from '../../shared/i18n';
import { useBoot } from '../../shared/components';
import { FileIcon, Thumb } from './icons';
import type { Selection } from './selection';
import type { Sort, SortKey, ViewMode } from './sort';
import type { DriveFile } from './types';

export const DRAG_TYPE = 'application/x-hearth-files';
/** Rows drawn at first: a phone's screen holds about 15, a desktop's about 25 (more tiles in the grid view). */
export const FIRST_ROWS = 40;
const STEP = 200;

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

export function Listing(p: ListingProps): JSX.Element {
  const { t, locale, stackOrigin } = useBoot();
  const [shown, setShown] = useState(FIRST_ROWS);
  const [over, setOver] = useState<string | null>(null);
  const gridRef = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const sel = p.selection;
  const ids = p.items.map((f) => f._id);

  useEffect(() => {
    const el = sentinel.current;
    if (!el) return undefined;
    const io = new IntersectionObserver((entries) => { if (entries.some((x) => x.isIntersecting)) setShown((n) => n + STEP); }, { rootMargin: '600px' });
    io.observe(el);
    return () => io.disconnect();
  }, [p.items.length > shown]);

  const focusRow = (id: string) => {
    const find = () => gridRef.current?.querySelector<HTMLElement>(`[data-file-id="${CSS.escape(id)}"]`);
    const el = find();
    // a drawn row takes the focus at once (the next key press must find it there); a row not drawn yet, once drawn
    if (el) { el.focus(); return; }
    setShown(ids.indexOf(id) + STEP);
    requestAnimationFrame(() => find()?.focus());
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
      class={`files files-${p.view}`} onKeyDown={onKey}>
      {p.view === 'list' && (
        <div role="row" class="files-head" aria-rowindex={1}>
          <div role="columnheader" class="c-check"><span class="sr-only">{t('list.selected')}</span></div>
          {sortHeader('name', t('sort.name'), 'c-name')}
          {sortHeader('size', t('sort.size'), 'c-size')}
          {sortHeader('date', t('sort.date'), 'c-date')}
          <div role="columnheader" class="c-more"><span class="sr-only">{t('list.actions')}</span></div>
        </div>
      )}
      {p.items.slice(0, shown).map((f, i) => {
        const selected = sel.has(f._id);
        const href = p.hrefOf?.(f);
        const dir = f.type === 'directory';
        const name = href
          ? <a href={href} tabIndex={-1} class="fname ellipsis" onClick={(e) => { if (e.shiftKey || e.ctrlKey || e.metaKey) e.preventDefault(); }}>{f.name}</a>
          : <span class="fname ellipsis">{f.name}</span>;
        return (
          <div key={f._id} role="row" data-file-id={f._id} aria-rowindex={i + (p.view === 'list' ? 2 : 1)} aria-selected={selected ? 'true' : 'false'}
            tabIndex={f._id === tabStop ? 0 : -1} class={`frow${over === f._id ? ' drop-over' : ''}`}
            draggable={!!p.onDropOn}
            onClick={(e) => { if ((e.target as HTMLElement).closest('a,button,input')) return; p.selection.click(f._id, { shift: e.shiftKey, toggle: e.ctrlKey || e.metaKey }); }}
            onDblClick={(e) => { if (!(e.target as HTMLElement).closest('a,button,input')) p.onOpen(f); }}
            onFocus={() => { if (sel.focus !== f._id) sel.move(f._id, false); }}
            onContextMenu={(e) => { e.preventDefault(); if (!selected) sel.click(f._id, {}); p.onMenu({ x: e.clientX, y: e.clientY }); }}
            onDragStart={(e) => {
              const list = selected ? [...sel.ids] : [f._id];
              e.dataTransfer?.setData(DRAG_TYPE, JSON.stringify(list));
              e.dataTransfer?.setData('text/plain', f.name);
            }}
            onDragOver={(e) => { if (dir && p.onDropOn && e.dataTransfer?.types.includes(DRAG_TYPE)) { e.preventDefault(); e.stopPropagation(); setOver(f._id); } }}
            onDragLeave={() => setOver((o) => (o === f._id ? null : o))}
            onDrop={(e) => {
              setOver(null);
              const moved = dragIds(e);
              if (!dir || !moved || !p.onDropOn) return;
              e.preventDefault();
              e.stopPropagation();
              const rest = moved.filter((id) => id !== f._id);
              if (rest.length) p.onDropOn(rest, f._id);
            }}>
            <div role="gridcell" class="c-check">
              <input type="checkbox" tabIndex={-1} checked={selected} aria-label={t('list.select', { name: f.name })}
                onClick={(e) => { e.stopPropagation(); sel.toggle(f._id); }} />
            </div>
            <div role="gridcell" class="c-name">
              {p.view === 'grid' ? <Thumb file={f} stackOrigin={stackOrigin} /> : <FileIcon file={f} />}
              {name}
            </div>
            <div role="gridcell" class="c-size muted">{dir ? '' : formatBytes(Number(f.size ?? 0), locale)}</div>
            <div role="gridcell" class="c-date muted">{formatDate(f.updated_at, locale)}</div>
            <div role="gridcell" class="c-more">
              <button type="button" class="icon-button" tabIndex={-1} aria-label={t('list.more', { name: f.name })} aria-haspopup="menu"
                onClick={(e) => { if (!selected) sel.click(f._id, {}); p.onMenu(e.currentTarget as HTMLElement); }}>
                <MoreVertical size={18} aria-hidden="true" />
              </button>
            </div>
          </div>
        );
      })}
    </div>
    {p.items.length > shown && <div ref={sentinel} class="sentinel" aria-hidden="true" />}
    </>
  );
}
