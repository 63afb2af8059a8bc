/**
 * One page of Drive that lists files: a folder (breadcrumbs, new folder, upload by picker or drop, every operation),
 * the trash (restore, delete forever, empty) or the recent files. The views of the other engineer (Preview, versions,
 * sharing) open over it from the route.
 */
import type { JSX } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ArchiveRestore, Copy, Download, Eye, FileUp, FolderInput, FolderPlus, FolderUp, History, Info, LayoutGrid, List, Pencil, Share2, Trash2, X } from 'lucide-preact';
import { Empty, ErrorView, Loading, useBoot, useToast } from '../../shared/components';
import { describeError } from '../../shared/errors';
import { prepareFormats } from '../../shared/i18n';
import { Crumbs } from './crumbs';
import { IconSprite, previewable } from './icons';
import { ConfirmDialog, CopyDialog, DetailsDialog, FolderPicker, NameDialog, Preview, ShareDialog, VersionsDialog, prefetchViews } from './lazy-views';
import { Listing, columnsOf, useNarrow } from './listing';
import { useApi, useListing, type Source } from './listing-data';
import { ActionBar, Menu, type Action } from './menu';
import { download, eachOf, type Outcome } from './operations';
import { fileDialogHref, folderHref, go, previewHref, ROOT_ID } from './route';
import { useSelection } from './selection';
import { compareFiles, prepareSort, useSort, useViewMode } from './sort';
import type { DriveFile } from './types';
import { fromDrop, fromInput } from './upload/picked';
import { joinPath, type UploadQueue } from './upload/queue';

type Modal =
  | { kind: 'newFolder' } | { kind: 'rename'; file: DriveFile } | { kind: 'move' | 'copy'; files: DriveFile[] }
  | { kind: 'details'; file: DriveFile } | { kind: 'destroy'; files: DriveFile[] } | { kind: 'empty' };

export interface FilesPageProps {
  source: Source;
  queue: UploadQueue;
  /** the file the Preview shows */
  previewId?: string;
  /** a view dialog over the folder */
  overlay?: { file: DriveFile; kind: 'versions' | 'share' };
}

export function FilesPage(p: FilesPageProps): JSX.Element {
  const { t, locale } = useBoot();
  const toast = useToast();
  const api = useApi();
  const listing = useListing(p.source);
  const [sort, setSort] = useSort();
  const [view, setView] = useViewMode();
  const narrow = useNarrow();
  // what sorting and drawing the rows needs first, made while the first page is on its way, each in a task of its
  // own: the collator, the formats (and the rows' icons: IconSprite below)
  useEffect(() => { prepareSort(); prepareFormats(locale, columnsOf(view, narrow)); }, []);
  // the views and dialogs' code, fetched ahead once the whole listing is there and the page is idle (not while it loads)
  useEffect(() => { if (listing.complete) prefetchViews(); }, [listing.complete]);
  const items = useMemo(() => [...listing.items].sort(compareFiles(sort)), [listing.items, sort]);
  const order = useMemo(() => items.map((f) => f._id), [items]);
  const sel = useSelection(order);
  const [menu, setMenu] = useState<{ x: number; y: number } | HTMLElement | null>(null);
  const [modal, setModal] = useState<Modal | null>(null);
  /** A copy of folders under way, with its progress dialog (CopyDialog). */
  const [copying, setCopying] = useState<{ files: DriveFile[]; dirId: string } | null>(null);
  const [dropping, setDropping] = useState(false);
  const folder = p.source.kind === 'folder' ? p.source.dirId : null;
  const trash = p.source.kind === 'trash';
  const chosen = items.filter((f) => sel.has(f._id));
  const one = chosen.length === 1 ? chosen[0] : undefined;
  const dirOf = (f: DriveFile) => f.dir_id ?? folder ?? ROOT_ID;

  /** After a dialog or an operation, the focus goes back to the listing (the row that holds the tab stop). */
  const refocus = () => {
    setTimeout(() => {
      if (document.activeElement && document.activeElement !== document.body) return;
      document.querySelector<HTMLElement>('[role=grid] [role=row][tabindex="0"]')?.focus();
    }, 50);
  };
  const closeModal = () => { setModal(null); refocus(); };

  const report = (o: Outcome, done: string) => {
    if (o.failed.length === 0) { toast.show(done); return; }
    const d = describeError(o.failed[0]?.error, t);
    toast.show(`${t('ops.failed', { n: o.failed.length, total: o.failed.length + o.ok.length })} ${d.message} ${d.action}`, { kind: 'error' });
  };

  const open = (f: DriveFile) => {
    if (f.type === 'directory') { if (!trash) go(folderHref(f._id)); return; }
    if (trash) { setModal({ kind: 'details', file: f }); return; }
    go(previewHref(dirOf(f), f._id));
  };

  const toTrash = async (files: DriveFile[]) => {
    const o = await eachOf(files.map((f) => f._id), (id) => api.trash(id));
    listing.drop(o.ok);
    refocus();
    if (o.failed.length) { report(o, ''); return; }
    toast.show(t('ops.trashed', { n: o.ok.length }), { action: { label: t('ops.undo'), run: () => { void eachOf(o.ok, (id) => api.restore(id)).then((r) => { listing.reload(); if (r.failed.length) report(r, ''); }); } } });
  };
  const restore = async (files: DriveFile[]) => {
    const o = await eachOf(files.map((f) => f._id), (id) => api.restore(id));
    listing.drop(o.ok);
    report(o, t('ops.restored', { n: o.ok.length }));
  };
  const moveTo = async (ids: string[], dirId: string) => {
    const o = await eachOf(ids, (id) => api.move(id, dirId));
    if (dirId !== folder) listing.drop(o.ok);
    report(o, t('ops.moved', { n: o.ok.length }));
  };
  const copyTo = async (files: DriveFile[], dirId: string) => {
    if (files.some((f) => f.type === 'directory')) { setCopying({ files, dirId }); return; }
    const o = await eachOf(files.map((f) => f._id), (id) => api.copy(files.find((f) => f._id === id) ?? files[0]!, dirId));
    if (dirId === folder) listing.reload();
    report(o, t('ops.copied', { n: o.ok.length }));
  };
  const dl = (files: DriveFile[]) => { void download(api, files, listing.dir).catch((e: unknown) => toast.error(e)); };

  const actions: Action[] = [];
  if (trash) {
    actions.push({ id: 'restore', label: t('action.restore'), icon: ArchiveRestore, bar: true, run: () => void restore(chosen) });
    actions.push({ id: 'destroy', label: t('action.destroy'), icon: Trash2, bar: true, danger: true, run: () => setModal({ kind: 'destroy', files: chosen }) });
  } else if (chosen.length) {
    if (one && one.type === 'file' && previewable(one)) actions.push({ id: 'preview', label: t('action.preview'), icon: Eye, run: () => open(one) });
    actions.push({ id: 'download', label: t('action.download'), icon: Download, bar: true, run: () => dl(chosen) });
    if (one) actions.push({ id: 'share', label: t('action.share'), icon: Share2, bar: true, run: () => go(fileDialogHref(one._id, 'share')) });
    if (one?.type === 'file') actions.push({ id: 'versions', label: t('action.versions'), icon: History, run: () => go(fileDialogHref(one._id, 'versions')) });
    if (one) actions.push({ id: 'rename', label: t('action.rename'), icon: Pencil, bar: true, run: () => setModal({ kind: 'rename', file: one }) });
    actions.push({ id: 'move', label: t('action.move'), icon: FolderInput, bar: true, run: () => setModal({ kind: 'move', files: chosen }) });
    actions.push({ id: 'copy', label: t('action.copy'), icon: Copy, run: () => setModal({ kind: 'copy', files: chosen }) });
    if (one) actions.push({ id: 'details', label: t('action.details'), icon: Info, run: () => setModal({ kind: 'details', file: one }) });
    actions.push({ id: 'trash', label: t('action.trash'), icon: Trash2, bar: true, danger: true, run: () => void toTrash(chosen) });
  }

  const upload = (files: ReturnType<typeof fromInput>) => {
    const dir = listing.dir;
    if (!folder || !dir) return;
    p.queue.add(files, { dirId: folder, path: dir.path ?? '/' });
  };
  const pick = (dirs: boolean) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.multiple = true;
    if (dirs) input.webkitdirectory = true;
    input.onchange = () => upload(fromInput(input.files));
    input.click();
  };
  const canDrop = folder !== null && !!listing.dir;

  const title = trash ? t('nav.trash') : p.source.kind === 'recent' ? t('nav.recent') : listing.dir && listing.dir._id !== ROOT_ID ? listing.dir.name : t('nav.files');
  // what the Preview moves through, made only while it shows (each file's kind is read: 1,000 of them at each render otherwise)
  const previewing = !!p.previewId;
  const previewFiles = useMemo(() => (previewing ? items.filter((f) => f.type === 'file' && previewable(f)) : []), [items, previewing]);
  // a file the listing has not reached yet (a big folder still loading, a link from elsewhere) is read by itself
  const [fetched, setFetched] = useState<DriveFile | undefined>();
  const listed = p.previewId ? items.find((f) => f._id === p.previewId) : undefined;
  useEffect(() => {
    if (!p.previewId || listed || !listing.ready) return undefined;
    let stop = false;
    api.stat(p.previewId).then((f) => { if (!stop) setFetched(f); }, (e: unknown) => { if (!stop) toast.error(e); });
    return () => { stop = true; };
  }, [p.previewId, !!listed, listing.ready]);
  const previewed = listed ?? (fetched && fetched._id === p.previewId ? fetched : undefined);
  const back = () => go(folder ? folderHref(folder) : '#/recent');

  return (
    <div class={`page${dropping ? ' dropping' : ''}`}
      onDragOver={(e) => { if (canDrop && e.dataTransfer?.types.includes('Files')) { e.preventDefault(); setDropping(true); } }}
      onDragLeave={(e) => { if (!(e.currentTarget as HTMLElement).contains(e.relatedTarget as Node | null)) setDropping(false); }}
      onDrop={(e) => {
        setDropping(false);
        if (!canDrop || !e.dataTransfer?.types.includes('Files')) return;
        e.preventDefault();
        void fromDrop(e.dataTransfer).then((got) => { if (got) upload(got); }).catch((err: unknown) => toast.error(err));
      }}>
      <div class="page-head">
        {folder ? <Crumbs dir={listing.dir} onDropOn={(ids, dirId) => void moveTo(ids, dirId)} /> : <h1>{title}</h1>}
        {/* under the selection's bar: out of reach (Tab, screen readers) until the selection is cleared */}
        <div class="row tools" inert={chosen.length > 0}>
          {folder && <>
            <button type="button" data-action="new-folder" onClick={() => setModal({ kind: 'newFolder' })}><FolderPlus size={18} aria-hidden="true" /><span class="label">{t('action.newFolder')}</span></button>
            <button type="button" class="primary" data-action="upload" onClick={() => pick(false)}><FileUp size={18} aria-hidden="true" /><span class="label">{t('action.upload')}</span></button>
            <button type="button" data-action="upload-folder" onClick={() => pick(true)}><FolderUp size={18} aria-hidden="true" /><span class="label">{t('action.uploadFolder')}</span></button>
          </>}
          {trash && items.length > 0 && <button type="button" class="danger" data-action="empty-trash" onClick={() => setModal({ kind: 'empty' })}><Trash2 size={18} aria-hidden="true" />{t('action.emptyTrash')}</button>}
          <label class="sr-only" for="drive-sort">{t('sort.label')}</label>
          <select id="drive-sort" class="sort-select" value={`${sort.key}-${sort.dir}`} onChange={(e) => { const [key, dir] = (e.target as HTMLSelectElement).value.split('-'); setSort({ key: key as 'name', dir: dir as 'asc' }); }}>
            {(['name', 'date', 'size'] as const).flatMap((k) => (['asc', 'desc'] as const).map((d) => <option key={`${k}-${d}`} value={`${k}-${d}`}>{t(`sort.${k}.${d}`)}</option>))}
          </select>
          <button type="button" class="icon-button" aria-pressed={view === 'grid' ? 'true' : 'false'} aria-label={t('view.grid')} title={t('view.grid')} onClick={() => setView(view === 'grid' ? 'list' : 'grid')}>
            {view === 'grid' ? <List size={20} aria-hidden="true" /> : <LayoutGrid size={20} aria-hidden="true" />}
          </button>
        </div>
        <div class={`selbar${chosen.length ? '' : ' hidden'}`}>
          {chosen.length > 0 && <>
            <button type="button" class="icon-button" aria-label={t('list.clear')} onClick={() => sel.clear()}><X size={18} aria-hidden="true" /></button>
            <span class="selcount">{t('list.count', { n: chosen.length })}</span>
            <ActionBar actions={actions} label={t('list.actions')} />
          </>}
        </div>
      </div>
      <IconSprite />
      <p class="sr-only" aria-live="polite">{chosen.length ? `${t('list.count', { n: chosen.length })}. ${actions.map((a) => a.label).join(', ')}` : ''}</p>
      {listing.error !== undefined ? <ErrorView error={listing.error} onRetry={listing.reload} />
        : !listing.ready ? <Loading />
          : items.length === 0 ? (
            <Empty title={trash ? t('empty.trash') : p.source.kind === 'recent' ? t('empty.recent') : t('empty.folder')}>
              {folder && <p>{t('empty.folder.hint')}</p>}
            </Empty>
          ) : (
            <Listing items={items} view={view} sort={sort} onSort={setSort} selection={sel} label={title}
              hrefOf={(f) => (trash ? undefined : f.type === 'directory' ? folderHref(f._id) : previewHref(dirOf(f), f._id))}
              onOpen={open} onMenu={(at) => setMenu(at)}
              onDelete={() => (trash ? setModal({ kind: 'destroy', files: chosen }) : void toTrash(chosen))}
              onRename={trash ? undefined : () => one && setModal({ kind: 'rename', file: one })}
              onDropOn={folder ? (ids, dirId) => void moveTo(ids, dirId) : undefined} />
          )}
      {!listing.complete && listing.ready && listing.count !== undefined && <p class="muted small more">{t('list.loadingMore', { n: items.length, total: listing.count })}</p>}
      {dropping && <div class="dropzone" aria-hidden="true"><FileUp size={40} />{t('upload.dropHere', { name: title })}</div>}
      {menu && actions.length > 0 && <Menu actions={actions} at={menu} label={t('list.actions')} onClose={() => setMenu(null)} />}

      {modal?.kind === 'newFolder' && folder && <NameDialog title={t('action.newFolder')} label={t('name.label')} submit={t('action.create')} onClose={closeModal}
        onSubmit={async (name) => { await api.createFolder(folder, name); listing.reload(); }} />}
      {modal?.kind === 'rename' && <NameDialog title={t('action.rename')} label={t('name.label')} initial={modal.file.name} submit={t('action.rename')} onClose={closeModal}
        onSubmit={async (name) => { await api.rename(modal.file._id, name); listing.reload(); toast.show(t('ops.renamed', { name })); }} />}
      {(modal?.kind === 'move' || modal?.kind === 'copy') && <FolderPicker title={t(modal.kind === 'move' ? 'picker.moveTitle' : 'picker.copyTitle', { n: modal.files.length })}
        submit={t(modal.kind === 'move' ? 'picker.moveHere' : 'picker.copyHere')} start={folder ?? ROOT_ID}
        exclude={[...modal.files.filter((f) => f.type === 'directory').map((f) => f._id), ...(modal.kind === 'move' && folder ? [folder] : [])]}
        onClose={closeModal}
        onPick={async (dirId) => { if (modal.kind === 'move') await moveTo(modal.files.map((f) => f._id), dirId); else await copyTo(modal.files, dirId); }} />}
      {copying && <CopyDialog files={copying.files} dirId={copying.dirId} onDone={(o, cancelled) => {
        setCopying(null);
        refocus();
        if (copying.dirId === folder) listing.reload();
        if (cancelled) toast.show(t('copy.cancelled')); else report(o, t('ops.copied', { n: o.ok.length }));
      }} />}
      {modal?.kind === 'details' && <DetailsDialog file={modal.file} onClose={closeModal}
        path={listing.dir?.path && modal.file.dir_id === listing.dir._id ? joinPath(listing.dir.path, modal.file.name) : undefined} />}
      {modal?.kind === 'destroy' && <ConfirmDialog title={t('confirm.destroy.title', { n: modal.files.length })} text={t('confirm.destroy.text')} confirm={t('action.destroy')} danger
        onClose={closeModal} onConfirm={async () => { const o = await eachOf(modal.files.map((f) => f._id), (id) => api.destroy(id)); listing.drop(o.ok); report(o, t('ops.destroyed', { n: o.ok.length })); }} />}
      {modal?.kind === 'empty' && <ConfirmDialog title={t('confirm.empty.title')} text={t('confirm.empty.text')} confirm={t('action.emptyTrash')} danger
        onClose={closeModal} onConfirm={async () => { await api.emptyTrash(); listing.reload(); toast.show(t('ops.emptied')); }} />}

      {p.previewId && previewed && <Preview file={previewed} files={previewFiles.length ? previewFiles : [previewed]} onNavigate={(f) => go(previewHref(dirOf(f), f._id))} onClose={back} />}
      {p.overlay?.kind === 'versions' && <VersionsDialog file={p.overlay.file} onClose={back} onChanged={listing.reload} />}
      {p.overlay?.kind === 'share' && <ShareDialog file={p.overlay.file} onClose={back} />}
    </div>
  );
}
