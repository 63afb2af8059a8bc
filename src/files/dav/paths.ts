/**
 * URLs under /dav/files/ ↔ paths of the file system. Each segment is percent-decoded as UTF-8 and
 * must be a valid file name (types.ts: no "/", NUL, "." or ".."; NFC), so `..`, `%2e%2e`, `%2F`
 * and `%00` are refused with 400, never resolved. Hrefs are written back with every segment
 * percent-encoded, collections with a trailing slash. The trash (/.cozy_trash) is hidden: it is
 * never listed, and its URLs are answered 404 (reads) or 403 (writes).
 */
import { BadRequest, HearthError } from '../../common/errors.js';
import { TRASH_PATH, validateName } from '../types.js';

export const DAV_ROOT = '/dav/files';

export interface Target {
  /** The file-system path: "/" or "/a/b", NFC. */
  path: string;
  /** In the (hidden) trash. */
  hidden: boolean;
}

function decodeSegment(raw: string): string {
  let s: string;
  try {
    s = decodeURIComponent(raw);
  } catch {
    throw new BadRequest(`the URL segment "${raw.slice(0, 80)}" is not valid percent-encoded UTF-8`);
  }
  try {
    return validateName(s);
  } catch (err) {
    throw new BadRequest(`the URL segment "${raw.slice(0, 80)}" is not a valid name: ${(err as Error).message}`);
  }
}

/** From a raw path such as `/dav/files/a%20b/c` (no query, no fragment) to its target. */
export function targetOfPath(rawPath: string): Target {
  if (rawPath !== DAV_ROOT && !rawPath.startsWith(`${DAV_ROOT}/`)) throw new HearthError(502, 'bad_gateway', 'the destination is not under /dav/files/ on this server');
  const rest = rawPath.slice(DAV_ROOT.length).replace(/\/$/, '');
  if (rest === '') return { path: '/', hidden: false };
  const segments = rest.slice(1).split('/');
  if (segments.some((s) => s === '')) throw new BadRequest('the URL has an empty segment ("//")');
  const path = `/${segments.map(decodeSegment).join('/')}`;
  return { path, hidden: path === TRASH_PATH || path.startsWith(`${TRASH_PATH}/`) };
}

/** The target of the request-target (`req.raw.url`): a fragment is refused, the query ignored. */
export function targetOfUrl(rawUrl: string): Target {
  if (rawUrl.includes('#')) throw new BadRequest('a request URL cannot carry a fragment ("#"): percent-encode it as %23 in a name');
  const noQuery = rawUrl.split('?')[0]!;
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(noQuery);
  return targetOfPath(abs ? noQuery.slice(abs[0].length) || '/' : noQuery);
}

/**
 * The Destination header of COPY and MOVE: an absolute URI on this host (502 otherwise, as RFC 4918
 * §9.8.5 says) or an absolute path, under /dav/files/.
 */
export function destinationOf(header: string | string[] | undefined, host: string | undefined): Target {
  if (typeof header !== 'string' || header === '') throw new BadRequest('COPY and MOVE need a Destination header');
  if (header.includes('#')) throw new BadRequest('the Destination cannot carry a fragment');
  const noQuery = header.split('?')[0]!;
  const abs = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)(.*)$/i.exec(noQuery);
  if (!abs) {
    if (!noQuery.startsWith('/')) throw new BadRequest('the Destination must be an absolute URI or an absolute path');
    return targetOfPath(noQuery);
  }
  if (abs[2]!.toLowerCase() !== String(host ?? '').toLowerCase()) throw new HearthError(502, 'bad_gateway', 'the destination is on another server');
  return targetOfPath(abs[3] || '/');
}

/** The href of a path: `/dav/files/` + percent-encoded segments, "/" after a collection. */
export function hrefOf(path: string, collection: boolean): string {
  const encoded = path === '/' ? '' : path.split('/').slice(1).map(encodeURIComponent).join('/');
  return `${DAV_ROOT}/${encoded}${collection && encoded !== '' ? '/' : ''}`;
}

export const nameOf = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

/** `inner` is `outer` or below it. */
export const within = (inner: string, outer: string): boolean => inner === outer || outer === '/' || inner.startsWith(`${outer}/`);
