/** Drive's dialogs: a name (new folder, rename), a confirmation, the folder picker (move, copy) and the details of a file. */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ChevronRight, CornerLeftUp, Folder } from 'lucide-preact';
import { Dialog, ErrorView, Loading, useBoot } from '../../shared/components';
import { describeError } from '../../shared/errors';
import { formatBytes, formatDate, type T } from '../../shared/i18n';
import { useApi } from './listing-data';
import { ROOT_ID } from './route';
import type { DriveFile } from './types';
import type { Next } from './api';

/** Why the stack would refuse `name` (the same rules as its validateName), or null. */
export function nameProblem(name: string, t: T): string | null {
  if (name.trim() === '') return t('name.empty');
  if (name === '.' || name === '..') return t('name.dots');
  if (/[/\0\n\r]/.test(name)) return t('name.chars');
  if (new TextEncoder().encode(name).length > 255) return t('name.long');
  return null;
}

export function NameDialog(p: { title: string; label: string; initial?: string; submit: string; onSubmit(name: string): Promise<void>; onClose(): void }): JSX.Element {
  const { t } = useBoot();
  const [name, setName] = useState(p.initial ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const el = input.current;
    if (!el) return;
    el.focus();
    const dot = (p.initial ?? '').lastIndexOf('.');
    el.setSelectionRange(0, dot > 0 ? dot : el.value.length);
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    const problem = nameProblem(name, t);
    if (problem) { setError(problem); return; }
    setBusy(true);
    try {
      await p.onSubmit(name);
      p.onClose();
    } catch (err) {
      const d = describeError(err, t);
      setError(d.status === 409 ? t('name.taken', { name }) : `${d.message} ${d.action}`);
      setBusy(false);
    }
  };
  return (
    <Dialog title={p.title} onClose={p.onClose}>
      <form onSubmit={submit}>
        <div class="field">
          <label for="drive-name">{p.label}</label>
          <input id="drive-name" ref={input} value={name} autoComplete="off" spellcheck={false} aria-invalid={error ? 'true' : 'false'} aria-describedby={error ? 'drive-name-error' : undefined}
            onInput={(e) => { setName((e.target as HTMLInputElement).value); setError(null); }} />
          {error && <p id="drive-name-error" class="error" role="alert">{error}</p>}
        </div>
        <div class="dialog-foot flush">
          <button type="button" onClick={p.onClose}>{t('common.cancel')}</button>
          <button type="submit" class="primary" disabled={busy}>{p.submit}</button>
        </div>
      </form>
    </Dialog>
  );
}

export function ConfirmDialog(p: { title: string; text: string; confirm: string; danger?: boolean; onConfirm(): Promise<void> | void; onClose(): void }): JSX.Element {
  const { t } = useBoot();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async () => {
    setBusy(true);
    try { await p.onConfirm(); p.onClose(); } catch (e) { setError(e); setBusy(false); }
  };
  return (
    <Dialog title={p.title} onClose={p.onClose} footer={<>
      <button type="button" onClick={p.onClose}>{t('common.cancel')}</button>
      <button type="button" class={p.danger ? 'danger primary' : 'primary'} disabled={busy} onClick={run}>{p.confirm}</button>
    </>}>
      <p>{p.text}</p>
      {error !== null && <ErrorView error={error} />}
    </Dialog>
  );
}

/** Picks a destination folder; the folders being moved (and what is under them) cannot be picked. */
export function FolderPicker(p: { title: string; submit: string; start: string; exclude: string[]; onPick(dirId: string): Promise<void>; onClose(): void }): JSX.Element {
  const { t } = useBoot();
  const api = useApi();
  const [dirId, setDirId] = useState(p.start);
  const [state, setState] = useState<{ dir?: DriveFile; folders: DriveFile[]; error?: unknown; loading: boolean }>({ folders: [], loading: true });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let stop = false;
    setState({ folders: [], loading: true });
    (async () => {
      const folders: DriveFile[] = [];
      let next: Next | null = null;
      let dir: DriveFile | undefined;
      try {
        do {
          const page = await api.folderPage(dirId, next);
          dir = page.dir ?? dir;
          folders.push(...page.items.filter((f) => f.type === 'directory'));
          next = page.next;
        } while (next && !stop);
        if (!stop) setState({ dir, folders, loading: false });
      } catch (e) {
        if (!stop) setState({ folders: [], loading: false, error: e });
      }
    })();
    return () => { stop = true; };
  }, [dirId]);
  const excluded = (f: DriveFile) => p.exclude.includes(f._id);
  const blocked = p.exclude.includes(dirId);
  const pick = async () => {
    setBusy(true);
    try { await p.onPick(dirId); p.onClose(); } catch (e) { setError(e); setBusy(false); }
  };
  const where = state.dir ? (state.dir._id === ROOT_ID ? t('nav.files') : state.dir.name) : '';
  return (
    <Dialog title={p.title} onClose={p.onClose} footer={<>
      <button type="button" onClick={p.onClose}>{t('common.cancel')}</button>
      <button type="button" class="primary" disabled={busy || blocked || state.loading || !!state.error} onClick={pick}>{p.submit}</button>
    </>}>
      <p class="picker-where"><Folder size={18} aria-hidden="true" /> <strong>{where}</strong></p>
      {state.dir && state.dir._id !== ROOT_ID && state.dir.dir_id && (
        <button type="button" class="ghost picker-up" onClick={() => setDirId(state.dir?.dir_id ?? ROOT_ID)}><CornerLeftUp size={18} aria-hidden="true" />{t('picker.up')}</button>
      )}
      {state.loading ? <Loading /> : state.error ? <ErrorView error={state.error} onRetry={() => setDirId(dirId)} /> : state.folders.length === 0
        ? <p class="muted">{t('picker.nofolders')}</p>
        : (
          <ul class="picker-list" aria-label={t('picker.folders', { name: where })}>
            {state.folders.map((f) => (
              <li key={f._id}>
                <button type="button" class="ghost" disabled={excluded(f)} onClick={() => setDirId(f._id)}>
                  <Folder size={18} aria-hidden="true" /><span class="ellipsis">{f.name}</span><ChevronRight size={16} aria-hidden="true" />
                </button>
              </li>
            ))}
          </ul>
        )}
      {error !== null && <ErrorView error={error} />}
    </Dialog>
  );
}

/** `path`: where it is, when the caller knows (a file's resource has no path, only its folder's id). */
export function DetailsDialog({ file, path, onClose }: { file: DriveFile; path?: string; onClose(): void }): JSX.Element {
  const { t, locale } = useBoot();
  const rows: [string, string][] = [
    [t('details.type'), file.type === 'directory' ? t('details.folder') : (file.mime ?? '')],
    ...(file.type === 'file' ? [[t('details.size'), formatBytes(Number(file.size ?? 0), locale)] as [string, string]] : []),
    [t('details.created'), formatDate(file.created_at, locale, true)],
    [t('details.updated'), formatDate(file.updated_at, locale, true)],
    ...((file.path ?? path) ? [[t('details.path'), file.path ?? path] as [string, string]] : []),
    ...(file.md5sum ? [['MD5', file.md5sum] as [string, string]] : []),
  ];
  return (
    <Dialog title={file.name} onClose={onClose}>
      <dl class="details">{rows.map(([k, v]) => <><dt key={`${k}-k`}>{k}</dt><dd key={`${k}-v`}>{v}</dd></>)}</dl>
    </Dialog>
  );
}
