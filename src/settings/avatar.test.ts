/** The avatar on a real server with real images: re-encoded and bounded, refused when hostile, served with an initials fallback. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { initialsOf, initialsSvg } from './avatar.js';

let h: TestHearth;
let token = '';
let cookie = '';
beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.settings');
  await h.hearth.perms.grantApp(h.instance, 'settings', 'io.cozy.settings');
  cookie = `cozysessid=${(await h.hearth.appToken(h.instance, 'settings')).session_cookie}`;
});
afterAll(() => h.close());

/** What holds the avatar: its folder, where a write leaves nothing but it, or its row in PostgreSQL (docs.engine postgres). */
async function storedCopies(): Promise<string[]> {
  const { docs } = h.hearth.config;
  if (docs.engine !== 'postgres') return readdirSync(join(h.dataDir, 'instances', h.instance.id, 'avatar'));
  const client = new pg.Client({ connectionString: docs.url ?? undefined });
  await client.connect();
  try {
    return (await client.query<{ name: string }>("SELECT 'avatar' AS name FROM hearth.avatars WHERE instance_id = $1", [h.instance.id])).rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}

const image = (w: number, h_: number, format: 'png' | 'jpeg' | 'webp' | 'gif') =>
  sharp({ create: { width: w, height: h_, channels: 3, background: { r: 200, g: 30, b: 90 } } }).toFormat(format).toBuffer();
const upload = (raw: Buffer | string, type: string, opts: { token?: string; headers?: Record<string, string>; host?: string } = { token }) =>
  h.req('PUT', '/settings/avatar', { raw, ...opts, headers: { 'content-type': type, ...opts.headers } });
const fetchAvatar = (query = '', headers: Record<string, string> = {}, host = h.domain) => new Promise<{ status: number; headers: Record<string, unknown>; data: Buffer }>((resolve, reject) => {
  void import('node:http').then(({ request }) => {
    const r = request({ host: '127.0.0.1', port: h.port, path: `/public/avatar${query}`, headers: { host, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, data: Buffer.concat(chunks) }));
    });
    r.on('error', reject);
    r.end();
  });
});

describe('PUT /settings/avatar', () => {
  it('decodes the image, fits it in 512×512, stores it atomically and serves it with an ETag', async () => {
    const res = await upload(await image(2000, 1000, 'png'), 'image/png');
    expect(res.status).toBe(204);
    expect(await storedCopies()).toEqual(['avatar']);
    const got = await fetchAvatar();
    expect(got.status).toBe(200);
    expect(got.headers['content-type']).toBe('image/png');
    expect(got.headers['content-security-policy']).toContain("default-src 'none'");
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect(await sharp(got.data).metadata()).toMatchObject({ format: 'png', width: 512, height: 256 });
    const etag = String(got.headers.etag);
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect((await fetchAvatar('', { 'if-none-match': etag })).status).toBe(304);
    // another instance has its own (the initials)
    expect((await fetchAvatar('', {}, h.otherDomain)).headers['content-type']).toBe('image/svg+xml');
  });

  it('keeps JPEG and WebP as they are, makes a GIF a PNG, never enlarges, and strips the metadata', async () => {
    const jpeg = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#336699' } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect((await upload(jpeg, 'image/jpeg')).status).toBe(204);
    const j = await sharp((await fetchAvatar()).data).metadata();
    expect(j).toMatchObject({ format: 'jpeg', width: 200, height: 300 }); // the EXIF orientation was applied
    expect(j.orientation).toBeUndefined();
    expect((await upload(await image(100, 80, 'webp'), 'image/webp')).status).toBe(204);
    expect(await sharp((await fetchAvatar()).data).metadata()).toMatchObject({ format: 'webp', width: 100, height: 80 });
    expect((await upload(await image(64, 64, 'gif'), 'image/gif')).status).toBe(204);
    const g = await fetchAvatar();
    expect(g.headers['content-type']).toBe('image/png');
    expect(await storedCopies()).toEqual(['avatar']);
  });

  it('refuses what is not an image: another type (415), SVG or HTML under an image type, a truncated or a corrupt file (400)', async () => {
    expect((await upload('hello', 'text/plain')).status).toBe(415);
    expect((await upload('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 'image/svg+xml')).status).toBe(415);
    const svg = await upload('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 'image/png');
    expect(svg.status).toBe(400);
    expect(svg.body.errors[0].detail).toContain('not a PNG, JPEG, GIF or WebP');
    expect((await upload('<html><script>alert(1)</script></html>', 'image/jpeg')).status).toBe(400);
    const png = await image(300, 300, 'png');
    const truncated = await upload(png.subarray(0, 60), 'image/png');
    expect(truncated.status).toBe(400);
    expect(truncated.body.errors[0].detail).toContain('cannot be decoded');
    const corrupt = Buffer.concat([png.subarray(0, 33), Buffer.alloc(png.length - 33, 0x41)]);
    expect((await upload(corrupt, 'image/png')).status).toBe(400);
    // what was stored before is still served
    expect((await fetchAvatar()).headers['content-type']).toBe('image/png');
  });

  it('refuses an oversized body (413) and a decompression bomb (400)', async () => {
    const big = Buffer.concat([await image(10, 10, 'png'), Buffer.alloc(5 * 1024 * 1024)]);
    const res = await upload(big, 'image/png');
    expect(res.status).toBe(413);
    expect(res.body.errors[0].detail).toContain('5 MB');
    // without a Content-Length (chunked), counted as it comes
    const chunked = await upload(big, 'image/png', { token, headers: { 'transfer-encoding': 'chunked' } });
    expect(chunked.status).toBe(413);
    const bomb = await sharp({ create: { width: 6000, height: 6000, channels: 3, background: '#000' } }).png({ compressionLevel: 9 }).toBuffer();
    expect(bomb.length).toBeLessThan(5 * 1024 * 1024);
    const b = await upload(bomb, 'image/png');
    expect(b.status).toBe(400);
    expect(b.body.errors[0].detail).toContain('million pixels');
  });

  it('needs PUT on the whole io.cozy.settings type, or the owner\'s session from the instance\'s pages', async () => {
    const png = await image(40, 40, 'png');
    expect((await upload(png, 'image/png', {})).status).toBe(401);
    expect((await upload(png, 'image/png', { token: await h.cliToken('io.cozy.files') })).status).toBe(403);
    expect((await upload(png, 'image/png', { token: await h.cliToken('io.cozy.settings:GET') })).status).toBe(403);
    expect((await upload(png, 'image/png', { token: await h.cliToken('io.cozy.settings:PUT:io.cozy.settings.instance') })).status).toBe(403);
    expect((await upload(png, 'image/png', { token: await h.cliToken('io.cozy.settings', h.other) })).status).toBe(400);
    expect((await upload(png, 'image/png', { headers: { cookie, origin: `http://drive.localhost:${h.port}` } })).status).toBe(403);
    expect((await upload(png, 'image/png', { headers: { cookie } })).status).toBe(204);
    expect((await h.req('DELETE', '/settings/avatar', { token: await h.cliToken('io.cozy.settings:GET') })).status).toBe(403);
    expect((await h.req('DELETE', '/settings/avatar')).status).toBe(401);
  });
});

describe('GET /public/avatar without an avatar', () => {
  it('draws the initials of the public name in a stable colour, as SVG or PNG, with cozy-stack\'s options', async () => {
    expect((await h.req('DELETE', '/settings/avatar', { token })).status).toBe(204);
    expect((await h.req('DELETE', '/settings/avatar', { token })).status).toBe(204);
    await h.hearth.registry.modify(h.domain, { publicName: 'Alice Martin' });
    const a = await fetchAvatar();
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('image/svg+xml');
    expect(a.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'; sandbox");
    const svg = a.data.toString();
    expect(svg).toContain('>AM</text>');
    expect(svg).toContain(`fill="${initialsOf('Alice Martin').color}"`);
    expect(svg).not.toMatch(/<script|on\w+=|href/i);
    const b = await fetchAvatar();
    expect(b.headers.etag).toBe(a.headers.etag);
    expect((await fetchAvatar('', { 'if-none-match': String(a.headers.etag) })).status).toBe(304);
    const grey = (await fetchAvatar('?as=unconfirmed&fx=translucent')).data.toString();
    expect(grey).toContain('fill="#32363F" fill-opacity="0.5"');
    expect((await fetchAvatar('?fallback=anonymous')).data.toString()).not.toContain('<text');
    const png = await fetchAvatar('?format=png');
    expect(png.headers['content-type']).toBe('image/png');
    expect(await sharp(png.data).metadata()).toMatchObject({ format: 'png', width: 128, height: 128 });
    expect((await fetchAvatar('?fallback=404')).status).toBe(404);
    expect((await fetchAvatar('?fallback=<x>')).status).toBe(400);
    expect((await fetchAvatar('?format=gif')).status).toBe(400);
  });

  it('escapes what it writes and takes cozy-stack\'s initials rules', () => {
    expect(initialsOf('élise de la Tour')).toMatchObject({ initials: 'ÉT' });
    expect(initialsOf('Zoë')).toMatchObject({ initials: 'Z' });
    expect(initialsOf('<script> 42 &amp;').initials).toBe('');
    expect(initialsOf('Bob').color).toBe(initialsOf('Bob').color);
    expect(initialsOf('Bob').color).toMatch(/^#[0-9A-F]{6}$/);
    const svg = initialsSvg('<img src=x onerror=alert(1)> "x"');
    expect(svg).not.toContain('<img');
    expect(svg).toContain('>SO</text>');
  });
});
