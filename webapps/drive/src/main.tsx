/**
 * Drive: the shell (app bar, side navigation, hash routes) around the files pages and the views. One upload queue
 * lives for the whole page, so that uploads go on while the person browses.
 */
import '../../shared/ui.css';
import './app.css';
import './views/views.css';
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Clock, Folder, Image, Link2, Trash2 } from 'lucide-preact';
import { mount } from '../../shared/mount';
import { AppBar, ErrorView, Loading, useBoot } from '../../shared/components';
import { en, fr } from './locales';
import { DriveApi } from './api';
import { FilesPage } from './files-page';
import { useRoute, ROOT_ID, type Route } from './route';
import type { DriveFile } from './types';
import { UploadPanel } from './upload/panel';
import { UploadQueue } from './upload/queue';
import { LinksView, PhotosView } from './lazy-views';
import { VIEWS_EN, VIEWS_FR } from './views/strings';

function Nav({ route }: { route: Route }): JSX.Element {
  const { t } = useBoot();
  const here = route.kind === 'file' ? 'folder' : route.kind;
  const links = [
    { kind: 'folder', href: `#/folder/${ROOT_ID}`, label: t('nav.files'), icon: Folder },
    { kind: 'recent', href: '#/recent', label: t('nav.recent'), icon: Clock },
    { kind: 'photos', href: '#/photos', label: t('nav.photos'), icon: Image },
    { kind: 'links', href: '#/links', label: t('nav.links'), icon: Link2 },
    { kind: 'trash', href: '#/trash', label: t('nav.trash'), icon: Trash2 },
  ];
  return (
    <nav class="sidenav" aria-label={t('nav.label')}>
      {links.map((l) => <a key={l.kind} href={l.href} aria-current={here === l.kind ? 'page' : undefined}><l.icon size={20} aria-hidden="true" />{l.label}</a>)}
    </nav>
  );
}

/** `#/file/<id>/versions|share`: the dialog over the file's folder, once the file is read. */
function FileOverlay({ route, queue }: { route: Extract<Route, { kind: 'file' }>; queue: UploadQueue }): JSX.Element {
  const { client } = useBoot();
  const [state, setState] = useState<{ file?: DriveFile; error?: unknown }>({});
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let stop = false;
    setState({});
    new DriveApi(client).stat(route.fileId).then((file) => { if (!stop) setState({ file }); }, (error: unknown) => { if (!stop) setState({ error }); });
    return () => { stop = true; };
  }, [route.fileId, attempt]);
  if (state.error !== undefined) return <ErrorView error={state.error} onRetry={() => setAttempt((n) => n + 1)} />;
  if (!state.file) return <Loading />;
  return <FilesPage source={{ kind: 'folder', dirId: state.file.dir_id ?? ROOT_ID }} queue={queue} overlay={{ file: state.file, kind: route.dialog }} />;
}

function Body({ route, queue }: { route: Route; queue: UploadQueue }): JSX.Element {
  switch (route.kind) {
    case 'folder': return <FilesPage source={{ kind: 'folder', dirId: route.dirId }} queue={queue} previewId={route.fileId} />;
    case 'file': return <FileOverlay route={route} queue={queue} />;
    case 'trash': return <FilesPage source={{ kind: 'trash' }} queue={queue} />;
    case 'recent': return <FilesPage source={{ kind: 'recent' }} queue={queue} />;
    case 'photos': return <PhotosView />;
    case 'links': return <LinksView />;
  }
}

function App(): JSX.Element {
  const { client, stackOrigin, data } = useBoot();
  const route = useRoute();
  const queue = useRef(new UploadQueue({
    origin: stackOrigin,
    token: () => data.token,
    fetchJSON: (method, path) => client.getStackClient().fetchJSON(method, path) as Promise<never>,
  })).current;
  return (
    <>
      <AppBar />
      <div class="layout">
        <Nav route={route} />
        <main id="main" class="content drive">
          <Body route={route} queue={queue} />
        </main>
      </div>
      <UploadPanel queue={queue} />
    </>
  );
}

mount(App, { en: { ...en, ...VIEWS_EN }, fr: { ...fr, ...VIEWS_FR } });
