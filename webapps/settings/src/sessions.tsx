/**
 * Sessions (GET /settings/sessions, this one from /settings/sessions/current; DELETE /settings/sessions/:id ends one,
 * DELETE /auth/login/others all but this one) and the connected devices and OAuth clients (GET/DELETE /settings/clients).
 */
import { useState } from 'preact/hooks';
import { Laptop, LogOut, Monitor, Terminal } from 'lucide-preact';
import { Dialog, Empty, ErrorView, Loading, useBoot, useToast } from '../../shared/components';
import { formatDate } from '../../shared/i18n';
import { api, deviceOf, useLoad } from './hooks';

interface SessionRes { id: string; attributes: { created_at: string; last_seen: string; user_agent: string | null; ip: string | null; kind: 'web' | 'app-token' } }

/** Asks before doing something that cannot be undone; the failure, if any, is shown in the dialog. */
export function Confirm({ title, text, action, onClose, run }: { title: string; text: string; action: string; onClose: () => void; run: () => Promise<void> }) {
  const { t } = useBoot();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      await run();
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <Dialog title={title} onClose={onClose} footer={<><button type="button" onClick={onClose}>{t('common.cancel')}</button><button type="button" class="danger primary" disabled={busy} onClick={() => void go()}>{action}</button></>}>
      <p>{text}</p>
      {error != null && <ErrorView error={error} />}
    </Dialog>
  );
}

export function Sessions() {
  const { client, t, locale } = useBoot();
  const toast = useToast();
  const list = useLoad(async () => {
    const all = await api<{ data: SessionRes[] }>(client, 'GET', '/settings/sessions');
    const current = await api<{ data: SessionRes }>(client, 'GET', '/settings/sessions/current').then((r) => r.data.id, () => null);
    return { sessions: all.data, current };
  });
  const [ask, setAsk] = useState<SessionRes | 'others' | null>(null);
  const describe = (s: SessionRes) => {
    if (s.attributes.kind === 'app-token') return t('sessions.cli');
    const d = deviceOf(s.attributes.user_agent);
    if (d.browser && d.os) return t('sessions.device', { browser: d.browser, os: d.os });
    return d.browser ?? d.os ?? t('sessions.unknown');
  };
  const others = list.data ? list.data.sessions.filter((s) => s.id !== list.data?.current) : [];
  return (
    <>
      <h1>{t('nav.sessions')}</h1>
      <p class="muted">{t('sessions.intro')}</p>
      {list.loading && <Loading />}
      {list.error != null && <ErrorView error={list.error} onRetry={list.reload} />}
      {list.data && (
        <>
          <ul class="list" aria-label={t('nav.sessions')}>
            {list.data.sessions.map((s) => {
              const mine = s.id === list.data?.current;
              const Icon = s.attributes.kind === 'app-token' ? Terminal : Monitor;
              return (
                <li key={s.id} data-session={s.id}>
                  <Icon size={24} aria-hidden="true" />
                  <div class="grow-text">
                    <strong>{describe(s)}</strong> {mine && <span class="badge">{t('sessions.this')}</span>}
                    <div class="small muted">
                      {s.attributes.ip ? t('sessions.ip', { ip: s.attributes.ip }) : t('sessions.noip')}
                      {' · '}{t('sessions.since', { date: formatDate(s.attributes.created_at, locale, true) })}
                      {' · '}{t('sessions.seen', { date: formatDate(s.attributes.last_seen, locale, true) })}
                    </div>
                  </div>
                  {!mine && <button type="button" class="danger" onClick={() => setAsk(s)} aria-label={`${t('sessions.revoke')}: ${describe(s)}`}><LogOut size={18} aria-hidden="true" />{t('sessions.revoke')}</button>}
                </li>
              );
            })}
          </ul>
          <div class="row actions">
            <button type="button" class="danger" disabled={others.length === 0} onClick={() => setAsk('others')}>{t('sessions.revokeOthers')}</button>
          </div>
        </>
      )}
      {ask && (
        <Confirm title={ask === 'others' ? t('sessions.revokeOthers') : t('sessions.revoke')} action={ask === 'others' ? t('sessions.revokeOthers') : t('sessions.revoke')}
          text={ask === 'others' ? t('sessions.revokeOthers.text', { n: others.length }) : t('sessions.revoke.text', { device: describe(ask) })}
          onClose={() => setAsk(null)}
          run={async () => {
            await api(client, 'DELETE', ask === 'others' ? '/auth/login/others' : `/settings/sessions/${encodeURIComponent(ask.id)}`);
            toast.show(t('sessions.revoked'));
            list.reload();
          }} />
      )}
    </>
  );
}

interface ClientRes { id: string; attributes: { client_name: string; client_kind?: string; software_id?: string; software_version?: string; synchronized_at?: string; last_refreshed_at?: string } }

export function Devices() {
  const { client, t, locale } = useBoot();
  const kindOf = (k: string) => (['desktop', 'mobile', 'browser'].includes(k) ? t(`devices.kind.${k}`) : k);
  const toast = useToast();
  const list = useLoad(() => api<{ data: ClientRes[] }>(client, 'GET', '/settings/clients').then((r) => r.data));
  const [ask, setAsk] = useState<ClientRes | null>(null);
  return (
    <>
      <h1>{t('nav.devices')}</h1>
      <p class="muted">{t('devices.intro')}</p>
      {list.loading && <Loading />}
      {list.error != null && <ErrorView error={list.error} onRetry={list.reload} />}
      {list.data && list.data.length === 0 && <Empty icon={<Laptop aria-hidden="true" />} title={t('devices.empty')}><p>{t('devices.empty.text')}</p></Empty>}
      {list.data && list.data.length > 0 && (
        <ul class="list" aria-label={t('nav.devices')}>
          {list.data.map((c) => {
            const a = c.attributes;
            const sync = a.synchronized_at ?? a.last_refreshed_at;
            return (
              <li key={c.id}>
                <Laptop size={24} aria-hidden="true" />
                <div class="grow-text">
                  <strong>{a.client_name}</strong>
                  <div class="small muted">
                    {[a.client_kind && kindOf(a.client_kind), [a.software_id, a.software_version].filter(Boolean).join(' '),
                      sync ? t('devices.sync', { date: formatDate(sync, locale, true) }) : t('devices.nosync')].filter(Boolean).join(' · ')}
                  </div>
                </div>
                <button type="button" class="danger" onClick={() => setAsk(c)} aria-label={`${t('devices.revoke')}: ${a.client_name}`}>{t('devices.revoke')}</button>
              </li>
            );
          })}
        </ul>
      )}
      {ask && (
        <Confirm title={t('devices.revoke')} action={t('devices.revoke')} text={t('devices.revoke.text', { name: ask.attributes.client_name })} onClose={() => setAsk(null)}
          run={async () => {
            await api(client, 'DELETE', `/settings/clients/${encodeURIComponent(ask.id)}`);
            toast.show(t('devices.revoked'));
            list.reload();
          }} />
      )}
    </>
  );
}
