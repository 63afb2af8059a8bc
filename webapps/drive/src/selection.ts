/**
 * The listing's selection and keyboard focus: click selects one, Ctrl/Cmd+click toggles, Shift+click (and
 * Shift+arrows) select the range from the anchor, Ctrl/Cmd+A all, Escape none. Ids, so that a live update that
 * reorders the listing keeps what was selected.
 */
import { useCallback, useMemo, useState } from 'preact/hooks';

export interface Selection {
  ids: Set<string>;
  focus: string | null;
  has(id: string): boolean;
  click(id: string, mods: { shift?: boolean; toggle?: boolean }): void;
  toggle(id: string): void;
  /** moves the focus to `id`; with `extend`, selects the range from the anchor */
  move(id: string, extend: boolean): void;
  all(): void;
  clear(): void;
  set(ids: string[]): void;
}

export function useSelection(order: string[]): Selection {
  const [ids, setIds] = useState<Set<string>>(new Set());
  const [anchor, setAnchor] = useState<string | null>(null);
  const [focus, setFocus] = useState<string | null>(null);
  const present = useMemo(() => new Set(order), [order]);
  // what left the listing leaves the selection
  const live = useMemo(() => new Set([...ids].filter((id) => present.has(id))), [ids, present]);

  const range = useCallback((from: string | null, to: string): Set<string> => {
    const a = from === null ? -1 : order.indexOf(from);
    const b = order.indexOf(to);
    if (a < 0) return new Set([to]);
    const [lo, hi] = a < b ? [a, b] : [b, a];
    return new Set(order.slice(lo, hi + 1));
  }, [order]);

  return {
    ids: live,
    focus: focus !== null && present.has(focus) ? focus : null,
    has: (id) => live.has(id),
    click: (id, mods) => {
      setFocus(id);
      if (mods.shift) { setIds(range(anchor, id)); return; }
      setAnchor(id);
      if (mods.toggle) setIds((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n; });
      else setIds(new Set([id]));
    },
    toggle: (id) => {
      setFocus(id);
      setAnchor(id);
      setIds((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n; });
    },
    move: (id, extend) => {
      setFocus(id);
      if (extend) setIds(range(anchor ?? focus, id));
      if (extend && anchor === null) setAnchor(focus ?? id);
    },
    all: () => setIds(new Set(order)),
    clear: () => setIds(new Set()),
    set: (list) => setIds(new Set(list)),
  };
}
