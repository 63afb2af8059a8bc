/**
 * The owner's notifications: a bell in the app bar with the unread count, a dialog listing them (title, text, date,
 * the app that sent it) with "mark read / unread" and "mark all read". New ones and changes made elsewhere arrive
 * through cozy-realtime (io.cozy.notifications CREATED / UPDATED).
 */
import type { JSX } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { Bell, BellOff, Check, CheckCheck } from 'lucide-preact';
import { Dialog, Empty, ErrorView, Loading, useBoot, useToast } from '../../shared/components';
import { formatDate } from '../../shared/i18n';
import { realtimeOf } from '../../shared/realtime';
import { useFirstRequest } from '../../shared/first-request';
import { asNotification, listNotifications, markAllRead, setRead, type NotificationInfo } from './data';

interface State { items: NotificationInfo[] | null; unread: number; error: unknown; next: string | null; loadingMore?: boolean }

export function useNotifications() {
  const { client, t } = useBoot();
  const toast = useToast();
  const [s, setS] = useState<State>({ items: null, unread: 0, error: null, next: null });
  const request = useFirstRequest(() => listNotifications(client));
  const load = useCallback(() => {
    setS((x) => ({ ...x, error: null }));
    request().then(({ items, unread, next }) => setS({ items, unread, error: null, next }), (error: unknown) => setS((x) => ({ ...x, error })));
  }, [client]);
  const more = useCallback(async () => {
    if (!s.next) return;
    setS((x) => ({ ...x, loadingMore: true }));
    try {
      const page = await listNotifications(client, s.next);
      setS((x) => {
        const known = new Set((x.items ?? []).map((i) => i.id));
        return { ...x, items: [...(x.items ?? []), ...page.items.filter((i) => !known.has(i.id))], next: page.next, loadingMore: false };
      });
    } catch (e) {
      setS((x) => ({ ...x, loadingMore: false }));
      toast.error(e);
    }
  }, [client, s.next, toast]);
  useEffect(() => {
    load();
    const rt = realtimeOf(client);
    const upsert = (raw: unknown, isNew: boolean) => {
      const n = asNotification(raw as Record<string, unknown>);
      setS((x) => {
        const items = x.items ?? [];
        const old = items.find((i) => i.id === n.id);
        const list = old ? items.map((i) => (i.id === n.id ? n : i)) : [n, ...items];
        const delta = (n.readAt ? 0 : 1) - (old ? (old.readAt ? 0 : 1) : 0);
        return { ...x, items: list, unread: Math.max(0, x.unread + delta) };
      });
      if (isNew) toast.show(t('home.notifications.new', { title: n.title }));
    };
    const created = (doc: unknown) => upsert(doc, true);
    const updated = (doc: unknown) => upsert(doc, false);
    void rt.subscribe('created', 'io.cozy.notifications', created);
    void rt.subscribe('updated', 'io.cozy.notifications', updated);
    return () => {
      void rt.unsubscribe('created', 'io.cozy.notifications', created);
      void rt.unsubscribe('updated', 'io.cozy.notifications', updated);
    };
  }, [client, load, t, toast]);
  const mark = useCallback(async (id: string, read: boolean) => {
    try {
      const n = await setRead(client, id, read);
      setS((x) => {
        const old = x.items?.find((i) => i.id === id);
        const delta = (n.readAt ? 0 : 1) - (old && !old.readAt ? 1 : 0);
        return { ...x, items: (x.items ?? []).map((i) => (i.id === id ? n : i)), unread: Math.max(0, x.unread + delta) };
      });
    } catch (e) {
      toast.error(e);
    }
  }, [client, toast]);
  const markAll = useCallback(async () => {
    try {
      await markAllRead(client);
      const at = new Date().toISOString();
      setS((x) => ({ ...x, items: (x.items ?? []).map((i) => (i.readAt ? i : { ...i, readAt: at })), unread: 0 }));
    } catch (e) {
      toast.error(e);
    }
  }, [client, toast]);
  return { ...s, load, more, mark, markAll };
}

export type NotificationsModel = ReturnType<typeof useNotifications>;

export function BellButton({ model, onOpen }: { model: NotificationsModel; onOpen: () => void }): JSX.Element {
  const { t } = useBoot();
  return (
    <button type="button" class="icon-button bell" onClick={onOpen} aria-label={t('home.notifications.open', { n: model.unread })} aria-haspopup="dialog">
      <Bell size={22} aria-hidden="true" />
      {model.unread > 0 && <span class="count" aria-hidden="true">{model.unread > 99 ? '99+' : model.unread}</span>}
    </button>
  );
}

export function NotificationsDialog({ model, names, onClose }: { model: NotificationsModel; names: (slug: string) => string; onClose: () => void }): JSX.Element {
  const { t, locale } = useBoot();
  const footer = model.unread > 0 ? <button type="button" onClick={() => void model.markAll()}><CheckCheck size={18} aria-hidden="true" />{t('home.notifications.markAll')}</button> : undefined;
  let body: JSX.Element;
  if (model.error) body = <ErrorView error={model.error} onRetry={model.load} />;
  else if (!model.items) body = <Loading />;
  else if (model.items.length === 0) body = <Empty icon={<BellOff aria-hidden="true" />} title={t('home.notifications.empty')} />;
  else {
    body = (
      <ul class="list notifications">
        {model.items.map((n) => (
          <li key={n.id} class={n.readAt ? 'read' : 'unread'} data-id={n.id}>
            <div class="grow-col">
              <strong>{!n.readAt && <span class="dot" aria-hidden="true" />}{!n.readAt && <span class="sr-only">{t('home.notifications.unread')}: </span>}{n.title}</strong>
              {n.message && <span class="message">{n.message}</span>}
              <span class="small muted">{t('home.notifications.from', { app: n.slug ? names(n.slug) : t('home.notifications.stack') })} · <time dateTime={n.createdAt}>{formatDate(n.createdAt, locale, true)}</time></span>
            </div>
            <button type="button" class="icon-button" onClick={() => void model.mark(n.id, !n.readAt)}
              aria-label={`${t(n.readAt ? 'home.notifications.markUnread' : 'home.notifications.markRead')}: ${n.title}`} title={t(n.readAt ? 'home.notifications.markUnread' : 'home.notifications.markRead')}>
              {n.readAt ? <Bell size={18} aria-hidden="true" /> : <Check size={18} aria-hidden="true" />}
            </button>
          </li>
        ))}
      </ul>
    );
    if (model.next) {
      body = (
        <>
          {body}
          <p class="more"><button type="button" onClick={() => void model.more()} disabled={model.loadingMore}>{t('home.notifications.more')}</button></p>
        </>
      );
    }
  }
  return <Dialog title={t('home.notifications')} onClose={onClose} footer={footer}>{body}</Dialog>;
}
