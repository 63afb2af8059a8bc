/**
 * Export: ask for an archive of everything (POST /move/exports), follow it in realtime (io.cozy.exports CREATED, then
 * UPDATED done or error), and, at #/exports/<MAC> (the link of the mail), the export with a download link per part
 * (GET /move/exports/:mac, /move/exports/data/<MAC>?cursor=…), its size and expiry.
 */
import { useEffect, useState } from 'preact/hooks';
import { Download, FileArchive } from 'lucide-preact';
import { ErrorView, Loading, useBoot } from '../../shared/components';
import { formatBytes, formatDate } from '../../shared/i18n';
import { realtimeOf } from '../../shared/realtime';
import { api, statusOf, useLoad } from './hooks';

const EXPORTS = 'io.cozy.exports';
interface ExportAttrs { state: 'exporting' | 'done' | 'error'; parts_cursors: string[]; total_size?: number; created_at: string; expires_at: string; error?: string }

export function Export() {
  const { client, t } = useBoot();
  const [phase, setPhase] = useState<'idle' | 'asking' | 'exporting' | 'done' | 'error' | 'busy'>('idle');
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const rt = realtimeOf(client);
    const on = (doc: unknown) => {
      const state = (doc as { state?: string }).state;
      if (state === 'exporting' || state === 'done' || state === 'error') setPhase(state);
    };
    void rt.subscribe('created', EXPORTS, on);
    void rt.subscribe('updated', EXPORTS, on);
    return () => {
      void rt.unsubscribe('created', EXPORTS, on);
      void rt.unsubscribe('updated', EXPORTS, on);
    };
  }, [client]);
  const ask = async () => {
    setPhase('asking');
    setError(null);
    try {
      // its end comes only as an event: asked once the subscription is on the server (a small export ends in less
      // time than the socket takes to open after the page's first render), or after 5 s without the realtime
      await realtimeOf(client).ready(5_000);
      await api(client, 'POST', '/move/exports', { data: { type: EXPORTS, attributes: {} } });
      setPhase((p) => (p === 'asking' ? 'exporting' : p));
    } catch (e) {
      if (statusOf(e) === 409) setPhase('busy');
      else {
        setPhase('idle');
        setError(e);
      }
    }
  };
  const waiting = phase === 'asking' || phase === 'exporting';
  return (
    <>
      <h1>{t('nav.export')}</h1>
      <section class="card" aria-labelledby="ex-h">
        <div class="row"><Download size={24} aria-hidden="true" /><h2 id="ex-h" style={{ margin: 0 }}>{t('export.title')}</h2></div>
        <p>{t('export.intro')}</p>
        <button type="button" class="button primary" onClick={() => void ask()} disabled={waiting}>{t('export.ask')}</button>
        <p role="status" aria-live="polite" class="export-status">
          {waiting && t('export.running')}
          {phase === 'done' && t('export.ready')}
          {phase === 'error' && t('export.failed')}
          {phase === 'busy' && t('export.busy')}
        </p>
        {error != null && <ErrorView error={error} />}
      </section>
    </>
  );
}

/** #/exports/<MAC>: the export the mail links to, one download link per part. */
export function ExportDownload({ mac }: { mac: string }) {
  const { client, t, locale } = useBoot();
  const doc = useLoad(() => api<{ data: { attributes: ExportAttrs } }>(client, 'GET', `/move/exports/${encodeURIComponent(mac)}`).then((r) => r.data.attributes));
  const base = client.getStackClient().uri;
  const e = doc.data;
  const parts = e ? ['', ...e.parts_cursors] : [];
  return (
    <>
      <h1>{t('export.download.title')}</h1>
      {doc.loading && <Loading />}
      {doc.error != null && <ErrorView error={doc.error} onRetry={doc.reload} />}
      {e && (
        <section class="card" aria-labelledby="exd-h">
          <h2 id="exd-h">{t('export.download.of', { date: formatDate(e.created_at, locale, true) })}</h2>
          {e.state === 'exporting' && <p>{t('export.running')}</p>}
          {e.state === 'error' && <p>{t('export.failed')}</p>}
          {e.state === 'done' && (
            <>
              <p>{t('export.download.size', { size: formatBytes(e.total_size ?? 0, locale), parts: parts.length })}</p>
              <p class="small muted">{t('export.download.until', { date: formatDate(e.expires_at, locale, true) })}</p>
              <ul class="export-parts">
                {parts.map((cursor, i) => (
                  <li key={cursor}>
                    <a class="button" href={`${base}/move/exports/data/${encodeURIComponent(mac)}${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`} download>
                      <FileArchive size={18} aria-hidden="true" />{t('export.download.part', { n: i + 1, total: parts.length })}
                    </a>
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
      )}
    </>
  );
}
