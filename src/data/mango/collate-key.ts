/**
 * Order-preserving binary collation keys for JSON values.
 *
 * `encodeKey(a)` compared with `encodeKey(b)` by memcmp (which is how SQLite
 * compares BLOBs) gives the same order as `collate(a, b)` from pouchdb-collate:
 *   null < false < true < numbers < strings < arrays < objects,
 * numbers numerically (-0 == 0), strings by UTF-16 code units (JS `<`),
 * arrays element by element then by length, objects key/value by key/value
 * (in Object.keys order) then by size.
 *
 * Written by hand on purpose: pouchdb-collate's toIndexableString does not
 * compare byte-wise once stored (UTF-8 orders by code points, and it relies on
 * NUL characters), and no library gives a byte-comparable encoding that SQLite
 * can index. Layout (every value's encoding is prefix-free):
 *   0x01 null (also undefined / NaN / ±Infinity, as pouchdb-collate normalises)
 *   0x02 false, 0x03 true
 *   0x04 + 8 bytes: IEEE double big-endian, sign bit flipped (all bits for negatives)
 *   0x05 + UTF-16BE code units, each 0x00 byte escaped as 00 FF, then terminator 00 01
 *   0x06 + elements + 0x00        0x07 + (key string, value)* + 0x00
 */
export const TAG_NULL = 0x01;
export const TAG_FALSE = 0x02;
export const TAG_TRUE = 0x03;
export const TAG_NUMBER = 0x04;
export const TAG_STRING = 0x05;
export const TAG_ARRAY = 0x06;
export const TAG_OBJECT = 0x07;

/** Values nested deeper than this are refused (stack safety). */
const MAX_DEPTH = 200;

class Writer {
  buf = Buffer.allocUnsafe(64);
  len = 0;
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

const f64 = new DataView(new ArrayBuffer(8));

function writeNumber(w: Writer, n: number): void {
  w.ensure(9);
  w.buf[w.len++] = TAG_NUMBER;
  f64.setFloat64(0, n === 0 ? 0 : n); // normalises -0
  const negative = (f64.getUint8(0) & 0x80) !== 0;
  for (let i = 0; i < 8; i++) {
    const b = f64.getUint8(i);
    w.buf[w.len++] = negative ? ~b & 0xff : i === 0 ? b ^ 0x80 : b;
  }
}

/** Escaped UTF-16BE code units, no tag, no terminator. */
function writeStringBody(w: Writer, s: string): void {
  w.ensure(s.length * 4);
  const buf = w.buf;
  let len = w.len;
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    const hi = u >>> 8;
    const lo = u & 0xff;
    if (hi === 0) {
      buf[len++] = 0;
      buf[len++] = 0xff;
    } else buf[len++] = hi;
    if (lo === 0) {
      buf[len++] = 0;
      buf[len++] = 0xff;
    } else buf[len++] = lo;
  }
  w.len = len;
}

function writeString(w: Writer, s: string): void {
  w.byte(TAG_STRING);
  writeStringBody(w, s);
  w.ensure(2);
  w.buf[w.len++] = 0x00;
  w.buf[w.len++] = 0x01;
}

function write(w: Writer, v: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new RangeError('value nested too deeply to collate');
  switch (typeof v) {
    case 'boolean':
      w.byte(v ? TAG_TRUE : TAG_FALSE);
      return;
    case 'number':
      if (Number.isFinite(v)) writeNumber(w, v);
      else w.byte(TAG_NULL);
      return;
    case 'string':
      writeString(w, v);
      return;
    case 'object':
      if (v === null) break;
      if (Array.isArray(v)) {
        w.byte(TAG_ARRAY);
        for (const item of v) write(w, item, depth + 1);
      } else {
        w.byte(TAG_OBJECT);
        const o = v as Record<string, unknown>;
        for (const k of Object.keys(o)) {
          if (o[k] === undefined) continue;
          writeString(w, k);
          write(w, o[k], depth + 1);
        }
      }
      w.byte(0x00);
      return;
  }
  w.byte(TAG_NULL);
}

/** The collation key of a JS value (undefined collates as null, like pouchdb-collate). */
export function encodeKey(v: unknown): Buffer {
  const w = new Writer();
  write(w, v, 0);
  return w.result();
}

const NULL_KEY = Buffer.from([TAG_NULL]);

/**
 * Key of a JSON text as SQLite's `->` returns it. SQL NULL (a missing field)
 * gets null's key, as pouchdb-collate treats undefined as null; the SQL checks
 * existence separately where PouchDB's matchers require it.
 */
export function keyOfJson(text: unknown): Buffer {
  if (text === null || text === undefined) return NULL_KEY;
  if (typeof text !== 'string') return encodeKey(text);
  if (text.charCodeAt(0) === 0x22 /* " */ && text.indexOf('\\') < 0) {
    const w = new Writer();
    writeString(w, text.slice(1, -1));
    return w.result();
  }
  return encodeKey(JSON.parse(text));
}

/** Byte range [lo, hi) holding the keys of exactly the strings starting with `prefix`. */
export function prefixRange(prefix: string): [Buffer, Buffer] {
  const w = new Writer();
  w.byte(TAG_STRING);
  writeStringBody(w, prefix);
  const p = w.result();
  let end = p.length;
  while (end > 0 && p[end - 1] === 0xff) end--;
  const hi = Buffer.from(p.subarray(0, end)); // end >= 1: the tag byte is never 0xff
  hi[end - 1] = (hi[end - 1] ?? 0) + 1;
  return [encodeKey(prefix), hi];
}
