/**
 * The actions on the selection, as a toolbar above the listing and as a context menu (right click, the ⋯ button,
 * the ContextMenu key). The menu is a WAI-ARIA menu: focus on its first item, arrows move, Escape closes and gives the
 * focus back.
 */
import type { ComponentType, JSX } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface Action {
  id: string;
  label: string;
  icon: ComponentType<{ size?: number; 'aria-hidden'?: 'true' }>;
  run(): void;
  danger?: boolean;
  /** shown in the toolbar too (else only in the menu) */
  bar?: boolean;
}

export function ActionBar({ actions, label }: { actions: Action[]; label: string }): JSX.Element {
  return (
    <div role="toolbar" aria-label={label} class="actionbar">
      {actions.filter((a) => a.bar).map((a) => (
        <button key={a.id} type="button" class={a.danger ? 'ghost danger' : 'ghost'} data-action={a.id} onClick={a.run}>
          <a.icon size={18} aria-hidden="true" /><span class="label">{a.label}</span>
        </button>
      ))}
    </div>
  );
}

export function Menu({ actions, at, label, onClose }: { actions: Action[]; at: { x: number; y: number } | HTMLElement; label: string; onClose(): void }): JSX.Element {
  const ref = useRef<HTMLDivElement>(null);
  const [pos, setPos] = useState<{ left: number; top: number }>({ left: -9999, top: -9999 });
  const opener = useRef<Element | null>(at instanceof HTMLElement ? at : document.activeElement);

  useLayoutEffect(() => {
    const m = ref.current;
    if (!m) return;
    const p = at instanceof HTMLElement ? (() => { const r = at.getBoundingClientRect(); return { x: r.right, y: r.bottom }; })() : at;
    const w = m.offsetWidth;
    const h = m.offsetHeight;
    setPos({ left: Math.max(8, Math.min(p.x - (at instanceof HTMLElement ? w : 0), innerWidth - w - 8)), top: Math.max(8, Math.min(p.y, innerHeight - h - 8)) });
    m.querySelector<HTMLElement>('[role=menuitem]')?.focus();
  }, [at]);

  useEffect(() => {
    const away = (e: Event) => { if (!ref.current?.contains(e.target as Node)) close(); };
    addEventListener('pointerdown', away, true);
    return () => removeEventListener('pointerdown', away, true);
  }, []);

  function close(refocus = true) {
    onClose();
    if (refocus && opener.current instanceof HTMLElement) {
      const row = opener.current.closest<HTMLElement>('[role=row]') ?? opener.current;
      row.focus();
    }
  }

  const onKey = (e: KeyboardEvent) => {
    const items = [...(ref.current?.querySelectorAll<HTMLElement>('[role=menuitem]') ?? [])];
    const i = items.indexOf(document.activeElement as HTMLElement);
    const to = (j: number) => { e.preventDefault(); items[(j + items.length) % items.length]?.focus(); };
    if (e.key === 'ArrowDown') to(i + 1);
    else if (e.key === 'ArrowUp') to(i - 1);
    else if (e.key === 'Home') to(0);
    else if (e.key === 'End') to(items.length - 1);
    else if (e.key === 'Escape' || e.key === 'Tab') { e.preventDefault(); e.stopPropagation(); close(); }
  };

  return (
    <div ref={ref} role="menu" aria-label={label} class="menu" style={{ left: `${pos.left}px`, top: `${pos.top}px` }} onKeyDown={onKey}>
      {actions.map((a) => (
        <button key={a.id} type="button" role="menuitem" tabIndex={-1} class={a.danger ? 'danger' : ''} data-action={a.id}
          onClick={() => { close(false); a.run(); }}>
          <a.icon size={18} aria-hidden="true" />{a.label}
        </button>
      ))}
    </div>
  );
}
