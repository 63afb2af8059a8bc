/**
 * Drive's first request, started by a script of its own (under 1 KB, deferred like the bundle's module script and
 * before it in index.html, so that it runs first: the app always finds what it started; deferred, it blocks neither
 * the parser nor the first paint) while the page's bundle is downloaded and evaluated: the first page of the folder the URL shows, or of the trash. The request carries the app token in
 * `Authorization`, so it waits for a CORS preflight to the stack's origin; started here, the preflight and the stack's
 * answer are no longer after the bundle's evaluation. It is the very request the app makes (DriveApi.folderPage's
 * path, the token and the stack's origin of the page's data); its response's promise is left to the app client
 * (webapps/shared/early.ts), which uses it once, and only when it is ok. Nothing else changes: the same origin, token
 * and CSP (a script file of the app, no inline script), the same wire request. Then, while the request is on its
 * way, it makes what sorting the listing needs first (sort-early.ts).
 */
import { EARLY_KEY } from '../../shared/early';
import { parseRoute } from './route-parse';
import { folderFirstPath, trashFirstPath } from './first-page';
import { prepareSortEarly } from './sort-early';

/** The path of the first request of the page at `hash`, or null for pages that list no folder first. */
export function firstPagePath(hash: string): string | null {
  const route = parseRoute(hash);
  if (route.kind === 'folder') return folderFirstPath(route.dirId);
  return route.kind === 'trash' ? trashFirstPath : null;
}

function start(): void {
  const raw = document.querySelector('[role=application][data-cozy]')?.getAttribute('data-cozy');
  const path = firstPagePath(location.hash);
  if (!raw || !path) return;
  let data: { token?: unknown; domain?: unknown };
  try { data = JSON.parse(raw) as typeof data; } catch { return; }
  if (typeof data.token !== 'string' || typeof data.domain !== 'string') return;
  const response = fetch(`${location.protocol}//${data.domain}${path}`, {
    headers: { Accept: 'application/json', Authorization: `Bearer ${data.token}` },
    credentials: 'include',
  });
  response.catch(() => undefined); // a failure is the app's to see: it asks again
  const g = globalThis as { [EARLY_KEY]?: Record<string, Promise<Response>> };
  (g[EARLY_KEY] ??= {})[path] = response;
  // while the request is on its way: what sorting the listing needs first
  prepareSortEarly();
}

if (typeof document !== 'undefined') start();
