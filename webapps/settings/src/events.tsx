/** The instance's security events (GET /settings/security-events), newest first, a page at a time with "Show older". */
import { useState } from 'preact/hooks';
import { ScrollText } from 'lucide-preact';
import { Empty, ErrorView, Loading, useBoot } from '../../shared/components';
import { formatDate } from '../../shared/i18n';
import { api, deviceOf, useLoad } from './hooks';

interface EventRes { id: string; attributes: { kind: string; at: string; ip: string | null; user_agent: string | null; detail?: { from?: string | null; to?: string | null } } }
interface EventPage { data: EventRes[]; links?: { next?: string } }

const PAGE = 20;

export function Events() {
  const { client, t, locale } = useBoot();
  const first = useLoad(() => api<EventPage>(client, 'GET', `/settings/security-events?page[limit]=${PAGE}`));
  const [more, setMore] = useState<EventRes[]>([]);
  const [next, setNext] = useState<string | null | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const cursor = next === undefined ? first.data?.links?.next ?? null : next;
  const older = async () => {
    if (!cursor) return;
    setBusy(true);
    setError(null);
    try {
      const page = await api<EventPage>(client, 'GET', cursor);
      setMore((m) => [...m, ...page.data]);
      setNext(page.links?.next ?? null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const all = [...(first.data?.data ?? []), ...more];
  const where = (e: EventRes) => {
    const d = deviceOf(e.attributes.user_agent);
    const device = d.browser && d.os ? t('sessions.device', { browser: d.browser, os: d.os }) : d.browser ?? d.os;
    return [device, e.attributes.ip && t('sessions.ip', { ip: e.attributes.ip })].filter(Boolean).join(' · ');
  };
  /** The e-mail events' addresses, masked by the server (a***@example.org). */
  const about = (e: EventRes): string | null => {
    const d = e.attributes.detail;
    if (!d?.to) return null;
    return d.from ? t('events.email.fromTo', { from: d.from, to: d.to }) : t('events.email.to', { to: d.to });
  };
  return (
    <>
      <h1>{t('nav.events')}</h1>
      <p class="muted">{t('events.intro')}</p>
      {first.loading && <Loading />}
      {first.error != null && <ErrorView error={first.error} onRetry={first.reload} />}
      {first.data && all.length === 0 && <Empty icon={<ScrollText aria-hidden="true" />} title={t('events.empty')} />}
      {all.length > 0 && (
        <ol class="list events" aria-label={t('nav.events')}>
          {all.map((e) => (
            <li key={e.id} class={e.attributes.kind === 'login_failed' ? 'warn' : undefined}>
              <div class="grow-text">
                <strong>{t(`events.${e.attributes.kind}`)}</strong>
                {about(e) && <div class="small">{about(e)}</div>}
                <div class="small muted">{where(e)}</div>
              </div>
              <time class="small muted" dateTime={e.attributes.at}>{formatDate(e.attributes.at, locale, true)}</time>
            </li>
          ))}
        </ol>
      )}
      {error != null && <ErrorView error={error} onRetry={() => void older()} />}
      {cursor && <div class="row actions"><button type="button" disabled={busy} onClick={() => void older()}>{busy ? t('common.loading') : t('events.older')}</button></div>}
    </>
  );
}
