/** Notification preferences per app and category (GET/PATCH /notifications/preferences): by mail (always, when the app asks, never) and in Hearth. */
import { useState } from 'preact/hooks';
import { Bell } from 'lucide-preact';
import { Empty, ErrorView, Loading, useBoot, useToast } from '../../shared/components';
import { api, useLoad } from './hooks';

type Mail = boolean | 'requested';
interface Category { mail: Mail; in_app: boolean; slug?: string; category: string; description?: string }

export function Notifications() {
  const { client, t } = useBoot();
  const toast = useToast();
  const prefs = useLoad(() => api<{ data: { attributes: { categories: Record<string, Category> } } }>(client, 'GET', '/notifications/preferences').then((r) => r.data.attributes.categories));
  const [error, setError] = useState<unknown>(null);
  const change = async (key: string, patch: Partial<Category>) => {
    setError(null);
    try {
      const r = await api<{ data: { attributes: { categories: Record<string, Category> } } }>(client, 'PATCH', '/notifications/preferences', { data: { type: 'io.cozy.settings', attributes: { categories: { [key]: patch } } } });
      prefs.set(r.data.attributes.categories);
      toast.show(t('notif.saved'));
    } catch (err) {
      setError(err);
      prefs.reload();
    }
  };
  const entries = prefs.data ? Object.entries(prefs.data) : [];
  const name = (key: string, c: Category) => (key === 'system' ? t('notif.system') : c.description ?? `${c.slug ?? ''} · ${c.category}`);
  return (
    <>
      <h1>{t('nav.notifications')}</h1>
      <p class="muted">{t('notif.intro')}</p>
      {error != null && <ErrorView error={error} />}
      {prefs.loading && <Loading />}
      {prefs.error != null && <ErrorView error={prefs.error} onRetry={prefs.reload} />}
      {prefs.data && entries.length === 0 && <Empty icon={<Bell aria-hidden="true" />} title={t('notif.empty')} />}
      {entries.length > 0 && (
        <ul class="list notif" aria-label={t('nav.notifications')}>
          {entries.map(([key, c]) => {
            const id = `n-${key.replace(/[^A-Za-z0-9]/g, '-')}`;
            return (
              <li key={key}>
                <div class="grow-text">
                  <strong id={`${id}-name`}>{name(key, c)}</strong>
                  {c.slug && <div class="small muted">{c.slug}</div>}
                </div>
                <div class="notif-controls">
                  <label class="small" for={`${id}-mail`}>{t('notif.mail')}</label>
                  <select id={`${id}-mail`} aria-describedby={`${id}-name`} value={String(c.mail)}
                    onChange={(e) => { const v = e.currentTarget.value; void change(key, { mail: v === 'requested' ? 'requested' : v === 'true' }); }}>
                    <option value="true">{t('notif.mail.always')}</option>
                    <option value="requested">{t('notif.mail.requested')}</option>
                    <option value="false">{t('notif.mail.never')}</option>
                  </select>
                  <label class="check small"><input type="checkbox" checked={c.in_app} aria-describedby={`${id}-name`} onChange={(e) => void change(key, { in_app: e.currentTarget.checked })} />{t('notif.inapp')}</label>
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}
