/**
 * Drive's routes, in the URL's fragment: `#/folder/<id>`, `#/folder/<dir>/file/<id>` (the preview over the folder),
 * `#/file/<id>/versions` and `#/file/<id>/share` (a dialog over the file's folder), `#/recent`, `#/photos`, `#/links`,
 * `#/trash`. Anything else is the root folder.
 */
import { useEffect, useState } from 'preact/hooks';
import { parseRoute, type Route } from './route-parse';

export { ROOT_ID, TRASH_ID, parseRoute, type Route } from './route-parse';

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
