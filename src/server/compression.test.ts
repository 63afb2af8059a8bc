/** Response compression of the public server (compression.ts) on a real Hearth: what is compressed, and what never is. */
import { request, type IncomingMessage } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { ROOT, mkdir, upload } from '../../test/helpers/files.js';

let h: TestHearth;
let token: string;
const DT = 'io.cozy.compression.tests';

interface Raw { status: number; headers: IncomingMessage['headers']; body: Buffer }

function get(path: string, headers: Record<string, string> = {}, method = 'GET', body?: unknown): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const r = request({
      host: '127.0.0.1', port: h.port, method, path, agent: false,
      headers: { host: h.domain, authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}), ...headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    r.on('error', reject);
    r.end(payload);
  });
}

const decoded = (r: Raw): string => {
  const enc = r.headers['content-encoding'];
  return (enc === 'br' ? brotliDecompressSync(r.body) : enc === 'gzip' ? gunzipSync(r.body) : r.body).toString('utf8');
};

beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken(`${DT} io.cozy.files`);
  const docs = Array.from({ length: 300 }, (_, i) => ({ _id: `doc-${String(i).padStart(4, '0')}`, title: `Document number ${i}`, tags: ['alpha', 'beta', 'gamma'], n: i }));
  const res = await h.req('POST', `/data/${DT}/_bulk_docs`, { token, body: { docs } });
  expect(res.status, res.text).toBe(201);
});
afterAll(() => h.close());

describe('response compression', () => {
  const find = { selector: { n: { $gte: 0 } }, limit: 1000 };

  it('compresses a large _find answer with brotli or gzip as negotiated; each decompresses to the same JSON', async () => {
    const plain = await get(`/data/${DT}/_find`, {}, 'POST', find);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toMatch(/Accept-Encoding/i);
    const json = JSON.parse(plain.body.toString('utf8')) as { docs: unknown[] };
    expect(json.docs).toHaveLength(300);

    const br = await get(`/data/${DT}/_find`, { 'accept-encoding': 'gzip, deflate, br' }, 'POST', find);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/Accept-Encoding/i);
    expect(Number(br.headers['content-length'])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(plain.body.length / 4);
    expect(JSON.parse(decoded(br))).toEqual(json);

    const gzip = await get(`/data/${DT}/_find`, { 'accept-encoding': 'gzip' }, 'POST', find);
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(decoded(gzip))).toEqual(json);

    // brotli refused by its q-value, identity chosen over nothing acceptable
    expect((await get(`/data/${DT}/_find`, { 'accept-encoding': 'br;q=0, gzip' }, 'POST', find)).headers['content-encoding']).toBe('gzip');
    expect((await get(`/data/${DT}/_find`, { 'accept-encoding': 'zstd, deflate' }, 'POST', find)).headers['content-encoding']).toBeUndefined();
  });

  it('compresses a folder listing of /files (JSON-API) and keeps small answers as they are', async () => {
    const dir = await mkdir(h, token, ROOT, 'Listed');
    for (let i = 0; i < 30; i++) await upload(h, token, dir.id, `note-${i}.txt`, `note ${i}`);
    const plain = await get(`/files/${dir.id}?page[limit]=100`);
    const br = await get(`/files/${dir.id}?page[limit]=100`, { 'accept-encoding': 'br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(JSON.parse(decoded(br))).toEqual(JSON.parse(plain.body.toString('utf8')));

    const small = await get(`/data/${DT}/doc-0001`, { 'accept-encoding': 'br, gzip' });
    expect(small.status).toBe(200);
    expect(small.body.length).toBeLessThan(1024);
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(small.body.toString('utf8'))).toMatchObject({ _id: 'doc-0001', n: 1 });
  });

  it('sends a file download as it is stored: whole or a Range, even of a compressible type', async () => {
    const dir = await mkdir(h, token, ROOT, 'Downloads');
    const text = 'All work and no play makes Jack a dull boy.\n'.repeat(500);
    const file = await upload(h, token, dir.id, 'jack.txt', text);
    const whole = await get(`/files/download/${file.id}`, { 'accept-encoding': 'br, gzip' });
    expect(whole.status).toBe(200);
    expect(whole.headers['content-type']).toMatch(/^text\/plain/);
    expect(whole.headers['content-encoding']).toBeUndefined();
    expect(whole.body.toString('utf8')).toBe(text);
    const part = await get(`/files/download/${file.id}`, { 'accept-encoding': 'br, gzip', range: 'bytes=100-2099' });
    expect(part.status).toBe(206);
    expect(part.headers['content-encoding']).toBeUndefined();
    expect(part.headers['content-range']).toBe(`bytes 100-2099/${text.length}`);
    expect(part.body.toString('utf8')).toBe(text.slice(100, 2100));
  });

  it('streams a continuous _changes feed line by line, uncompressed, while it stays open', async () => {
    const lines: string[] = [];
    let res: IncomingMessage | undefined;
    const r = request({
      host: '127.0.0.1', port: h.port, method: 'GET', agent: false,
      path: `/data/${DT}/_changes?feed=continuous&since=now&heartbeat=1000&timeout=60000`,
      headers: { host: h.domain, authorization: `Bearer ${token}`, 'accept-encoding': 'gzip, deflate, br' },
    });
    const firstLine = new Promise<string>((resolve, reject) => {
      r.on('response', (m) => {
        res = m;
        let buf = '';
        m.setEncoding('utf8');
        m.on('data', (c: string) => {
          buf += c;
          const parts = buf.split('\n');
          buf = parts.pop() ?? '';
          lines.push(...parts.filter((l) => l.trim()));
          if (lines.length) resolve(lines[0]!);
        });
      });
      r.on('error', reject);
    });
    r.end();
    try {
      // the feed is open (its headers came) before the write that it must then carry
      while (!res) await new Promise((f) => setTimeout(f, 20));
      expect(res.headers['content-encoding']).toBeUndefined();
      const put = await h.req('PUT', `/data/${DT}/streamed`, { token, body: { hello: 'world' } });
      expect(put.status, put.text).toBe(200);
      expect(JSON.parse(await firstLine)).toMatchObject({ id: 'streamed' });
      expect(res.complete).toBe(false);
    } finally {
      r.destroy();
    }
  });
});
