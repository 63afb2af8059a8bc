/**
 * Copying a selection that holds folders: a dialog with the item being copied, a progress bar (bytes, or files when
 * they are all empty), the counts, and Cancel. Folders are copied with their progress (copy-progress.ts); a cancel
 * ends the request and the stack removes the unfinished folder. Closing the dialog (Escape) cancels too.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Dialog, useBoot } from '../../shared/components';
import { formatBytes } from '../../shared/i18n';
import { copyFolderWithProgress, type CopyProgress } from './copy-progress';
import { useApi } from './listing-data';
import type { Outcome } from './operations';
import type { DriveFile } from './types';

export function CopyDialog(p: { files: DriveFile[]; dirId: string; onDone(o: Outcome, cancelled: boolean): void }): JSX.Element {
  const { t, locale, stackOrigin, data } = useBoot();
  const api = useApi();
  const [state, setState] = useState<{ name: string; progress?: CopyProgress }>({ name: p.files[0]?.name ?? '' });
  const abort = useRef(new AbortController()).current;
  const done = useRef(p.onDone);
  done.current = p.onDone;

  useEffect(() => {
    const folder = async (f: DriveFile) => {
      const base = `/files/${encodeURIComponent(f._id)}/copy?DirID=${encodeURIComponent(p.dirId)}`;
      const run = (path: string) => copyFolderWithProgress({ origin: stackOrigin, token: data.token, path, signal: abort.signal, onProgress: (progress) => setState({ name: f.name, progress }) });
      // as DriveApi.copy: the same name in another folder, "x (copy)" beside it or where the name is taken
      if (f.dir_id === p.dirId) return run(base);
      try {
        await run(`${base}&Name=${encodeURIComponent(f.name)}`);
      } catch (e) {
        if ((e as { status?: number }).status !== 409) throw e;
        await run(base);
      }
    };
    void (async () => {
      const out: Outcome = { ok: [], failed: [] };
      for (const f of p.files) {
        if (abort.signal.aborted) break;
        setState({ name: f.name });
        try {
          await (f.type === 'directory' ? folder(f) : api.copy(f, p.dirId));
          out.ok.push(f._id);
        } catch (error) {
          if (!abort.signal.aborted) out.failed.push({ id: f._id, error });
        }
      }
      done.current(out, abort.signal.aborted);
    })();
    return () => abort.abort();
  }, []);

  const pr = state.progress;
  const [value, max] = !pr ? [0, 1] : pr.total_bytes > 0 ? [pr.bytes, pr.total_bytes] : [pr.files, Math.max(1, pr.total_files)];
  return (
    <Dialog title={t('copy.title', { n: p.files.length })} onClose={() => abort.abort()}
      footer={<button type="button" onClick={() => abort.abort()}>{t('common.cancel')}</button>}>
      <p>{t('copy.item', { name: state.name })}</p>
      <progress class="copy-progress" max={max} value={value} aria-label={t('copy.progress', { name: state.name })} />
      <p class="muted small" role="status">
        {pr ? `${t('copy.files', { n: pr.files, total: pr.total_files })} · ${formatBytes(pr.bytes, locale)} / ${formatBytes(pr.total_bytes, locale)}` : t('copy.starting')}
      </p>
    </Dialog>
  );
}
