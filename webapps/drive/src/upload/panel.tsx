/**
 * The uploads panel: total progress, pause / resume, cancel all, and each file with its progress, its failure said
 * in words (quota, conflict with replace / keep both / skip, anything else with retry). Fixed at the bottom right,
 * the whole width on phones, collapsible.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ChevronDown, ChevronUp, Pause, Play, RotateCcw, X } from 'lucide-preact';
import { useBoot } from '../../../shared/components';
import { describeError } from '../../../shared/errors';
import { formatBytes } from '../../../shared/i18n';
import type { UploadItem, UploadQueue } from './queue';

export function useQueueState(queue: UploadQueue): UploadItem[] {
  const [, setTick] = useState(0);
  useEffect(() => queue.subscribe(() => setTick((n) => n + 1)), [queue]);
  return queue.items;
}

function Row({ item, queue }: { item: UploadItem; queue: UploadQueue }): JSX.Element {
  const { t, locale } = useBoot();
  const size = item.file.size;
  const path = item.folder ? `${item.folder}/${item.name}` : item.name;
  let status: JSX.Element | string = '';
  if (item.status === 'queued') status = t('upload.queued');
  else if (item.status === 'uploading') status = `${formatBytes(item.loaded, locale)} / ${formatBytes(size, locale)}`;
  else if (item.status === 'done') status = t('upload.done');
  else if (item.status === 'canceled') status = t('upload.canceled');
  else if (item.status === 'skipped') status = t('upload.skipped');
  else if (item.status === 'conflict') status = t('upload.conflict', { name: item.name });
  else {
    const d = describeError(item.failure ?? {}, t);
    status = item.failure?.status === 413 ? `${t('upload.quota')} ${t('error.quota.action')}` : `${d.message} ${d.action}`;
  }
  const pct = size ? Math.round((100 * item.loaded) / size) : item.status === 'done' ? 100 : 0;
  return (
    <li class={`up-item up-${item.status}`} data-upload={path}>
      <div class="up-line">
        <span class="ellipsis up-name" title={path}>{path}</span>
        {(item.status === 'queued' || item.status === 'uploading') && (
          <button type="button" class="icon-button" aria-label={t('upload.cancelOne', { name: item.name })} onClick={() => queue.cancel(item.id)}><X size={16} aria-hidden="true" /></button>
        )}
        {(item.status === 'error' || item.status === 'canceled') && (
          <button type="button" class="icon-button" aria-label={t('upload.retryOne', { name: item.name })} onClick={() => queue.retry(item.id)}><RotateCcw size={16} aria-hidden="true" /></button>
        )}
      </div>
      {item.status === 'uploading' && <progress max={100} value={pct} aria-label={t('upload.progressOf', { name: item.name })} />}
      <p class={`up-status small${item.status === 'error' || item.status === 'conflict' ? ' up-problem' : ' muted'}`} role={item.status === 'error' ? 'alert' : undefined}>{status}</p>
      {item.status === 'conflict' && (
        <div class="row up-choices">
          <button type="button" onClick={() => queue.resolve(item.id, 'replace')}>{t('upload.replace')}</button>
          <button type="button" onClick={() => queue.resolve(item.id, 'keep')}>{t('upload.keep')}</button>
          <button type="button" class="ghost" onClick={() => queue.resolve(item.id, 'skip')}>{t('upload.skip')}</button>
        </div>
      )}
    </li>
  );
}

export function UploadPanel({ queue }: { queue: UploadQueue }): JSX.Element | null {
  const { t, locale } = useBoot();
  const items = useQueueState(queue);
  const [open, setOpen] = useState(true);
  if (items.length === 0) return null;
  const live = items.filter((i) => i.status !== 'canceled' && i.status !== 'skipped');
  const total = live.reduce((s, i) => s + i.file.size, 0);
  const loaded = live.reduce((s, i) => s + (i.status === 'done' ? i.file.size : i.loaded), 0);
  const done = items.filter((i) => i.status === 'done').length;
  const problems = items.filter((i) => i.status === 'error' || i.status === 'conflict').length;
  const pct = total ? Math.floor((100 * loaded) / total) : 100;
  const active = queue.active;
  const title = active
    ? (queue.paused ? t('upload.paused', { done, n: items.length }) : t('upload.title', { done, n: items.length }))
    : t('upload.finished', { done, n: items.length });
  return (
    <section class="uploads" aria-label={t('upload.panel')}>
      <div class="up-head">
        <div class="grow">
          <h2 class="small" id="up-title">{title}</h2>
          <p class="small muted" aria-live="polite">{formatBytes(loaded, locale)} / {formatBytes(total, locale)} · {pct} %{problems ? ` · ${t('upload.problems', { n: problems })}` : ''}</p>
        </div>
        {active && (queue.paused
          ? <button type="button" class="icon-button" aria-label={t('upload.resume')} onClick={() => queue.resume()}><Play size={18} aria-hidden="true" /></button>
          : <button type="button" class="icon-button" aria-label={t('upload.pause')} onClick={() => queue.pause()}><Pause size={18} aria-hidden="true" /></button>)}
        {active && <button type="button" class="icon-button" aria-label={t('upload.cancelAll')} onClick={() => queue.cancelAll()}><X size={18} aria-hidden="true" /></button>}
        <button type="button" class="icon-button" aria-expanded={open ? 'true' : 'false'} aria-controls="up-list" aria-label={open ? t('upload.collapse') : t('upload.expand')} onClick={() => setOpen(!open)}>
          {open ? <ChevronDown size={18} aria-hidden="true" /> : <ChevronUp size={18} aria-hidden="true" />}
        </button>
        {!active && <button type="button" class="icon-button" aria-label={t('upload.close')} onClick={() => queue.clear()}><X size={18} aria-hidden="true" /></button>}
      </div>
      <progress class="up-total" max={100} value={pct} aria-labelledby="up-title" />
      {open && <ul id="up-list" class="up-list" tabIndex={0} aria-label={t('upload.list')}>{items.map((i) => <Row key={i.id} item={i} queue={queue} />)}</ul>}
    </section>
  );
}
