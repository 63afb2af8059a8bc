/** App passwords for WebDAV and sync clients (POST/GET/DELETE /settings/app-passwords): created with a label, shown once with how to use it, revoked. */
import { useState } from 'preact/hooks';
import { Copy, KeyRound } from 'lucide-preact';
import { Dialog, Empty, ErrorView, Loading, useBoot, useToast } from '../../shared/components';
import { formatDate } from '../../shared/i18n';
import { api, copyText, useLoad } from './hooks';
import { Confirm } from './sessions';

interface AppPasswordRes { id: string; attributes: { label: string; scope: string; created_at: string; last_used_at: string | null; password?: string } }

export function AppPasswords() {
  const { client, t, locale } = useBoot();
  const toast = useToast();
  const list = useLoad(() => api<{ data: AppPasswordRes[] }>(client, 'GET', '/settings/app-passwords').then((r) => r.data));
  const [label, setLabel] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [missing, setMissing] = useState(false);
  const [created, setCreated] = useState<AppPasswordRes | null>(null);
  const [ask, setAsk] = useState<AppPasswordRes | null>(null);
  const create = async (e: Event) => {
    e.preventDefault();
    if (!label.trim()) { setMissing(true); return; }
    setMissing(false);
    setBusy(true);
    setError(null);
    try {
      const r = await api<{ data: AppPasswordRes }>(client, 'POST', '/settings/app-passwords', { label: label.trim(), scope: 'io.cozy.files' });
      setCreated(r.data);
      setLabel('');
      list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <h1>{t('nav.app-passwords')}</h1>
      <p class="muted">{t('apw.intro')}</p>
      <form class="card" onSubmit={create} aria-labelledby="apw-new" noValidate>
        <h2 id="apw-new">{t('apw.new')}</h2>
        {error != null && <ErrorView error={error} />}
        <div class="field">
          <label for="apw-label">{t('apw.label')}</label>
          <input id="apw-label" value={label} maxLength={200} placeholder={t('apw.label.example')} aria-invalid={missing ? 'true' : undefined}
            aria-describedby={missing ? 'apw-label-err' : undefined} onInput={(e) => setLabel(e.currentTarget.value)} />
          {missing && <p class="error" id="apw-label-err" role="alert">{t('apw.label.missing')}</p>}
        </div>
        <button type="submit" class="primary" disabled={busy}>{t('apw.create')}</button>
      </form>
      <h2>{t('apw.list')}</h2>
      {list.loading && <Loading />}
      {list.error != null && <ErrorView error={list.error} onRetry={list.reload} />}
      {list.data && list.data.length === 0 && <Empty icon={<KeyRound aria-hidden="true" />} title={t('apw.empty')} />}
      {list.data && list.data.length > 0 && (
        <ul class="list" aria-label={t('apw.list')}>
          {list.data.map((p) => (
            <li key={p.id}>
              <KeyRound size={22} aria-hidden="true" />
              <div class="grow-text">
                <strong>{p.attributes.label}</strong>
                <div class="small muted">
                  {t('apw.created', { date: formatDate(p.attributes.created_at, locale) })}{' · '}
                  {p.attributes.last_used_at ? t('apw.used', { date: formatDate(p.attributes.last_used_at, locale, true) }) : t('apw.unused')}
                </div>
              </div>
              <button type="button" class="danger" onClick={() => setAsk(p)} aria-label={`${t('apw.revoke')}: ${p.attributes.label}`}>{t('apw.revoke')}</button>
            </li>
          ))}
        </ul>
      )}
      {created && <Created password={created} onClose={() => setCreated(null)} />}
      {ask && (
        <Confirm title={t('apw.revoke')} action={t('apw.revoke')} text={t('apw.revoke.text', { label: ask.attributes.label })} onClose={() => setAsk(null)}
          run={async () => {
            await api(client, 'DELETE', `/settings/app-passwords/${encodeURIComponent(ask.id)}`);
            toast.show(t('apw.revoked'));
            list.reload();
          }} />
      )}
    </>
  );
}

function Created({ password, onClose }: { password: AppPasswordRes; onClose: () => void }) {
  const { t, stackOrigin } = useBoot();
  const toast = useToast();
  const secret = password.attributes.password ?? '';
  const dav = `${stackOrigin}/dav/files/`;
  const copy = (text: string) => copyText(text, toast, t);
  return (
    <Dialog title={t('apw.shown.title', { label: password.attributes.label })} onClose={onClose} footer={<button type="button" class="primary" onClick={onClose}>{t('apw.shown.done')}</button>}>
      <p><strong>{t('apw.shown.once')}</strong></p>
      <div class="field">
        <label for="apw-secret">{t('apw.password')}</label>
        <div class="row nowrap">
          <input id="apw-secret" readOnly value={secret} class="mono" onFocus={(e) => e.currentTarget.select()} />
          <button type="button" class="icon-button" aria-label={t('apw.copy')} title={t('apw.copy')} onClick={() => void copy(secret)}><Copy size={18} aria-hidden="true" /></button>
        </div>
      </div>
      <div class="field">
        <label for="apw-url">{t('apw.url')}</label>
        <div class="row nowrap">
          <input id="apw-url" readOnly value={dav} class="mono" onFocus={(e) => e.currentTarget.select()} />
          <button type="button" class="icon-button" aria-label={t('apw.copy.url')} title={t('apw.copy.url')} onClick={() => void copy(dav)}><Copy size={18} aria-hidden="true" /></button>
        </div>
      </div>
      <p class="small muted">{t('apw.howto')}</p>
    </Dialog>
  );
}
