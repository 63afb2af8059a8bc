/**
 * The old versions of a file (io.cozy.files.versions, the file's `relationships.old_versions`), newest first, with
 * their date and size: download one, or restore one after a confirmation (POST /files/revert/:id/:version, which
 * keeps the current content as a version); the list reloads and `onChanged` tells the listing.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Download, History, RotateCcw } from 'lucide-preact';
import { Dialog, Empty, ErrorView, Loading, useBoot, useToast } from '../../../shared/components';
import { formatBytes, formatDate } from '../../../shared/i18n';
import type { VersionsProps } from '../types';
import { downloadLink, revertVersion, startDownload, versionsOf, type VersionDoc } from './api';

export function VersionsDialog(props: VersionsProps): JSX.Element {
  const { client, locale } = useBoot();
  const { t } = useBoot();
  const toast = useToast();
  const [versions, setVersions] = useState<VersionDoc[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [confirm, setConfirm] = useState<VersionDoc | null>(null);
  const [busy, setBusy] = useState(false);
  const [reload, setReload] = useState(0);
  const dateOf = (v: VersionDoc) => formatDate(v.updated_at ?? v.created_at, locale, true);

  useEffect(() => {
    let live = true;
    setError(null);
    versionsOf(client, props.file._id).then((v) => { if (live) setVersions(v); }, (e: unknown) => { if (live) setError(e); });
    return () => { live = false; };
  }, [props.file._id, reload]);

  const download = async (v: VersionDoc) => {
    try {
      startDownload(await downloadLink(client, { versionId: v.id }, true), props.file.name);
    } catch (e) {
      toast.error(e);
    }
  };
  const revert = async (v: VersionDoc) => {
    setBusy(true);
    try {
      await revertVersion(client, props.file._id, v.id);
      toast.show(t('versions.reverted', { date: dateOf(v) }));
      setConfirm(null);
      setReload((n) => n + 1);
      props.onChanged();
    } catch (e) {
      setConfirm(null);
      toast.error(e);
    } finally {
      setBusy(false);
    }
  };

  if (confirm) {
    return (
      <Dialog title={t('versions.confirm.title')} onClose={() => setConfirm(null)} footer={<>
        <button type="button" onClick={() => setConfirm(null)}>{t('common.cancel')}</button>
        <button type="button" class="primary" disabled={busy} onClick={() => void revert(confirm)}>{t('versions.revert')}</button>
      </>}>
        <p>{t('versions.confirm.text', { date: dateOf(confirm), name: props.file.name })}</p>
      </Dialog>
    );
  }
  return (
    <Dialog title={t('versions.title', { name: props.file.name })} onClose={props.onClose} wide>
      <p class="muted small">{t('versions.current')}: {formatDate(props.file.updated_at, locale, true)} · {formatBytes(Number(props.file.size ?? 0), locale)}</p>
      {error ? <ErrorView error={error} onRetry={() => setReload((n) => n + 1)} />
        : versions === null ? <Loading />
        : versions.length === 0 ? <Empty icon={<History aria-hidden="true" />} title={t('versions.empty')}><p>{t('versions.empty.hint')}</p></Empty>
        : (
          <ul class="list versions-list" aria-label={t('versions.title', { name: props.file.name })}>
            {versions.map((v) => (
              <li key={v.id}>
                <History size={20} aria-hidden="true" />
                <div class="grow"><div>{dateOf(v)}</div><div class="muted small">{formatBytes(v.size, locale)}</div></div>
                <button type="button" class="icon-button" aria-label={t('versions.download', { date: dateOf(v) })} title={t('versions.download', { date: dateOf(v) })} onClick={() => void download(v)}><Download size={18} aria-hidden="true" /></button>
                <button type="button" aria-label={t('versions.revert.label', { date: dateOf(v) })} onClick={() => setConfirm(v)}><RotateCcw size={18} aria-hidden="true" />{t('versions.revert')}</button>
              </li>
            ))}
          </ul>
        )}
    </Dialog>
  );
}
