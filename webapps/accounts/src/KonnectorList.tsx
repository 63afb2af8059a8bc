/** `#/`: the installed konnectors, each with its accounts and the state of their last run; a way to the Store. */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ChevronRight, Plug, Store } from 'lucide-preact';
import { Empty, ErrorView, Loading, useBoot } from '../../shared/components';
import type { Konnector } from './api';
import { useData } from './data';
import { StateBadge } from './Runs';

export function KonnectorIcon({ slug, size = 40 }: { slug: string; size?: number }): JSX.Element {
  const { stackOrigin } = useBoot();
  const [broken, setBroken] = useState(false);
  if (broken) return <span class="konnector-icon fallback" style={{ width: size, height: size }}><Plug size={size * 0.55} aria-hidden="true" /></span>;
  return <img class="konnector-icon" src={`${stackOrigin}/konnectors/${encodeURIComponent(slug)}/icon`} alt="" width={size} height={size} onError={() => setBroken(true)} />;
}

/** The worst state among a konnector's accounts: an error to fix first, then a run under way, then the last success. */
function summary(k: Konnector, data: ReturnType<typeof useData>): { state?: string; accounts: number } {
  const accounts = data.accounts.filter((a) => a.account_type === k.slug);
  const states = accounts.map((a) => data.triggers.find((t) => t.message?.account === a._id)?.current_state?.status ?? '');
  const order = ['errored', 'running', 'queued', 'done'];
  return { accounts: accounts.length, state: order.find((s) => states.includes(s)) };
}

export function KonnectorList(): JSX.Element {
  const { t, appUrl } = useBoot();
  const data = useData();
  if (data.konnectors === null) return data.error ? <ErrorView error={data.error} onRetry={() => void data.reload()} /> : <Loading />;
  const store = appUrl('store', '#/discover');
  return (
    <>
      <div class="row page-head">
        <h1 class="grow">{t('list.title')}</h1>
        <a class="button" href={store}><Store size={18} aria-hidden="true" />{t('list.store')}</a>
      </div>
      {data.error !== null && <ErrorView error={data.error} onRetry={() => void data.reload()} />}
      {data.konnectors.length === 0 ? (
        <Empty icon={<Plug aria-hidden="true" />} title={t('list.none')}>
          <p>{t('list.none.hint')}</p>
          <a class="button primary" href={store}>{t('list.store')}</a>
        </Empty>
      ) : (
        <ul class="list konnectors">
          {data.konnectors.map((k) => {
            const s = summary(k, data);
            return (
              <li key={k.slug}>
                <a class="konnector-link" href={`#/konnector/${encodeURIComponent(k.slug)}`}>
                  <KonnectorIcon slug={k.slug} />
                  <span class="grow">
                    <strong class="ellipsis">{k.name || k.slug}</strong>
                    <span class="muted small">{s.accounts === 0 ? t('list.noaccount') : t('list.accounts', { n: s.accounts })}</span>
                  </span>
                  {s.accounts > 0 && <StateBadge state={s.state} />}
                  <ChevronRight size={20} aria-hidden="true" />
                </a>
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}
