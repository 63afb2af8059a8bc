/**
 * Drive's routes, in the URL's fragment: `#/folder/<id>`, `#/folder/<dir>/file/<id>` (the preview over the folder),
 * `#/file/<id>/versions` and `#/file/<id>/share` (a dialog over the file's folder), `#/recent`, `#/photos`, `#/links`,
 * `#/trash`. Anything else is the root folder.
 */
import { useEffect, useState } from 'preact/hooks';

export const ROOT_ID = 'io.cozy.files.root-dir';
export const TRASH_ID = 'io.cozy.files.trash-dir';

export type Route =
  | { kind: 'folder'; dirId: string; fileId?: string }
  | { kind: 'file'; fileId: string; dialog: 'versions' | 'share' }
  | { kind: 'recent' | 'photos' | 'links' | 'trash' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
  const [head, a, b, c] = parts;
  if (head === 'folder' && a) return b === 'file' && c ? { kind: 'folder', dirId: a, fileId: c } : { kind: 'folder', dirId: a };
  if (head === 'file' && a && (b === 'versions' || b === 'share')) return { kind: 'file', fileId: a, dialog: b };
  if (head === 'recent' || head === 'photos' || head === 'links' || head === 'trash') return { kind: head };
  return { kind: 'folder', dirId: ROOT_ID };
}

export const folderHref = (dirId: string): string => `#/folder/${encodeURIComponent(dirId)}`;
export const previewHref = (dirId: string, fileId: string): string => `${folderHref(dirId)}/file/${encodeURIComponent(fileId)}`;
export const fileDialogHref = (fileId: string, dialog: 'versions' | 'share'): string => `#/file/${encodeURIComponent(fileId)}/${dialog}`;

export function go(href: string): void {
  location.hash = href;
}

/** The current route, following hash changes. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
