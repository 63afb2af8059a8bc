/** Realtime on io.cozy.files: a directory grant covers its subtree, and io.cozy.files.thumbnails. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { mkdir, ROOT, upload, type Created } from '../../test/helpers/files.js';
import { png } from '../../test/helpers/images.js';
import { openWs, type RtClient } from '../../test/helpers/ws.js';

let h: TestHearth;
let full: string;
let shared: Created;
let inside: Created;
let outside: Created;

beforeAll(async () => {
  h = await startTestHearth();
  full = await h.cliToken('io.cozy.files');
  shared = await mkdir(h, full, ROOT, 'Shared');
  const sub = await mkdir(h, full, shared.id, 'Deeper');
  inside = await upload(h, full, sub.id, 'inside.txt', 'in');
  outside = await upload(h, full, ROOT, 'outside.txt', 'out');
});
afterAll(() => h.close());

async function client(token: string): Promise<RtClient> {
  const c = await openWs(h.port, h.domain);
  c.auth(token);
  return c;
}

const patch = (id: string, attributes: Record<string, unknown>) => ({ data: { type: 'io.cozy.files', id, attributes } });

describe('io.cozy.files rights', () => {
  it('a directory grant lets one watch what is below it, not the rest nor the whole doctype', async () => {
    const c = await client(await h.cliToken(`io.cozy.files:GET:${shared.id}`));
    c.subscribe('io.cozy.files');
    c.subscribe('io.cozy.files', outside.id);
    c.subscribe('io.cozy.files', 'no-such-file');
    c.subscribe('io.cozy.files.thumbnails');
    c.subscribe('io.cozy.files', inside.id);
    c.subscribe('io.cozy.files', shared.id);
    c.subscribe('io.cozy.files.thumbnails', inside.id);
    await c.barrier();
    const refused = c.messages.filter((m) => m.payload.status === '403 Forbidden').map((m) => [m.payload.source.payload.type, m.payload.source.payload.id]);
    expect(refused).toEqual([['io.cozy.files', ''], ['io.cozy.files', outside.id], ['io.cozy.files', 'no-such-file'], ['io.cozy.files.thumbnails', '']]);

    const res = await h.req('PATCH', `/files/${inside.id}`, { token: full, body: patch(inside.id, { tags: ['seen'] }) });
    expect(res.status, res.text).toBe(200);
    await h.req('PATCH', `/files/${outside.id}`, { token: full, body: patch(outside.id, { tags: ['unseen'] }) });
    await h.req('PATCH', `/files/${shared.id}`, { token: full, body: patch(shared.id, { tags: ['dir'] }) });
    const first = await c.next((m) => m.event === 'UPDATED');
    expect(first.payload).toMatchObject({ type: 'io.cozy.files', id: inside.id, doc: { _id: inside.id, name: 'inside.txt', tags: ['seen'] } });
    // the next one is the directory's own change: the file outside was not sent
    expect((await c.next((m) => m.event === 'UPDATED')).payload.id).toBe(shared.id);
    await c.close();
  });

  it('sends io.cozy.files.thumbnails CREATED {format} for each thumbnail made, large to tiny', async () => {
    const c = await client(full);
    c.subscribe('io.cozy.files.thumbnails');
    c.subscribe('io.cozy.files');
    await c.barrier();
    const image = await upload(h, full, ROOT, 'photo.png', await png(800, 600));
    const formats: string[] = [];
    for (let i = 0; i < 4; i++) {
      const m = await c.next((x) => x.event === 'CREATED' && x.payload.type === 'io.cozy.files.thumbnails', 30_000);
      expect(m.payload).toMatchObject({ type: 'io.cozy.files.thumbnails', id: image.id, doc: { _id: image.id } });
      formats.push(m.payload.doc.format);
    }
    expect(formats).toEqual(['large', 'medium', 'small', 'tiny']);
    // the file's own events show it as /data does: no blob key, no thumbnails' secret
    const withThumbs = await c.next((x) => x.event === 'UPDATED' && x.payload.id === image.id && x.payload.doc.metadata?.width === 800);
    const fileEvents = c.messages.filter((m) => m.payload.type === 'io.cozy.files' && m.payload.id === image.id);
    expect(fileEvents.map((m) => m.event)).toEqual(['CREATED', 'UPDATED']);
    const stored = await h.hearth.storeOf(h.instance).get('io.cozy.files', image.id);
    expect(Object.keys(stored)).toContain('internal_thumbnails');
    for (const m of fileEvents) expect(Object.keys(m.payload.doc).filter((k) => k.startsWith('internal_'))).toEqual([]);
    expect(withThumbs.payload.doc).toMatchObject({ name: 'photo.png', class: 'image' });
    await c.close();
  });

  it('refuses io.cozy.files.thumbnails without io.cozy.files rights', async () => {
    const c = await client(await h.cliToken('io.cozy.files.thumbnails io.cozy.contacts'));
    c.subscribe('io.cozy.files.thumbnails');
    expect((await c.next()).payload).toMatchObject({ status: '403 Forbidden', title: "The application can't subscribe to io.cozy.files.thumbnails" });
    await c.close();
  });
});
