/**
 * HTTP conditional and range requests on a file's content (RFC 9110 §13 and §14), as Go's
 * http.ServeContent answers them for cozy-stack: If-Match / If-Unmodified-Since → 412,
 * If-None-Match / If-Modified-Since → 304, one `Range` → 206 (416 when it cannot be satisfied);
 * several ranges, or an If-Range that no longer matches, get the whole content (200).
 */
import type { FastifyRequest } from 'fastify';
import { HearthError, PreconditionFailed } from '../../common/errors.js';
import type { ByteRange } from '../blobs/store.js';
import { header } from './params.js';

export interface Validators {
  /** Strong ETag, quotes included. */
  etag: string;
  /** Last-Modified, in whole seconds (HTTP dates have no more precision). */
  modified: number;
  size: number;
}

export type Outcome = { status: 200 } | { status: 304 } | { status: 206; range: ByteRange };

const tags = (v: string) => v.split(',').map((t) => t.trim().replace(/^W\//, ''));
const httpTime = (v: string | undefined) => (v === undefined ? NaN : Date.parse(v));

function rangeNotSatisfiable(size: number): HearthError {
  return new HearthError(416, 'range_not_satisfiable', `the requested range is outside the file's ${size} bytes`, { 'Content-Range': `bytes */${size}` });
}

/** One `bytes=` range, or null to serve everything (no Range, a malformed one, several ranges). */
export function parseRange(value: string | undefined, size: number): ByteRange | null {
  const m = value === undefined ? null : /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(value);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) throw rangeNotSatisfiable(size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (!Number.isSafeInteger(start) || start >= size) throw rangeNotSatisfiable(size);
  if (end < start) return null; // an invalid range is ignored (RFC 9110 §14.1.1)
  return { start, end };
}

export function evaluate(req: FastifyRequest, v: Validators): Outcome {
  const ifMatch = header(req, 'if-match');
  if (ifMatch !== undefined) {
    if (ifMatch !== '*' && !tags(ifMatch).includes(v.etag)) throw new PreconditionFailed('the file changed: its ETag does not match If-Match');
  } else if (v.modified > httpTime(header(req, 'if-unmodified-since'))) {
    throw new PreconditionFailed('the file was modified after If-Unmodified-Since');
  }
  const ifNoneMatch = header(req, 'if-none-match');
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch === '*' || tags(ifNoneMatch).includes(v.etag)) return { status: 304 };
  } else if (v.modified <= httpTime(header(req, 'if-modified-since'))) {
    return { status: 304 };
  }
  const range = header(req, 'range');
  if (range === undefined) return { status: 200 };
  const ifRange = header(req, 'if-range');
  if (ifRange !== undefined && (ifRange.startsWith('"') || ifRange.startsWith('W/') ? ifRange !== v.etag : httpTime(ifRange) !== v.modified)) return { status: 200 };
  const r = parseRange(range, v.size);
  return r ? { status: 206, range: r } : { status: 200 };
}
