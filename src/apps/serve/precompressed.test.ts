/**
 * An app served from a folder (`apps.devDirs`, e.g. dist/webapps/<slug> of `npm run build`) sends the `.br` or `.gz`
 * copy the build wrote beside a bundle to the browsers that accept it, with Content-Encoding and Vary, its ETag naming
 * the encoding, the immutable caching of hashed names kept; never a copy older than the file.
 */
import { request } from 'node:http';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { appDir, ownerCookie } from '../../../test/helpers/apps.js';
import { DEFAULTS } from '../../config/schema.js';

const JS = `console.log(${JSON.stringify('a bundle line; '.repeat(400))});\n`;
const CSS = 'body { color: red }\n'.repeat(100);
let h: TestHearth;
let dir: string;
let cookie: string;

interface Raw { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }
function get(path: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port: h.port, path, agent: false, headers: { host: `notes.${h.domain}`, cookie, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    r.on('error', reject);
    r.end();
  });
}

beforeAll(async () => {
  dir = appDir({
    'index.html': '<p>notes</p>', 'main.0123456789.js': JS, 'main.0123456789.js.br': brotliCompressSync(JS), 'main.0123456789.js.gz': gzipSync(JS),
    'main.abcdef0123.css': CSS, 'main.abcdef0123.css.gz': gzipSync(CSS), 'old.js': JS, 'old.js.br': brotliCompressSync('stale'),
  }, { slug: 'notes', name: 'Notes' });
  // a copy older than its file is left alone (the file was rebuilt without it)
  const past = new Date(Date.now() - 3600_000);
  utimesSync(join(dir, 'old.js.br'), past, past);
  h = await startTestHearth({ apps: { ...DEFAULTS.apps, devDirs: `notes:${dir}` } });
  cookie = (await ownerCookie(h, h.instance)).cookie;
});
afterAll(() => h.close());

describe('precompressed copies of an app folder', () => {
  it('sends the brotli copy when accepted, else the gzip one, else the file', async () => {
    const br = await get('/main.0123456789.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toContain('Accept-Encoding');
    expect(br.headers['cache-control']).toBe('max-age=31536000, immutable');
    expect(br.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(Number(br.headers['content-length'])).toBe(br.body.length);
    expect(brotliDecompressSync(br.body).toString('utf8')).toBe(JS);

    const gz = await get('/main.0123456789.js', { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString('utf8')).toBe(JS);
    expect(new Set([br.headers.etag, gz.headers.etag]).size).toBe(2);

    const raw = await get('/main.0123456789.js');
    expect(raw.headers['content-encoding']).toBeUndefined();
    expect(raw.body.toString('utf8')).toBe(JS);
    expect(raw.headers.vary).toContain('Accept-Encoding');
    expect(new Set([br.headers.etag, gz.headers.etag, raw.headers.etag]).size).toBe(3);
    // each ETag is revalidated as such
    expect((await get('/main.0123456789.js', { 'accept-encoding': 'br', 'if-none-match': String(br.headers.etag) })).status).toBe(304);
  });

  it('falls back to what exists (only a gzip copy), and ignores a copy older than its file', async () => {
    const css = await get('/main.abcdef0123.css', { 'accept-encoding': 'br, gzip' });
    expect(css.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(css.body).toString('utf8')).toBe(CSS);
    const old = await get('/old.js', { 'accept-encoding': 'br' });
    expect(old.headers['content-encoding']).toBeUndefined();
    expect(old.body.toString('utf8')).toBe(JS);
    // a newer file than its copy: the copy is stale once the file changes
    writeFileSync(join(dir, 'main.0123456789.js'), `${JS}// rebuilt\n`);
    const future = new Date(Date.now() + 3600_000);
    utimesSync(join(dir, 'main.0123456789.js'), future, future);
    const rebuilt = await get('/main.0123456789.js', { 'accept-encoding': 'br, gzip' });
    expect(rebuilt.headers['content-encoding']).toBeUndefined();
    expect(rebuilt.body.toString('utf8')).toBe(`${JS}// rebuilt\n`);
  });
});
