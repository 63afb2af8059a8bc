/**
 * The shared pieces of the built-in apps' pages, on the classes of ui.css: the app bar, the native dialog, the toasts
 * (an aria-live region), the loading and error states. Icons come from lucide-preact, the one icon set of the apps.
 */
import type { ComponentChildren, JSX } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { AlertTriangle, House, X } from 'lucide-preact';
import { describeError } from './errors';
import type { Boot } from './boot';
import type { T } from './i18n';
import { LiveTheme } from './live-theme';

export const BootContext = createContext<Boot | null>(null);
export function useBoot(): Boot {
  const b = useContext(BootContext);
  if (!b) throw new Error('useBoot outside <BootContext.Provider>');
  return b;
}

export function AppBar({ title, children }: { title?: string; children?: ComponentChildren }): JSX.Element {
  const { client, data, t, appUrl } = useBoot();
  const name = title ?? data.app.name;
  return (
    <header class="appbar">
      <LiveTheme client={client} />
      <a class="skip" href="#main">{t('common.skip')}</a>
      <a class="brand" href="#/" aria-label={name}>
        <img src={`${location.origin}/${data.app.icon || 'icon.svg'}`} alt="" width={28} height={28} />
        <span>{name}</span>
      </a>
      <span class="grow" />
      {children}
      {data.app.slug !== 'home' && (
        <a class="button icon-button" href={appUrl('home')} title={t('common.home')} aria-label={t('common.home')}><House size={20} aria-hidden="true" /></a>
      )}
    </header>
  );
}

/** A modal on the native <dialog>: focus trapped, Escape closes, the title labels it. */
export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren; footer?: ComponentChildren; wide?: boolean }): JSX.Element {
  const ref = useRef<HTMLDialogElement>(null);
  const unmounting = useRef(false);
  /** A cancel event of this Escape already told the owner. */
  const cancelled = useRef(false);
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;
  const { t } = useBoot();
  // Chromium's close-watcher rules sometimes neither cancel nor close a modal on Escape (no user activation since the
  // last close request): once the browser had its turn, a dialog still open, that no handler inside kept the Escape
  // for itself (a menu closing), is closed by the page, as the browser would have
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'Escape' || (e.target as Element | null)?.closest('dialog') !== ref.current) return;
    cancelled.current = false;
    setTimeout(() => {
      if (!e.defaultPrevented && !cancelled.current && !unmounting.current && ref.current?.open) onClose.current();
    }, 0);
  };
  useEffect(() => {
    const d = ref.current;
    // the element that had the focus gets it back on close (the dialog leaves the DOM before the browser would)
    const opener = document.activeElement as HTMLElement | null;
    if (d && !d.open) d.showModal();
    return () => {
      unmounting.current = true;
      d?.close();
      setTimeout(() => { if (opener?.isConnected) opener.focus(); }, 0);
    };
  }, []);
  const id = useRef(`dlg-${Math.random().toString(36).slice(2)}`).current;
  return (
    <dialog ref={ref} aria-labelledby={id} onKeyDown={onKeyDown} onCancel={(e) => { e.preventDefault(); cancelled.current = true; props.onClose(); }}
      // Chromium closes a modal on Escape without a cancel event when the page had no user activation since it opened
      // (its close-watcher rules): the owner of the dialog is told all the same
      onClose={() => { if (!unmounting.current) onClose.current(); }} style={props.wide ? { width: 'min(60rem, calc(100% - 1.5rem))' } : undefined}>
      <div class="dialog-head">
        <h2 id={id}>{props.title}</h2>
        <button type="button" class="icon-button" aria-label={t('common.close')} onClick={props.onClose}><X size={20} aria-hidden="true" /></button>
      </div>
      <div class="dialog-body">{props.children}</div>
      {props.footer && <div class="dialog-foot">{props.footer}</div>}
    </dialog>
  );
}

export function Loading({ label }: { label?: string }): JSX.Element {
  const { t } = useBoot();
  return <div class="loading" role="status"><span class="spinner" aria-hidden="true" />{label ?? t('common.loading')}</div>;
}

/** A failure as a person reads it: what happened, what to do, and a retry when one makes sense. */
export function ErrorView({ error, onRetry }: { error: unknown; onRetry?: () => void }): JSX.Element {
  const { t } = useBoot();
  const d = describeError(error, t);
  return (
    <div class="alert" role="alert">
      <AlertTriangle size={22} aria-hidden="true" />
      <div style={{ flex: 1 }}><strong>{d.message}</strong><span>{d.action}</span></div>
      {onRetry && <button type="button" onClick={onRetry}>{t('common.retry')}</button>}
    </div>
  );
}

export function Empty({ icon, title, children }: { icon?: ComponentChildren; title: string; children?: ComponentChildren }): JSX.Element {
  return <div class="empty">{icon}<p><strong>{title}</strong></p>{children}</div>;
}

interface Toast { id: number; text: string; kind: 'info' | 'error'; action?: { label: string; run: () => void } }
interface Toaster { show(text: string, opts?: { kind?: 'info' | 'error'; action?: Toast['action']; ms?: number }): void; error(e: unknown): void }
const ToastContext = createContext<Toaster | null>(null);
export function useToast(): Toaster {
  const v = useContext(ToastContext);
  if (!v) throw new Error('useToast outside <Toasts>');
  return v;
}

/** Messages that come and go, read out by screen readers (role=status / alert); errors stay until dismissed. */
export function Toasts({ t, children }: { t: T; children: ComponentChildren }): JSX.Element {
  const [items, setItems] = useState<Toast[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => setItems((l) => l.filter((x) => x.id !== id)), []);
  const show = useCallback<Toaster['show']>((text, opts = {}) => {
    const id = next.current++;
    const kind = opts.kind ?? 'info';
    setItems((l) => [...l.slice(-3), { id, text, kind, action: opts.action }]);
    if (kind === 'info') setTimeout(() => dismiss(id), opts.ms ?? 5000);
  }, [dismiss]);
  const toaster = useRef<Toaster>({ show, error: () => undefined });
  toaster.current.show = show;
  toaster.current.error = (e) => { const d = describeError(e, t); show(`${d.message} ${d.action}`, { kind: 'error' }); };
  return (
    <ToastContext.Provider value={toaster.current}>
      {children}
      <div class="toasts" role="status" aria-live="polite">
        {items.map((x) => (
          <div key={x.id} class={`toast ${x.kind}`} role={x.kind === 'error' ? 'alert' : undefined}>
            <span style={{ flex: 1 }}>{x.text}</span>
            {x.action && <button type="button" onClick={() => { x.action?.run(); dismiss(x.id); }}>{x.action.label}</button>}
            <button type="button" aria-label={t('common.dismiss')} onClick={() => dismiss(x.id)}><X size={16} aria-hidden="true" /></button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
