/** Storage (GET /settings/disk-usage?include=trash,categories: used, quota, the files by category, old versions, trash). */
import { Trash2 } from 'lucide-preact';
import { ErrorView, Loading, useBoot } from '../../shared/components';
import { formatBytes } from '../../shared/i18n';
import { api, useLoad } from './hooks';

interface Usage { used: string; quota?: string; files?: string; versions?: string; trash?: string; categories?: Record<string, string> }

const CATEGORIES = ['documents', 'images', 'videos', 'audio', 'others'];

export function Storage() {
  const { client, t, locale, appUrl } = useBoot();
  const usage = useLoad(() => api<{ data: { attributes: Usage } }>(client, 'GET', '/settings/disk-usage?include=trash,categories').then((r) => r.data.attributes));
  const n = (v: string | undefined) => Number(v ?? 0);
  const u = usage.data;
  const used = n(u?.used);
  const quota = u?.quota !== undefined ? n(u.quota) : null;
  const trash = n(u?.trash);
  const versions = n(u?.versions);
  const rows: [string, number][] = u ? [...CATEGORIES.map((c): [string, number] => [`storage.${c}`, n(u.categories?.[c])]), ['storage.trash', trash], ['storage.versions', versions]] : [];
  return (
    <>
      <h1>{t('nav.storage')}</h1>
      {usage.loading && <Loading />}
      {usage.error != null && <ErrorView error={usage.error} onRetry={usage.reload} />}
      {u && (
        <section class="card" aria-labelledby="st-h">
          <h2 id="st-h">{quota !== null ? t('storage.of', { used: formatBytes(used, locale), quota: formatBytes(quota, locale) }) : t('storage.used', { used: formatBytes(used, locale) })}</h2>
          {quota !== null && (
            <>
              <progress class="usage" max={quota} value={Math.min(used, quota)} aria-labelledby="st-h" />
              <p class="small muted">{t('storage.left', { left: formatBytes(Math.max(0, quota - used), locale), pct: Math.round((used / Math.max(1, quota)) * 100) })}</p>
            </>
          )}
          {quota === null && <p class="small muted">{t('storage.noquota')}</p>}
          <dl class="usage-list">
            {rows.map(([key, bytes]) => (
              <div key={key} class={key.slice(8)}>
                <dt>{t(key)}</dt><dd>{formatBytes(bytes, locale)}</dd>
                <span class="share" aria-hidden="true"><span style={{ width: `${used ? Math.round((bytes / used) * 1000) / 10 : 0}%` }} /></span>
              </div>
            ))}
          </dl>
          <a class="button" href={appUrl('drive', '#/trash')}><Trash2 size={18} aria-hidden="true" />{t('storage.emptyTrash')}</a>
        </section>
      )}
    </>
  );
}
