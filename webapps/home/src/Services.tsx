/**
 * The installed konnectors with the state of their runs (from their triggers' current_state): not connected, running,
 * last run, or an error in words with a "Fix" link to the Accounts app; and the way to the Store's konnectors.
 */
import type { JSX } from 'preact';
import { Plus, Plug } from 'lucide-preact';
import { Empty, useBoot } from '../../shared/components';
import { formatDate, type T } from '../../shared/i18n';
import { appName, type AppInfo, type TriggerInfo } from './data';

const KNOWN_ERRORS = ['LOGIN_FAILED', 'USER_ACTION_NEEDED', 'CHALLENGE_ASKED', 'VENDOR_DOWN', 'NOT_EXISTING_DIRECTORY', 'DISK_QUOTA_EXCEEDED', 'TERMS_VERSION_MISMATCH'];

/** A konnector's error code (`LOGIN_FAILED`, `USER_ACTION_NEEDED.CGU_FORM`, `VENDOR_DOWN: …`) in words. */
export function errorMeaning(code: string | undefined, t: T): string {
  const known = KNOWN_ERRORS.find((k) => (code ?? '').startsWith(k));
  return t(`konnector.error.${known ?? 'UNKNOWN_ERROR'}`);
}

type Summary = { kind: 'none' | 'running' | 'queued' | 'error' | 'ok'; trigger?: TriggerInfo };

/** The state to show for a konnector: the worst of its triggers' (an error first, then a run in progress). */
export function summarize(triggers: TriggerInfo[]): Summary {
  if (triggers.length === 0) return { kind: 'none' };
  const errored = triggers.find((x) => x.status === 'errored');
  if (errored) return { kind: 'error', trigger: errored };
  const running = triggers.find((x) => x.status === 'running');
  if (running) return { kind: 'running', trigger: running };
  const queued = triggers.find((x) => x.status === 'queued');
  if (queued) return { kind: 'queued', trigger: queued };
  const latest = [...triggers].sort((a, b) => (b.lastExecution ?? '').localeCompare(a.lastExecution ?? ''))[0];
  return { kind: 'ok', trigger: latest };
}

function Row({ k, triggers }: { k: AppInfo; triggers: TriggerInfo[] }): JSX.Element {
  const { t, locale, appUrl, stackOrigin } = useBoot();
  const name = appName(k, locale);
  const s = summarize(triggers);
  const fix = appUrl('accounts', `#/konnector/${encodeURIComponent(k.slug)}`);
  const id = `konnector-${k.slug}`;
  let state: JSX.Element;
  if (s.kind === 'none') state = <span class="muted">{t('home.services.notConnected')}</span>;
  else if (s.kind === 'running' || s.kind === 'queued') state = <span class="run-state"><span class="spinner small-spinner" aria-hidden="true" />{t(`home.services.${s.kind}`)}</span>;
  else if (s.kind === 'error') state = <span class="konnector-error"><span class="badge error">{s.trigger?.lastError?.split(/[.:\s]/)[0] ?? 'ERROR'}</span> {errorMeaning(s.trigger?.lastError, t)}</span>;
  else {
    const date = s.trigger?.lastSuccess ?? s.trigger?.lastExecution;
    state = <span class="muted">{date ? t('home.services.lastRun', { date: formatDate(date, locale, true) }) : t('home.services.never')}</span>;
  }
  return (
    <li id={id} data-state={s.kind}>
      <img src={`${stackOrigin}${k.icon || `/konnectors/${k.slug}/icon`}`} alt="" width={36} height={36} loading="lazy" />
      <div class="grow-col">
        <strong class="ellipsis">{name}</strong>
        <span class="small">{state}</span>
      </div>
      {s.kind === 'error' && <a class="button primary" href={fix} aria-label={t('home.services.fixLabel', { name })}>{t('home.services.fix')}</a>}
      {s.kind === 'none' && <a class="button" href={fix} aria-label={`${t('home.services.connect')} ${name}`}>{t('home.services.connect')}</a>}
      {(s.kind === 'ok' || s.kind === 'running' || s.kind === 'queued') && <a class="button ghost" href={fix} aria-label={t('home.services.detailsLabel', { name })}>{t('home.services.details')}</a>}
    </li>
  );
}

export function Services({ konnectors, triggers }: { konnectors: AppInfo[]; triggers: TriggerInfo[] }): JSX.Element {
  const { t, appUrl } = useBoot();
  const add = <a class="button" href={appUrl('store', '#/discover?type=konnector')}><Plus size={18} aria-hidden="true" />{t('home.services.add')}</a>;
  if (konnectors.length === 0) return <Empty icon={<Plug aria-hidden="true" />} title={t('home.services.empty')}>{add}</Empty>;
  return (
    <>
      <ul class="list services">
        {konnectors.map((k) => <Row key={k.slug} k={k} triggers={triggers.filter((x) => x.konnector === k.slug)} />)}
      </ul>
      <p class="section-foot">{add}</p>
    </>
  );
}
