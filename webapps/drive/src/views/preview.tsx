/**
 * The preview of a file, full screen on the native <dialog> (focus kept inside, Escape closes): images (the large
 * thumbnail first, then the original), PDFs in the browser's own viewer, the first megabyte of text files, audio and
 * video with seeking (the stack answers Range requests), and for anything else an icon with Download. ← and → (and
 * the buttons) move through `files`. The content comes from 10-minute download links: no token in any URL.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ChevronLeft, ChevronRight, Download, File as FileIcon, X } from 'lucide-preact';
import { ErrorView, useBoot, useToast } from '../../../shared/components';
import { formatBytes } from '../../../shared/i18n';
import type { PreviewProps } from '../types';
import { downloadLink, kindOf, readText, startDownload } from './api';

const TEXT_MAX = 1024 * 1024;

export function Preview(props: PreviewProps): JSX.Element {
  const { file, files } = props;
  const { locale } = useBoot();
  const { t } = useBoot();
  const ref = useRef<HTMLDialogElement>(null);
  const index = files.findIndex((f) => f._id === file._id);
  const prev = index > 0 ? files[index - 1] : undefined;
  const next = index >= 0 && index < files.length - 1 ? files[index + 1] : undefined;
  const unmounting = useRef(false);
  /** A cancel event already asked the owner to close (the dialog stays open until the route changes). */
  const closing = useRef(false);
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => {
      unmounting.current = true;
      d?.close();
    };
  }, []);
  // on the document: the focus may have left the dialog's buttons (a button disabled at the end of the list)
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const tag = (e.target as HTMLElement | null)?.tagName;
      if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'VIDEO' || tag === 'AUDIO' || e.altKey || e.ctrlKey || e.metaKey) return;
      // Escape leaves the route even when Chromium neither cancels nor closes the modal (its close-watcher rules skip a
      // close request now and then without user activation: seen as a rare timeout in the tests): once the browser
      // had its turn, a dialog still open and not closing is closed here
      if (e.key === 'Escape') setTimeout(() => { if (ref.current?.open && !closing.current && !unmounting.current) onClose.current(); }, 0);
      if (e.key === 'ArrowLeft' && prev) { e.preventDefault(); props.onNavigate(prev); }
      if (e.key === 'ArrowRight' && next) { e.preventDefault(); props.onNavigate(next); }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [prev, next, props.onNavigate]);
  const size = file.size !== undefined ? formatBytes(Number(file.size), locale) : '';
  return (
    <dialog ref={ref} class="preview" aria-labelledby="preview-title" onCancel={(e) => { e.preventDefault(); closing.current = true; props.onClose(); }}
      // Chromium closes a modal on Escape without a cancel event when the page had no user activation since it opened
      // (its close-watcher rules: a preview opened by a link, or more than a few seconds after the last click): the
      // route is left all the same, as the shared Dialog does
      onClose={() => { if (!unmounting.current) onClose.current(); }}>
      <div class="preview-head">
        <button type="button" class="icon-button" aria-label={t('common.close')} onClick={props.onClose}><X size={22} aria-hidden="true" /></button>
        <div class="preview-name">
          <h2 id="preview-title" class="ellipsis">{file.name}</h2>
          <span class="muted small">{size}{files.length > 1 && index >= 0 ? ` · ${t('preview.position', { i: index + 1, n: files.length })}` : ''}</span>
        </div>
        <DownloadButton file={file} />
      </div>
      <div class="preview-stage">
        <button type="button" class="icon-button preview-nav" aria-label={t('preview.previous')} disabled={!prev} onClick={() => prev && props.onNavigate(prev)}><ChevronLeft size={28} aria-hidden="true" /></button>
        <div class="preview-content"><Content key={file._id} file={file} /></div>
        <button type="button" class="icon-button preview-nav" aria-label={t('preview.next')} disabled={!next} onClick={() => next && props.onNavigate(next)}><ChevronRight size={28} aria-hidden="true" /></button>
      </div>
    </dialog>
  );
}

export function DownloadButton({ file, primary }: { file: PreviewProps['file']; primary?: boolean }): JSX.Element {
  const { client } = useBoot();
  const { t } = useBoot();
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const go = async () => {
    setBusy(true);
    try {
      startDownload(await downloadLink(client, { id: file._id }, true), file.name);
    } catch (e) {
      toast.error(e);
    } finally {
      setBusy(false);
    }
  };
  return <button type="button" class={primary ? 'primary' : undefined} disabled={busy} onClick={() => void go()}><Download size={18} aria-hidden="true" />{t('preview.download')}</button>;
}

/** The content of one file; its own component (keyed by the file) so that moving to another file starts afresh. */
export function Content({ file }: { file: PreviewProps['file'] }): JSX.Element {
  const { client, stackOrigin } = useBoot();
  const { t } = useBoot();
  const kind = kindOf(file);
  const [url, setUrl] = useState<string | null>(null);
  const [text, setText] = useState<{ text: string; truncated: boolean } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loaded, setLoaded] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const large = file.links?.large ? `${stackOrigin}${file.links.large}` : null;
  useEffect(() => {
    if (kind === 'other') return;
    let live = true;
    setError(null);
    (async () => {
      const link = await downloadLink(client, { id: file._id });
      if (!live) return;
      if (kind === 'text') {
        const got = await readText(link, TEXT_MAX);
        if (live) setText(got);
      } else if (kind === 'image' && large) {
        // the large thumbnail shows first; the original replaces it once the browser has it
        const img = new Image();
        img.onload = () => { if (live) setUrl(link); };
        img.src = link;
      } else {
        setUrl(link);
      }
    })().catch((e: unknown) => { if (live) setError(e); });
    return () => { live = false; };
  }, [file._id, attempt]);
  if (error === 'unreadable') {
    return (
      <div class="preview-message">
        <div class="alert" role="alert"><div><strong>{t('preview.failed')}</strong><span>{t('preview.failed.action')}</span></div></div>
        <DownloadButton file={file} primary />
      </div>
    );
  }
  if (error) return <div class="preview-message"><ErrorView error={error} onRetry={() => setAttempt((n) => n + 1)} /></div>;
  const spinner = <div class="loading" role="status"><span class="spinner" aria-hidden="true" />{t('preview.loading')}</div>;
  switch (kind) {
    case 'image': {
      const src = url ?? large;
      return (
        <>
          {!loaded && spinner}
          {src && <img class="preview-image" src={src} alt={file.name} hidden={!loaded} onLoad={() => setLoaded(true)} onError={() => setError('unreadable')} />}
        </>
      );
    }
    case 'pdf':
      return url ? <iframe class="preview-pdf" src={url} title={t('preview.pdf', { name: file.name })} /> : spinner;
    case 'audio':
      return url ? <audio class="preview-audio" src={url} controls aria-label={file.name} onError={() => setError('unreadable')} /> : spinner;
    case 'video':
      return url ? <video class="preview-video" src={url} controls aria-label={file.name} onError={() => setError('unreadable')} /> : spinner;
    case 'text':
      return text ? (
        <div class="preview-text-wrap">
          {text.truncated && <p class="alert info" role="note">{t('preview.truncated')}</p>}
          <pre class="preview-text" tabIndex={0} aria-label={t('preview.text', { name: file.name })}>{text.text}</pre>
        </div>
      ) : spinner;
    default:
      return (
        <div class="preview-message empty">
          <FileIcon size={64} aria-hidden="true" />
          <p><strong>{t('preview.none')}</strong></p>
          <p>{t('preview.none.action')}</p>
          <DownloadButton file={file} primary />
        </div>
      );
  }
}
