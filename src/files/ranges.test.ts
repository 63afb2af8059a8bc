/**
 * Byte ranges: the parser on its own, then multipart/byteranges answers of /files downloads and WebDAV GET read by
 * real HTTP clients (Node's fetch and curl), every part's headers and bytes checked against the file.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { ROOT, upload } from '../../test/helpers/files.js';
import { HearthError } from '../common/errors.js';
import { MAX_RANGES, parseRanges } from './ranges.js';

describe('parseRanges', () => {
  it('reads one or several ranges, suffixes and open ends, in the order given', () => {
    expect(parseRanges('bytes=0-9', 100)).toEqual([{ start: 0, end: 9 }]);
    expect(parseRanges('bytes=50-59, 0-9 ,-5,,95-96', 100)).toEqual([{ start: 50, end: 59 }, { start: 0, end: 9 }, { start: 95, end: 99 }, { start: 95, end: 96 }]);
    expect(parseRanges('bytes=-500', 100)).toEqual([{ start: 0, end: 99 }]);
  });

  it('ignores what it cannot use: not bytes, malformed, last before first, too many, more bytes than the file', () => {
    for (const v of [undefined, 'items=0-1', 'bytes=', 'bytes=a-b', 'bytes=-', 'bytes=5-2', 'bytes=0-1,5-2', 'bytes=0-1;2-3']) expect(parseRanges(v, 100), String(v)).toBeNull();
    const many = Array.from({ length: MAX_RANGES + 1 }, (_, i) => `${i}-${i}`).join(',');
    expect(parseRanges(`bytes=${many}`, 1000)).toBeNull();
    expect(parseRanges(`bytes=${many.split(',').slice(0, MAX_RANGES).join(',')}`, 1000)).toHaveLength(MAX_RANGES);
    expect(parseRanges('bytes=0-59,40-99', 100)).toBeNull(); // 120 bytes asked of 100
    expect(parseRanges('bytes=0-49,40-89', 100)).toEqual([{ start: 0, end: 49 }, { start: 40, end: 89 }]); // overlap, within the size
  });

  it('drops unsatisfiable ranges and answers 416 when none is left', () => {
    expect(parseRanges('BYTES = 0-9, 200-300', 100)).toEqual([{ start: 0, end: 9 }]);
    expect(parseRanges('bytes=90-200', 100)).toEqual([{ start: 90, end: 99 }]);
    for (const v of ['bytes=100-', 'bytes=200-300,150-160', 'bytes=-0']) {
      try {
        parseRanges(v, 100);
        expect.unreachable(v);
      } catch (err) {
        expect(err).toBeInstanceOf(HearthError);
        expect((err as HearthError).status).toBe(416);
        expect((err as HearthError).headers['Content-Range']).toBe('bytes */100');
      }
    }
    expect(() => parseRanges('bytes=-5', 0)).toThrow(HearthError);
  });
});

let h: TestHearth;
let token: string;
let fileId: string;
// bigger than the blob store's read chunks, so that parts cross chunk boundaries
const CONTENT = randomBytes(3 * 1024 * 1024 + 17);
const SIZE = CONTENT.length;

beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.files');
  fileId = (await upload(h, token, ROOT, 'blob.bin', CONTENT, { 'content-type': 'application/octet-stream' })).id;
});
afterAll(() => h.close());

interface Part {
  headers: Record<string, string>;
  data: Buffer;
}

/** A strict reader of RFC 7233 multipart/byteranges (RFC 2046 framing): throws on anything out of place. */
function parseMultipart(body: Buffer, contentType: string): Part[] {
  const boundary = /^multipart\/byteranges; boundary=([0-9A-Za-z'()+_,./:=?-]{1,70})$/.exec(contentType)?.[1];
  if (!boundary) throw new Error(`not multipart/byteranges: ${contentType}`);
  const parts: Part[] = [];
  let pos = 0;
  const expectText = (text: string) => {
    const got = body.subarray(pos, pos + text.length).toString('latin1');
    if (got !== text) throw new Error(`expected ${JSON.stringify(text)} at ${pos}, got ${JSON.stringify(got)}`);
    pos += text.length;
  };
  expectText(`--${boundary}\r\n`);
  for (;;) {
    const end = body.indexOf('\r\n\r\n', pos);
    if (end < 0) throw new Error('unterminated part headers');
    const headers: Record<string, string> = {};
    for (const line of body.subarray(pos, end).toString('latin1').split('\r\n')) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    pos = end + 4;
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(headers['content-range'] ?? '');
    if (!m) throw new Error(`bad part Content-Range: ${headers['content-range']}`);
    const length = Number(m[2]) - Number(m[1]) + 1;
    parts.push({ headers, data: body.subarray(pos, pos + length) });
    pos += length;
    expectText(`\r\n--${boundary}`);
    if (body.subarray(pos, pos + 2).toString() === '--') {
      expectText('--\r\n');
      if (pos !== body.length) throw new Error(`${body.length - pos} bytes after the closing delimiter`);
      return parts;
    }
    expectText('\r\n');
  }
}

const auth = () => ({ authorization: `Bearer ${token}` });
const slice = (start: number, end: number) => CONTENT.subarray(start, end + 1);

async function fetchRange(path: string, range: string, method = 'GET', headers: Record<string, string> = {}) {
  const res = await fetch(`${h.url}${path}`, { method, headers: { ...auth(), range, ...headers } });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

function checkParts(parts: Part[], want: Array<[number, number]>, mime: string) {
  expect(parts.map((p) => p.headers['content-range'])).toEqual(want.map(([s, e]) => `bytes ${s}-${e}/${SIZE}`));
  for (const [i, [s, e]] of want.entries()) {
    expect(parts[i]!.headers['content-type']).toBe(mime);
    expect(parts[i]!.data.equals(slice(s, e)), `part ${i} (${s}-${e})`).toBe(true);
  }
}

describe.each([
  ['/files/download', () => `/files/download/${fileId}`],
  ['WebDAV GET', () => '/dav/files/blob.bin'],
])('multipart/byteranges on %s', (_name, pathOf) => {
  it('answers 206 with one part per range, in the order asked, each with its type, range and bytes (fetch)', async () => {
    const want: Array<[number, number]> = [[0, 9], [20, 29], [SIZE - 100_000, SIZE - 1], [1_000_000, 2_500_000], [5, 5]];
    const res = await fetchRange(pathOf(), `bytes=0-9,20-29,-100000,1000000-2500000,5-5`);
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBeNull();
    expect(Number(res.headers.get('content-length'))).toBe(res.body.length);
    checkParts(parseMultipart(res.body, res.headers.get('content-type')!), want, 'application/octet-stream');
  });

  it('drops the unsatisfiable ranges (a single one left: a plain 206), and 416 when none is left', async () => {
    const two = await fetchRange(pathOf(), `bytes=${SIZE + 10}-,0-9,${SIZE - 5}-${SIZE + 100}`);
    checkParts(parseMultipart(two.body, two.headers.get('content-type')!), [[0, 9], [SIZE - 5, SIZE - 1]], 'application/octet-stream');
    const one = await fetchRange(pathOf(), `bytes=${SIZE}-,100-199`);
    expect(one.status).toBe(206);
    expect(one.headers.get('content-range')).toBe(`bytes 100-199/${SIZE}`);
    expect(one.body.equals(slice(100, 199))).toBe(true);
    const none = await fetchRange(pathOf(), `bytes=${SIZE}-,${SIZE + 1}-${SIZE + 9}`);
    expect(none.status).toBe(416);
    expect(none.headers.get('content-range')).toBe(`bytes */${SIZE}`);
  });

  it('serves the whole file (200) for more than 50 ranges or ranges adding up to more than the file', async () => {
    const many = Array.from({ length: MAX_RANGES + 1 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(',');
    for (const range of [`bytes=${many}`, `bytes=0-${SIZE - 1},0-${SIZE - 1}`]) {
      const res = await fetchRange(pathOf(), range);
      expect(res.status).toBe(200);
      expect(res.body.equals(CONTENT)).toBe(true);
    }
    const fifty = await fetchRange(pathOf(), `bytes=${many.split(',').slice(0, MAX_RANGES).join(',')}`);
    expect(fifty.status).toBe(206);
    expect(parseMultipart(fifty.body, fifty.headers.get('content-type')!)).toHaveLength(MAX_RANGES);
  });

  it('answers HEAD with the same headers and no body; an If-Range that changed gets the whole file', async () => {
    const get = await fetchRange(pathOf(), 'bytes=0-9,20-29');
    const head = await fetchRange(pathOf(), 'bytes=0-9,20-29', 'HEAD');
    expect(head.status).toBe(206);
    expect(head.body.length).toBe(0);
    expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'));
    expect(head.headers.get('content-type')).toMatch(/^multipart\/byteranges; boundary=/);
    const stale = await fetchRange(pathOf(), 'bytes=0-9,20-29', 'GET', { 'if-range': '"not-the-etag"' });
    expect(stale.status).toBe(200);
    expect(stale.body.equals(CONTENT)).toBe(true);
    const current = await fetchRange(pathOf(), 'bytes=0-9,20-29', 'GET', { 'if-range': String(get.headers.get('etag')) });
    expect(current.status).toBe(206);
  });

  it('refuses a request without a token or with a token of another instance, ranges or not', async () => {
    const none = await fetch(`${h.url}${pathOf()}`, { headers: { range: 'bytes=0-9,20-29' } });
    expect(none.status).toBe(401);
    const foreign = await h.cliToken('io.cozy.files', h.other);
    const other = await fetch(`${h.url}${pathOf()}`, { headers: { authorization: `Bearer ${foreign}`, range: 'bytes=0-9,20-29' } });
    expect([400, 401]).toContain(other.status);
    expect(Buffer.from(await other.arrayBuffer()).includes(slice(0, 9))).toBe(false);
  });
});

describe('curl', () => {
  it('reads a multi-range answer of /files and WebDAV (curl -r)', async () => {
    for (const path of [`/files/download/${fileId}`, '/dav/files/blob.bin']) {
      const out = await new Promise<Buffer>((resolve, reject) => {
        execFile('curl', ['-sS', '-D', '-', '-r', '0-9,2000000-2000099,-7', '-H', `Authorization: Bearer ${token}`, `http://127.0.0.1:${h.port}${path}`, '-H', `Host: ${h.domain}`], { encoding: 'buffer', maxBuffer: 1 << 24 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
      });
      const split = out.indexOf('\r\n\r\n');
      const head = out.subarray(0, split).toString('latin1');
      expect(head).toMatch(/^HTTP\/1\.1 206 /);
      const type = /^content-type: (.*)$/im.exec(head)![1]!.trim();
      checkParts(parseMultipart(out.subarray(split + 4), type), [[0, 9], [2_000_000, 2_000_099], [SIZE - 7, SIZE - 1]], 'application/octet-stream');
    }
  });
});
