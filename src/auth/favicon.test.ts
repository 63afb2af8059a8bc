/** The favicon: an ICO of PNGs at /favicon.ico on the instance hosts, linked from every page. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import sharp from 'sharp';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { SESSION_COOKIE, sessionCookieValue } from './sessions.js';

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(() => h.close());

const LINK = '<link rel="icon" href="/favicon.ico" sizes="16x16 32x32 48x48">';

describe('GET /favicon.ico', () => {
  it('serves an ICO holding 16, 32 and 48 pixel PNG images, cached a day', async () => {
    // binary: read as bytes (the helper's h.req decodes text)
    const res = await new Promise<{ status: number; type: string; cache: string; body: Buffer }>((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port: h.port, path: '/favicon.ico', headers: { host: h.domain } }, (m) => {
        const chunks: Buffer[] = [];
        m.on('data', (c: Buffer) => chunks.push(c));
        m.on('end', () => resolve({ status: m.statusCode ?? 0, type: String(m.headers['content-type']), cache: String(m.headers['cache-control']), body: Buffer.concat(chunks) }));
      });
      r.on('error', reject);
      r.end();
    });
    expect(res.status).toBe(200);
    expect(res.type).toBe('image/x-icon');
    expect(res.cache).toBe('public, max-age=86400');
    const ico = res.body;
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2), ico.readUInt16LE(4)]).toEqual([0, 1, 3]);
    const sizes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const at = 6 + 16 * i;
      const [w, length, offset] = [ico.readUInt8(at), ico.readUInt32LE(at + 8), ico.readUInt32LE(at + 12)];
      const png = ico.subarray(offset, offset + length);
      const meta = await sharp(png).metadata();
      expect(meta.format).toBe('png');
      expect([meta.width, meta.height]).toEqual([w, w]);
      sizes.push(w);
    }
    expect(sizes).toEqual([16, 32, 48]);
  });

  it('is linked from the pages', async () => {
    const session = await h.hearth.sessions.create(h.instance, { userAgent: 'test' });
    const cookie = `${SESSION_COOKIE}=${sessionCookieValue((await h.hearth.registry.secrets(h.instance)).session, session.id)}`;
    for (const [path, headers] of [['/auth/login', {}], ['/auth/passphrase_reset', {}], ['/', { cookie }], ['/auth/security', { cookie }]] as const) {
      const page = await h.req('GET', path, { headers });
      expect(page.status, path).toBe(200);
      expect(page.text, path).toContain(LINK);
      expect(String(page.headers['content-security-policy']), path).toContain("img-src 'self'");
    }
  });
});
