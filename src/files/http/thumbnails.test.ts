/** Thumbnails over HTTP on a real Hearth: the links of an image after the worker ran, the route without a token, its refusals. */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { ROOT, upload } from '../../../test/helpers/files.js';
import { jobContext, jpegWithExif, png, sizeOf } from '../../../test/helpers/images.js';
import { createThumbnailWorker } from '../thumbnails/workers.js';

let h: TestHearth;
let token: string;
beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.files');
});
afterAll(() => h.close());

/** The worker's run, as the job system would do it after the upload's event. */
async function runWorker(fileId: string): Promise<void> {
  const deps = { vfs: h.hearth.vfs, linkSecret: async (i: typeof h.instance) => (await h.hearth.registry.secrets(i)).session };
  await createThumbnailWorker(deps).run(jobContext(h.instance, 'thumbnail', { file_id: fileId }).ctx);
}

/** GET without a token, the body as bytes. */
function get(path: string, headers: Record<string, string> = {}, host = h.domain, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port: h.port, path, method, headers: { host, ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    r.on('error', reject);
    r.end();
  });
}

describe('thumbnails over HTTP', () => {
  let id: string;
  let links: Record<string, string>;

  it('an uploaded image gets links.tiny|small|medium|large once the worker ran', async () => {
    const f = await upload(h, token, ROOT, 'holiday.jpg', await jpegWithExif(2400, 1600, { orientation: 6, taken: '2022:08:01 09:00:00' }));
    id = f.id;
    expect(f.attributes.created_at).toBe('2022-08-01T09:00:00.000Z');
    expect(f.attributes.metadata).toMatchObject({ datetime: '2022-08-01T09:00:00.000Z', width: 2400, height: 1600, orientation: 6 });
    const before = await h.req('GET', `/files/${id}`, { token });
    expect(before.body.data.links.small).toBeUndefined();
    await runWorker(id);
    const res = await h.req('GET', `/files/${id}`, { token });
    links = res.body.data.links;
    const secret = /^\/files\/[0-9a-f]+\/thumbnails\/([0-9a-f]{32})\/small$/.exec(links.small ?? '')?.[1];
    expect(secret).toBeDefined();
    expect(links).toEqual({
      self: `/files/${id}`, related: `/files/download/${id}`,
      tiny: `/files/${id}/thumbnails/${secret}/tiny`, small: `/files/${id}/thumbnails/${secret}/small`,
      medium: `/files/${id}/thumbnails/${secret}/medium`, large: `/files/${id}/thumbnails/${secret}/large`,
    });
    expect(res.body.data.attributes.internal_thumbnails).toBeUndefined();
    const listing = await h.req('GET', `/files/${ROOT}`, { token });
    expect(listing.body.included.find((r: { id: string }) => r.id === id).links.tiny).toBe(links.tiny);
    const changes = await h.req('GET', '/files/_changes?include_docs=true', { token });
    expect(JSON.stringify(changes.body)).not.toContain('internal_thumbnails');
  });

  it('POST /files/_find gives the same thumbnail links (a photo timeline reads them there), never the secret field', async () => {
    const res = await h.req('POST', '/files/_find', { token, body: { selector: { class: 'image', name: 'holiday.jpg' } } });
    expect(res.status).toBe(200);
    const found = res.body.data.find((r: { id: string }) => r.id === id);
    expect(found.links).toEqual(links);
    expect(JSON.stringify(res.body)).not.toContain('internal_thumbnails');
  });

  it('serves them without a token, as JPEG of the right size, cacheable, with an ETag', async () => {
    const want = { tiny: [96, 96], small: [320, 480], medium: [480, 720], large: [720, 1080] } as const;
    for (const [format, [width, height]] of Object.entries(want)) {
      const res = await get(links[format]!);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('image/jpeg');
      expect(res.headers['content-length']).toBe(String(res.body.length));
      expect(res.headers['cache-control']).toBe('private, max-age=31536000, immutable');
      expect(await sizeOf(res.body)).toEqual({ width, height, format: 'jpeg' });
    }
    const first = await get(links.small!);
    expect(first.headers.etag).toMatch(/^"[A-Za-z0-9+/=]+-small"$/);
    expect((await get(links.small!, { 'if-none-match': String(first.headers.etag) })).status).toBe(304);
    const head = await get(links.small!, {}, h.domain, 'HEAD');
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, String(first.body.length), 0]);
  });

  it('refuses a wrong secret, a missing file and another instance with the same 404, an unknown format with 400', async () => {
    const bad = links.small!.replace(/thumbnails\/[0-9a-f]{32}/, `thumbnails/${'0'.repeat(32)}`);
    const short = links.small!.replace(/thumbnails\/[0-9a-f]{32}/, 'thumbnails/abc');
    const statuses = [
      (await get(bad)).status, (await get(short)).status, (await get(`/files/${'9'.repeat(32)}/thumbnails/${'0'.repeat(32)}/small`)).status,
      (await get(links.small!, {}, h.otherDomain)).status, (await get(links.small!.replace(/small$/, 'huge'))).status,
    ];
    expect(statuses).toEqual([404, 404, 404, 404, 400]);
    expect(JSON.parse((await get(bad)).body.toString()).errors[0].status).toBe('404');
  });

  it('a new content makes the old links dead at once and gets its own after the worker ran', async () => {
    const put = await h.req('PUT', `/files/${id}`, { token, raw: await png(500, 500), headers: { 'content-type': 'image/png' } });
    expect(put.status, put.text).toBe(200);
    expect(put.body.data.links.small).toBeUndefined();
    expect((await get(links.small!)).status).toBe(404);
    await runWorker(id);
    const fresh = (await h.req('GET', `/files/${id}`, { token })).body.data.links;
    expect(fresh.small).not.toBe(links.small);
    expect(await sizeOf((await get(fresh.large)).body)).toEqual({ width: 500, height: 500, format: 'jpeg' });
    expect((await h.req('DELETE', `/files/${id}`, { token })).status).toBe(200);
    expect((await get(fresh.large)).status).toBe(200); // a trashed image keeps them
    expect((await h.req('DELETE', '/files/trash', { token })).status).toBeLessThan(300);
    expect((await get(fresh.large)).status).toBe(404);
  });
});
