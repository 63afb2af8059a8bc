/**
 * Byte ranges of a file's content (RFC 7233, RFC 9110 §14), shared by /files downloads and WebDAV GET. A `Range:
 * bytes=…` with one satisfiable range answers 206 with Content-Range; with several, 206 `multipart/byteranges`
 * (§4.1): one part per range, in the order asked, each with its Content-Type and Content-Range, streamed part after
 * part from the blob store (each range opened when its turn comes; never the whole file in memory), with an exact
 * Content-Length computed beforehand.
 *
 * What is ignored (the whole content, 200, as §3.1 lets a server do): a header that is not `bytes=` or is malformed,
 * a range whose last byte is before its first, more than MAX_RANGES ranges, and ranges that add up to more bytes than
 * the file (overlaps, repeats: Go's http.ServeContent, which cozy-stack uses, draws the same line). The whole content
 * is always a correct answer a client can use, where 416 would tell it that nothing it asked for exists. Ranges that
 * start past the end are dropped; if none is left, 416 with a Content-Range that gives the size.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { HearthError } from '../common/errors.js';
import type { ByteRange } from './blobs/store.js';

/** More ranges than this in one request: the whole content is served. */
export const MAX_RANGES = 50;

function notSatisfiable(size: number): HearthError {
  return new HearthError(416, 'range_not_satisfiable', `the requested range is outside the file's ${size} bytes: ask for bytes between 0 and ${Math.max(0, size - 1)}`, { 'Content-Range': `bytes */${size}` });
}

/** The satisfiable ranges of a `Range` header, in the order given; null to serve the whole content. Throws 416. */
export function parseRanges(value: string | undefined, size: number): ByteRange[] | null {
  const m = value === undefined ? null : /^\s*bytes\s*=(.*)$/i.exec(value);
  if (!m) return null;
  const specs = m[1]!.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length === 0 || specs.length > MAX_RANGES) return null;
  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    const r = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
    if (!r || (r[1] === '' && r[2] === '')) return null;
    if (r[1] === '') {
      const suffix = Number(r[2]);
      if (suffix > 0 && size > 0) ranges.push({ start: Math.max(0, size - suffix), end: size - 1 });
      continue;
    }
    const start = Number(r[1]);
    const last = r[2] === '' ? Infinity : Number(r[2]);
    if (!Number.isSafeInteger(start) || last < start) return null; // invalid: the header is ignored (§2.1)
    if (start < size) ranges.push({ start, end: Math.min(last, size - 1) });
  }
  if (ranges.length === 0) throw notSatisfiable(size);
  const total = ranges.reduce((n, r) => n + r.end - r.start + 1, 0);
  return total > size ? null : ranges;
}

export type OpenRange = (range: ByteRange) => Promise<Readable>;

/** The headers and the body of a 206 answer for satisfiable `ranges` of a `size`-byte content of type `mime`. */
export interface PartialContent {
  headers: Record<string, string>;
  /** The body, given the stream of the first range (opened by the caller before any header is sent). */
  body(first: Readable, open: OpenRange): Readable;
}

export function partialContent(ranges: ByteRange[], size: number, mime: string): PartialContent {
  const contentRange = (r: ByteRange) => `bytes ${r.start}-${r.end}/${size}`;
  if (ranges.length === 1) {
    const r = ranges[0]!;
    return { headers: { 'content-range': contentRange(r), 'content-length': String(r.end - r.start + 1) }, body: (first) => first };
  }
  const boundary = randomBytes(16).toString('hex');
  const heads = ranges.map((r, i) => Buffer.from(`${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${mime}\r\nContent-Range: ${contentRange(r)}\r\n\r\n`));
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const length = heads.reduce((n, h) => n + h.length, tail.length) + ranges.reduce((n, r) => n + r.end - r.start + 1, 0);
  return {
    headers: { 'content-type': `multipart/byteranges; boundary=${boundary}`, 'content-length': String(length) },
    body(first, open) {
      async function* parts(): AsyncGenerator<Buffer> {
        for (let i = 0; i < ranges.length; i++) {
          yield heads[i]!;
          const part = i === 0 ? first : await open(ranges[i]!);
          try {
            for await (const chunk of part) yield chunk as Buffer;
          } finally {
            part.destroy();
          }
        }
        yield tail;
      }
      const out = Readable.from(parts(), { objectMode: false });
      // an answer cut short (the client went away) still closes the first range's file
      out.once('close', () => first.destroy());
      return out;
    },
  };
}
