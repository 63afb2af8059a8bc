/**
 * Requests a page starts from a tiny script of its own, before its bundle is downloaded and evaluated (Drive's
 * first-page.entry.tsx: a folder's first page), so that the request (its CORS preflight first: it carries the app
 * token in `Authorization`) is on its way while the bundle loads. The script puts the response's promise here, under
 * the request's path; the app client takes it, once, for its first GET of that path (client.ts).
 */
export const EARLY_KEY = '__hearthEarly';

type EarlyMap = Record<string, Promise<Response>>;
const earlyMap = (): EarlyMap | undefined => (globalThis as { [EARLY_KEY]?: EarlyMap })[EARLY_KEY];

/** The response to `GET path` an early script asked for, if any (then forgotten: a second GET asks again). */
export function takeEarly(path: string): Promise<Response> | undefined {
  const map = earlyMap();
  const response = map?.[path];
  if (map && response) delete map[path];
  return response;
}
