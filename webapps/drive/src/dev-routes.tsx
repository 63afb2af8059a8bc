/**
 * A minimal hash router for Drive's views until the shell lands (the shell routes the same fragments; the lead drops
 * this file when merging it): #/photos, #/links, #/folder/<dir>/file/<id> (the Preview, moving through the folder's
 * previewable files), #/file/<id>/versions and #/file/<id>/share.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorView, Loading, useBoot } from '../../shared/components';
import type { DriveFile } from './types';
import { getFile, kindOf, listFolder } from './views/api';
import { LinksView } from './views/links';
import { PhotosView } from './views/photos';
import { Preview } from './views/preview';
import { ShareDialog } from './views/share';
import { VersionsDialog } from './views/versions';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function FileRoute({ id, dir, view }: { id: string; dir?: string; view: 'preview' | 'versions' | 'share' }): JSX.Element {
  const { client } = useBoot();
  const [state, setState] = useState<{ file: DriveFile; files: DriveFile[] } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  useEffect(() => {
    (async () => {
      const { file } = await getFile(client, id);
      const files = dir ? (await listFolder(client, dir)).filter((f) => f.type === 'file' && kindOf(f) !== 'other') : [file];
      setState({ file, files: files.some((f) => f._id === id) ? files : [file] });
    })().catch(setError);
  }, [id, dir, reload]);
  if (error) return <ErrorView error={error} />;
  if (!state) return <Loading />;
  const back = () => { location.hash = dir ? `#/folder/${dir}` : '#/'; };
  if (view === 'versions') return <VersionsDialog file={state.file} onClose={back} onChanged={() => setReload((n) => n + 1)} />;
  if (view === 'share') return <ShareDialog file={state.file} onClose={back} />;
  return <Preview file={state.file} files={state.files} onNavigate={(f) => { location.hash = `#/folder/${dir ?? ''}/file/${f._id}`; }} onClose={back} />;
}

export function DevRoutes(): JSX.Element {
  const hash = useHash();
  let m: RegExpExecArray | null;
  if (hash === '#/photos') return <PhotosView />;
  if (hash === '#/links') return <LinksView />;
  if ((m = /^#\/folder\/([^/]+)\/file\/([^/]+)$/.exec(hash))) return <FileRoute key={`preview-${m[1]!}`} id={decodeURIComponent(m[2]!)} dir={decodeURIComponent(m[1]!)} view="preview" />;
  if ((m = /^#\/file\/([^/]+)\/(versions|share)$/.exec(hash))) return <FileRoute key={hash} id={decodeURIComponent(m[1]!)} view={m[2] as 'versions' | 'share'} />;
  return <h1>Drive</h1>;
}
