/**
 * A run as it happens (its state and the lines the konnector prints, in a `role=log` region read out as they come)
 * and an account's past runs (date, duration, state, the error in plain words with what to do).
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { AlertTriangle, CheckCircle2, Clock, Loader2 } from 'lucide-preact';
import { ErrorView, useBoot } from '../../shared/components';
import { formatDate } from '../../shared/i18n';
import { runLogOf, runsOf, type Job, type JobState, type RunLine } from './api';
import type { Live } from './data';
import { describeRunError } from './konnector-errors';

/** A run's state; `past` words it for a run of the history (Succeeded rather than Up to date). */
export function StateBadge({ state, past }: { state: JobState | string | undefined; past?: boolean }): JSX.Element {
  const { t } = useBoot();
  const s = state === 'queued' || state === 'running' || state === 'done' || state === 'errored' ? state : 'none';
  const Icon = s === 'done' ? CheckCircle2 : s === 'errored' ? AlertTriangle : s === 'none' ? Clock : Loader2;
  return <span class={`badge state-${s}${s === 'errored' ? ' error' : ''}`}><Icon size={14} aria-hidden="true" /> {t(past && (s === 'done' || s === 'errored') ? `state.${s}.past` : `state.${s}`)}</span>;
}

export function RunErrorView({ error, live }: { error: string; live?: boolean }): JSX.Element {
  const { t } = useBoot();
  const d = describeRunError(error, t);
  return (
    <div class="alert run-error" role={live ? 'alert' : undefined}>
      <AlertTriangle size={22} aria-hidden="true" />
      <div><strong>{d.message}</strong><span>{d.action}</span><span class="muted small">{t('run.code', { code: d.code })}</span></div>
    </div>
  );
}

export function LiveRun({ live, title }: { live: Live; title: string }): JSX.Element {
  const { t } = useBoot();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [live.lines.length]);
  const { job } = live;
  return (
    <section class="live-run" aria-label={title}>
      <p class="muted small">{job.state === 'done' ? t('run.done') : job.state === 'errored' ? t('run.errored') : t('run.working')}</p>
      <div class="log" ref={box} role="log" aria-live="polite" aria-label={t('run.log')} tabIndex={0}>
        {live.lines.length === 0 && <p class="muted">{t('run.waiting')}</p>}
        {live.lines.map((l, i) => <p key={i} class={`line-${l.type}`}><span class="sr-only">{l.type}: </span>{l.message}</p>)}
      </div>
      {job.state === 'errored' && job.error && <RunErrorView error={job.error} live />}
    </section>
  );
}

function duration(job: Job, locale: 'en' | 'fr'): string {
  if (!job.started_at || !job.finished_at) return '';
  const s = Math.max(0, (Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000);
  const n = new Intl.NumberFormat(locale, { maximumFractionDigits: s < 10 ? 1 : 0 });
  return s < 60 ? `${n.format(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** What a past run printed (the stack keeps the last lines of the last runs), read when opened. */
function PastLog({ jobId }: { jobId: string }): JSX.Element {
  const { client, t } = useBoot();
  const [log, setLog] = useState<{ lines: RunLine[]; dropped: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => runLogOf(client, jobId).then((l) => { setLog(l); setError(null); }, setError);
  return (
    <details class="past-log" onToggle={(e) => { if ((e.currentTarget as HTMLDetailsElement).open && log === null) void load(); }}>
      <summary>{t('runs.log')}</summary>
      {error !== null && <ErrorView error={error} onRetry={() => void load()} />}
      {log === null && error === null && <p class="muted small">{t('common.loading')}</p>}
      {log !== null && log.lines.length === 0 && <p class="muted small">{t('runs.log.none')}</p>}
      {log !== null && log.lines.length > 0 && (
        <div class="log" role="log" aria-label={t('runs.log')} tabIndex={0}>
          {log.dropped > 0 && <p class="muted">{t('runs.log.dropped', { n: log.dropped })}</p>}
          {log.lines.map((l, i) => <p key={i} class={`line-${l.type}`}><span class="sr-only">{l.type}: </span>{l.message}</p>)}
        </div>
      )}
    </details>
  );
}

/** The last runs of a trigger, read when opened and again after each run that ends. */
export function PastRuns({ triggerId, ended }: { triggerId: string; ended: number }): JSX.Element {
  const { client, t, locale } = useBoot();
  const [open, setOpen] = useState(false);
  const [runs, setRuns] = useState<Job[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => runsOf(client, triggerId).then((r) => { setRuns(r); setError(null); }, setError);
  useEffect(() => {
    if (open) void load();
  }, [open, ended, triggerId]);
  return (
    <details class="past-runs" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>{t('runs.title')}</summary>
      {error !== null && <ErrorView error={error} onRetry={() => void load()} />}
      {open && runs === null && error === null && <p class="muted small">{t('common.loading')}</p>}
      {runs?.length === 0 && <p class="muted small">{t('runs.none')}</p>}
      {runs && runs.length > 0 && (
        <ul class="runs">
          {runs.map((j) => (
            <li key={j._id}>
              <div class="row">
                <StateBadge state={j.state} past />
                <span>{formatDate(j.started_at ?? j.queued_at, locale, true)}</span>
                {duration(j, locale) && <span class="muted small">{t('runs.took', { d: duration(j, locale) })}</span>}
              </div>
              {j.state === 'errored' && j.error && <RunErrorView error={j.error} />}
              <PastLog jobId={j._id} />
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}
