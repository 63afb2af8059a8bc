/**
 * The page a share link opens (Drive's public route `/public?sharecode=…`; the stack asks the password of a protected
 * link before serving it, and puts the link's token in the page). A shared file: its preview and Download. A shared
 * folder: its listing (subfolders open in place), each file's preview and download, and the whole folder as a zip.
 */
import '../../shared/ui.css';
import './views/views.css';
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Download, File as FileIcon, Folder, FolderOpen } from 'lucide-preact';
import { mount } from '../../shared/mount';
import { ErrorView, Loading, useBoot, useToast } from '../../shared/components';
import { formatBytes, formatDate } from '../../shared/i18n';
import type { DriveFile } from './types';
import { archiveLink, getFile, kindOf, listFolder, startDownload } from './views/api';
import { Content, DownloadButton, Preview } from './views/preview';
import { VIEWS_EN, VIEWS_FR } from './views/strings';

/** The link's token refused or its item gone: the link no longer works (revoked, expired, deleted). */
const refused = (e: unknown): boolean => [401, 403, 404].includes(Number((e as { status?: unknown } | null)?.status));

function Invalid(): JSX.Element {
  const { t } = useBoot();
  return <div class="alert" role="alert"><div><strong>{t('public.invalid')}</strong><span>{t('public.invalid.action')}</span></div></div>;
}

function FolderView({ root }: { root: DriveFile }): JSX.Element {
  const { client, locale } = useBoot();
  const { t } = useBoot();
  const toast = useToast();
  const [trail, setTrail] = useState<DriveFile[]>([root]);
  const [items, setItems] = useState<DriveFile[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState<DriveFile | null>(null);
  const dir = trail[trail.length - 1]!;
  useEffect(() => {
    let live = true;
    setItems(null);
    listFolder(client, dir._id).then((l) => { if (live) setItems(l.sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'directory' ? -1 : 1))); }, (e: unknown) => { if (live) setError(e); });
    return () => { live = false; };
  }, [dir._id]);
  const zip = async () => {
    try {
      startDownload(await archiveLink(client, [dir._id], dir.name), `${dir.name}.zip`);
    } catch (e) {
      toast.error(e);
    }
  };
  const previewable = (items ?? []).filter((f) => f.type === 'file' && kindOf(f) !== 'other');
  return (
    <>
      <div class="public-head">
        <FolderOpen size={32} aria-hidden="true" />
        <h1>{dir.name}</h1>
        <button type="button" class="primary" onClick={() => void zip()}><Download size={18} aria-hidden="true" />{t('public.zip')}</button>
      </div>
      {trail.length > 1 && (
        <nav aria-label={t('pick.breadcrumb')}>
          <ol class="crumbs">{trail.slice(0, -1).map((d, i) => <li key={d._id}><button type="button" class="ghost" onClick={() => setTrail(trail.slice(0, i + 1))}>{d.name}</button> /</li>)}</ol>
        </nav>
      )}
      {error ? <ErrorView error={error} />
        : items === null ? <Loading />
        : items.length === 0 ? <p class="empty">{t('public.empty')}</p>
        : (
          <>
            <p class="muted small">{t('public.items', { n: items.length })}</p>
            <ul class="list" aria-label={dir.name}>
              {items.map((f) => (
                <li key={f._id}>
                  {f.type === 'directory' ? <Folder size={22} aria-hidden="true" /> : <FileIcon size={22} aria-hidden="true" />}
                  {f.type === 'directory'
                    ? <button type="button" class="entry-button" onClick={() => setTrail([...trail, f])}>{f.name}</button>
                    : <button type="button" class="entry-button" aria-label={t('public.preview', { name: f.name })} onClick={() => setOpen(f)}><span class="ellipsis">{f.name}</span></button>}
                  {f.type === 'file' && <span class="muted small">{formatBytes(Number(f.size ?? 0), locale)}</span>}
                </li>
              ))}
            </ul>
          </>
        )}
      {open && <Preview file={open} files={kindOf(open) === 'other' ? [open] : previewable} onNavigate={setOpen} onClose={() => setOpen(null)} />}
    </>
  );
}

function FileView({ file }: { file: DriveFile }): JSX.Element {
  const { locale } = useBoot();
  return (
    <>
      <div class="public-head">
        <FileIcon size={32} aria-hidden="true" />
        <h1>{file.name}</h1>
        <DownloadButton file={file} primary />
      </div>
      <p class="muted small">{formatBytes(Number(file.size ?? 0), locale)} · {formatDate(file.updated_at, locale)}</p>
      <div class="public-preview"><Content file={file} /></div>
    </>
  );
}

function PublicApp(): JSX.Element {
  const { client, data } = useBoot();
  const { t } = useBoot();
  const [shared, setShared] = useState<DriveFile | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!data.token) return;
    (async () => {
      const self = (await client.getStackClient().fetchJSON('GET', '/permissions/self')) as { data: { attributes: { permissions: Record<string, { type: string; values?: string[] }> } } };
      const rule = Object.values(self.data.attributes.permissions).find((r) => r.type === 'io.cozy.files' && r.values?.length);
      if (!rule?.values?.[0]) throw Object.assign(new Error('no file in this link'), { status: 404 });
      setShared((await getFile(client, rule.values[0])).file);
    })().catch(setError);
  }, []);
  return (
    <>
      <header class="appbar"><span class="brand"><span>{t('public.title')}</span></span></header>
      <main id="main" class="content">
        {!data.token || refused(error) ? <Invalid /> : error ? <ErrorView error={error} /> : !shared ? <Loading /> : shared.type === 'directory' ? <FolderView root={shared} /> : <FileView file={shared} />}
      </main>
    </>
  );
}

mount(PublicApp, { en: VIEWS_EN, fr: VIEWS_FR });
