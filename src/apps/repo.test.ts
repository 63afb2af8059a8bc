import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { findApp, listApps } from './repo.js';

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(async () => {
  await h.close();
});

describe('installed apps in the instance store', () => {
  it('finds and lists app documents by slug, and nothing before any install', async () => {
    const store = h.hearth.storeOf(h.instance);
    expect(await findApp(store, 'webapp', 'drive')).toBeNull();
    expect(await listApps(store, 'webapp', { limit: 10 })).toEqual([]);
    for (const slug of ['notes', 'drive', 'home']) {
      await store.put('io.cozy.apps', { _id: `io.cozy.apps/${slug}`, slug, state: 'ready' });
    }
    await store.put('io.cozy.konnectors', { _id: 'io.cozy.konnectors/drive', slug: 'drive', state: 'ready' });
    expect((await findApp(store, 'webapp', 'drive'))?.slug).toBe('drive');
    expect((await listApps(store, 'webapp', { limit: 10 })).map((a) => a.slug)).toEqual(['drive', 'home', 'notes']);
    expect((await listApps(store, 'webapp', { limit: 2, startSlug: 'home' })).map((a) => a.slug)).toEqual(['home', 'notes']);
    expect((await listApps(store, 'konnector', { limit: 10 })).map((a) => a.slug)).toEqual(['drive']);
  });
});
