import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { ROOT, upload } from '../../test/helpers/files.js';
import { until } from '../../test/helpers/jobs.js';
import { corruptJpeg, jpegWithExif, png, sizeOf, webp } from '../../test/helpers/images.js';
import { publicUrl as codeUrl } from './workers.js';

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(() => h.close());

describe('housekeeping', () => {
  const hk = () => h.hearth.jobs.housekeeping;
  const HOUR = 3_600_000;

  it('the instances registered before its table existed get both jobs once, spread over the hour after the next', async () => {
    while (await hk().seed()) { /* page after page */ }
    expect(await hk().seed()).toBe(false);
    expect(await hk().run(Date.now() + HOUR - 1000)).toBe(0);
    expect(await hk().run(Date.now() + 2 * HOUR + 1000)).toBe(4); // two instances, two jobs each
    expect(await hk().run(Date.now() + 2 * HOUR + 1000)).toBe(0);
    await h.restart(); // the table exists now: no second seeding
    expect(await hk().seed()).toBe(false);
  });

  it('queues jobs only for the instances with something to clean, known from their events, and the jobs clean it', async () => {
    const token = await h.cliToken('io.cozy.files');
    const old = await upload(h, token, ROOT, 'old.txt', 'old');
    const fresh = await upload(h, token, ROOT, 'fresh.txt', 'fresh');
    for (const f of [old, fresh]) expect((await h.req('DELETE', `/files/${f.id}`, { token })).status).toBe(200);
    expect(await hk().run()).toBe(0); // nothing is due yet: no job, no instance database opened
    // the first went to the trash 31 days ago; a client was registered two hours ago and never used
    const store = h.hearth.storeOf(h.instance);
    const doc = await store.get('io.cozy.files', old.id);
    await store.put('io.cozy.files', { ...doc, cozyMetadata: { ...(doc.cozyMetadata as object), trashedAt: new Date(Date.now() - 31 * 86_400_000).toISOString() } });
    await store.put('io.cozy.oauth.clients', { _id: 'pending-client', client_name: 'never used', pending: true, created_at: new Date(Date.now() - 2 * HOUR).toISOString() });
    await new Promise((r) => setTimeout(r, 50)); // the marks follow the events

    expect(await hk().run()).toBe(2); // one instance, two jobs; the other instance has nothing to clean
    await until(async () => (await h.req('GET', `/files/${old.id}`, { token })).status === 404);
    await until(async () => (await store.get('io.cozy.oauth.clients', 'pending-client').catch(() => null)) === null);
    expect((await h.req('GET', `/files/${fresh.id}`, { token })).status).toBe(200);
    expect(await hk().run()).toBe(0);
    // the fresh one is due when its 30 days are over
    expect(await hk().run(Date.now() + 30 * 86_400_000 + HOUR)).toBe(1);
  });

  it('forgets a destroyed instance, even when its domain is registered again', async () => {
    const gone = await h.hearth.registry.create({ domain: 'gone.example.net' });
    hk().mark(gone, 'clean-clients', Date.now() - HOUR);
    await h.hearth.registry.destroy('gone.example.net');
    await h.hearth.registry.create({ domain: 'gone.example.net' });
    expect(await hk().run()).toBe(0);
  });

  it('queues one job for an instance and worker with several due marks, and drops them all', async () => {
    for (const hoursAgo of [5, 4, 2]) hk().mark(h.instance, 'clean-clients', Date.now() - hoursAgo * HOUR);
    hk().mark(h.instance, 'clean-old-trashed', Date.now() - 3 * HOUR);
    // in rounds of 2 due rows (SQLite: the two earliest are clean-clients', one job) or 2 pairs (PostgreSQL)
    const first = await hk().run(Date.now(), 2);
    expect(first + (await hk().run())).toBe(2); // one job per pair: clean-clients' third mark went with the other two
    expect(await hk().run()).toBe(0);
  });

  it('writes a burst of marks a thousand per turn of the event loop, not in one long commit', async () => {
    const pending = () => (hk() as unknown as { pending: unknown[] }).pending.length;
    for (let i = 0; i < 2500; i++) hk().mark({ id: `burst${i}`, domain: `burst${i}.example.net` }, 'clean-clients', Date.now() + HOUR);
    expect(pending()).toBe(2500);
    await new Promise((r) => setImmediate(r));
    expect(pending()).toBe(1500);
    await until(() => pending() === 0);
    // the marked instances do not exist: each due row is dropped without a job
    expect(await hk().run(Date.now() + 3 * HOUR, 5000)).toBe(0);
  });

  it('purges the jobs finished more than 30 days ago, in batches', async () => {
    const job = await h.hearth.jobs.engine.push(h.domain, { worker: 'log', message: 'x' });
    await until(async () => (await h.hearth.jobs.engine.broker.get(h.domain, job._id))?.state === 'done');
    expect(await hk().purgeFinished(Date.now())).toBe(0);
    expect(await hk().purgeFinished(Date.now() + 31 * 86_400_000)).toBeGreaterThan(0);
    expect(await h.hearth.jobs.engine.broker.get(h.domain, job._id)).toBeNull();
  });
});

describe('the URL given to konnectors', () => {
  it('is http for loopback names and https for the others', () => {
    const at = (domain: string) => codeUrl({ ...h.instance, domain });
    expect(at('localhost:8080')).toBe('http://localhost:8080');
    expect(at('alice.localhost')).toBe('http://alice.localhost');
    expect(at('127.0.0.1:9000')).toBe('http://127.0.0.1:9000');
    expect(at('alice.example.org')).toBe('https://alice.example.org');
  });
});

describe('thumbnails on upload (the stack queues the thumbnail job itself)', () => {
  it('JPEG, PNG and WebP uploads get their four thumbnails, served by their links', async () => {
    const token = await h.cliToken('io.cozy.files');
    for (const [name, bytes] of [['photo.jpg', await jpegWithExif(1600, 1200)], ['shot.png', await png(800, 600)], ['pic.webp', await webp(900, 500)]] as const) {
      const file = await upload(h, token, ROOT, name, bytes);
      let links: Record<string, string> = {};
      await until(async () => {
        links = (await h.req('GET', `/files/${file.id}`, { token })).body.data.links;
        return typeof links.large === 'string';
      });
      const small = await h.req('GET', links.small!);
      expect(small.status).toBe(200);
      expect(small.headers['content-type']).toBe('image/jpeg');
      const tiny = Buffer.from(await (await fetch(`${h.url}${links.tiny!}`)).arrayBuffer());
      expect(await sizeOf(tiny)).toEqual({ width: 96, height: 96, format: 'jpeg' });
    }
  });

  it('a corrupt image errors its thumbnail job and the upload stays fine', async () => {
    const token = await h.cliToken('io.cozy.files');
    const bytes = corruptJpeg();
    const file = await upload(h, token, ROOT, 'broken.jpg', bytes);
    const jobs = () => h.hearth.jobs.engine.broker.list(h.domain, { worker: 'thumbnail', limit: 100 });
    await until(async () => (await jobs()).some((j) => j.state === 'errored' && String(j.error).includes(file.id)));
    const download = await h.req('GET', `/files/download/${file.id}`, { token });
    expect(download.status).toBe(200);
    expect(Number(download.headers['content-length'])).toBe(bytes.length);
    expect((await h.req('GET', `/files/${file.id}`, { token })).body.data.links.small).toBeUndefined();
  });
});
