/**
 * Drive's routes, in the URL's fragment (route.ts lists them), parsed: with no import, so that the early script
 * (first-page.early.ts) reads them as the app does.
 */
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
