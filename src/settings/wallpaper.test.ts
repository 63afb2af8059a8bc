/** Home's wallpaper on a real server with real images: set by the owner, re-encoded and bounded, read with a settings right, removed. */
import { request } from 'node:http';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import type { DocEvent } from '../common/bus.js';

let h: TestHearth;
let token = '';
beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.settings');
});
afterAll(() => h.close());

const image = (w: number, h_: number, format: 'png' | 'jpeg') =>
  sharp({ create: { width: w, height: h_, channels: 3, background: { r: 20, g: 120, b: 90 } } }).toFormat(format).toBuffer();
const put = (raw: Buffer | string, type: string, t = token) => h.req('PUT', '/settings/wallpaper', { raw, token: t, headers: { 'content-type': type } });
/** GET /settings/wallpaper as bytes. */
const get = (t: string, headers: Record<string, string> = {}) => new Promise<{ status: number; headers: Record<string, unknown>; data: Buffer }>((resolve, reject) => {
  const r = request({ host: '127.0.0.1', port: h.port, path: '/settings/wallpaper', headers: { host: h.domain, authorization: `Bearer ${t}`, ...headers } }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, data: Buffer.concat(chunks) }));
  });
  r.on('error', reject);
  r.end();
});

describe('Home\'s wallpaper', () => {
  it('is set by the owner, fitted in 2560 px and re-encoded, read with a GET right on io.cozy.settings, and removed', async () => {
    expect((await get(token)).status).toBe(404);
    expect((await put(await image(3000, 1500, 'jpeg'), 'image/jpeg')).status).toBe(204);
    const got = await get(await h.cliToken('io.cozy.settings:GET'));
    expect(got.status).toBe(200);
    expect(got.headers['content-type']).toBe('image/jpeg');
    expect(await sharp(got.data).metadata()).toMatchObject({ format: 'jpeg', width: 2560, height: 1280 });
    expect((await get(token, { 'if-none-match': String(got.headers.etag) })).status).toBe(304);
    // the avatar is another image
    expect((await h.req('GET', '/public/avatar?fallback=404')).status).toBe(404);
    await h.restart();
    expect((await get(token)).data.equals(got.data)).toBe(true);
    expect((await h.req('DELETE', '/settings/wallpaper', { token })).status).toBe(204);
    expect((await get(token)).status).toBe(404);
  });

  it('refuses what is no image, a type it does not take, a body over 16 MB, and callers without the right', async () => {
    expect((await put('<svg xmlns="http://www.w3.org/2000/svg"/>', 'image/svg+xml')).status).toBe(415);
    expect((await put('not a png', 'image/png')).status).toBe(400);
    const big = await put(Buffer.alloc(17 * 1024 * 1024), 'image/png');
    expect(big.status).toBe(413);
    expect(big.body.errors[0].detail).toContain('the wallpaper is larger than 16 MB');
    const png = await image(40, 30, 'png');
    expect((await put(png, 'image/png', await h.cliToken('io.cozy.settings:GET'))).status).toBe(403);
    expect((await put(png, 'image/png', await h.cliToken('io.cozy.files'))).status).toBe(403);
    expect((await h.req('PUT', '/settings/wallpaper', { raw: png, headers: { 'content-type': 'image/png' } })).status).toBe(401);
    expect((await get(await h.cliToken('io.cozy.files'))).status).toBe(403);
    expect((await put(png, 'image/png')).status).toBe(204);
    expect((await get(await h.cliToken('io.cozy.settings', h.other))).status).toBe(400);
    expect((await h.req('DELETE', '/settings/wallpaper', { token: await h.cliToken('io.cozy.settings:GET') })).status).toBe(403);
  });

  it('announces each change on io.cozy.settings/io.cozy.settings.wallpaper with its ETag (null once removed), never the image', async () => {
    const events: DocEvent[] = [];
    const off = h.hearth.bus.subscribe(h.domain, 'io.cozy.settings', (e) => events.push(e));
    try {
      expect((await put(await image(50, 40, 'png'), 'image/png')).status).toBe(204);
      const etag = (await get(token)).headers.etag;
      expect((await h.req('DELETE', '/settings/wallpaper', { token })).status).toBe(204);
      expect(events.map((e) => [e.verb, e.id, e.doc])).toEqual([
        ['UPDATED', 'io.cozy.settings.wallpaper', { _id: 'io.cozy.settings.wallpaper', etag }],
        ['UPDATED', 'io.cozy.settings.wallpaper', { _id: 'io.cozy.settings.wallpaper', etag: null }],
      ]);
    } finally {
      off();
    }
  });
});
