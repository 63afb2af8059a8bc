/**
 * HTTP conditional and range requests on a file's content (RFC 9110 §13 and §14), as Go's
 * http.ServeContent answers them for cozy-stack: If-Match / If-Unmodified-Since → 412,
 * If-None-Match / If-Modified-Since → 304, `Range` → 206 with one or several ranges (../ranges.ts: 416 when none
 * can be satisfied, the whole content when they are too many or overlap); an If-Range that no longer matches gets
 * the whole content (200).
 */
import type { FastifyRequest } from 'fastify';
import { PreconditionFailed } from '../../common/errors.js';
import type { ByteRange } from '../blobs/store.js';
import { parseRanges } from '../ranges.js';
import { header } from './params.js';

export interface Validators {
  /** Strong ETag, quotes included. */
  etag: string;
  /** Last-Modified, in whole seconds (HTTP dates have no more precision). */
  modified: number;
  size: number;
}

export type Outcome = { status: 200 } | { status: 304 } | { status: 206; ranges: ByteRange[] };

const tags = (v: string) => v.split(',').map((t) => t.trim().replace(/^W\//, ''));
const httpTime = (v: string | undefined) => (v === undefined ? NaN : Date.parse(v));

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
  const ranges = parseRanges(range, v.size);
  return ranges ? { status: 206, ranges } : { status: 200 };
}
