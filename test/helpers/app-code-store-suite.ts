/**
 * The conformance suite of an AppCodeStore engine (src/apps/code/store.ts): the local-disk engine runs it, and
 * an object-storage engine must run it unchanged. `make` gives a fresh, empty store; `done` disposes of it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BadPackage } from '../../src/apps/code/errors.js';
import type { AddFile, AppCodeStore, CodeRef } from '../../src/apps/code/store.js';

export const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

const HTML = `<!DOCTYPE html><html><head><title>app</title></head><body>${'<p>hello</p>'.repeat(200)}</body></html>`;
export const APP_FILES: Record<string, string | Buffer> = {
  'manifest.webapp': JSON.stringify({ slug: 'drive', version: '1.0.0' }),
  'index.html': HTML,
  'js/app.0123456789ab.js': 'console.log("x");'.repeat(500),
  'img/logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]),
  'empty.txt': '',
};

/** A fill that adds `files`. */
export const fillWith = (files: Record<string, string | Buffer>) => async (add: AddFile): Promise<void> => {
  for (const [path, body] of Object.entries(files)) await add(path, Readable.from([Buffer.from(body)]));
};

export function describeAppCodeStore(name: string, make: () => Promise<AppCodeStore>, done: (store: AppCodeStore) => Promise<void>): void {
  describe(`AppCodeStore conformance: ${name}`, () => {
    let store: AppCodeStore;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(async () => {
      await done(store);
    });
    const ref = (instanceId: string, s: string, slug = 'drive'): CodeRef => ({ instanceId, kind: 'webapp', slug, sha256: s });

    it('stores a version once, with its index and compressed copies, and reads each file back', async () => {
      const key = sha('v1');
      expect(await store.has(key)).toBe(false);
      expect(await store.acquire(ref('i1', key), fillWith(APP_FILES))).toEqual({ written: true });
      expect(await store.has(key)).toBe(true);
      const index = await store.index(key);
      expect([...(index?.keys() ?? [])].sort()).toEqual(Object.keys(APP_FILES).sort());
      for (const [path, body] of Object.entries(APP_FILES)) {
        const raw = Buffer.from(body);
        const file = index?.get(path);
        expect(file).toMatchObject({ size: raw.length, hash: createHash('sha256').update(raw).digest('hex') });
        expect(await buffer((await store.read(key, path, null))!)).toEqual(raw);
      }
      const html = index?.get('index.html');
      expect(html?.br).toBeGreaterThan(0);
      expect(html?.br).toBeLessThan(HTML.length);
      expect(brotliDecompressSync(await buffer((await store.read(key, 'index.html', 'br'))!)).toString()).toBe(HTML);
      expect(gunzipSync(await buffer((await store.read(key, 'index.html', 'gzip'))!)).toString()).toBe(HTML);
      // not compressible (png), or nothing to gain (empty): no copy
      expect(index?.get('img/logo.png')).toMatchObject({ br: null, gzip: null });
      expect(await store.read(key, 'img/logo.png', 'br')).toBeNull();
      expect(index?.get('empty.txt')).toMatchObject({ br: null, gzip: null });
    });

    it('answers null for a file, a version or a path that is not there', async () => {
      const key = sha('v1');
      await store.acquire(ref('i1', key), fillWith(APP_FILES));
      expect(await store.read(key, 'nope.js', null)).toBeNull();
      expect(await store.read(key, 'js', null)).toBeNull();
      expect(await store.read(key, '../index.html', null)).toBeNull();
      expect(await store.read(sha('other'), 'index.html', null)).toBeNull();
      expect(await store.read('../../etc', 'passwd', null)).toBeNull();
      expect(await store.index(sha('other'))).toBeNull();
    });

    it('materializes a folder with the raw files', async () => {
      const key = sha('v1');
      await store.acquire(ref('i1', key), fillWith(APP_FILES));
      const dir = await store.materialize(key);
      expect(readFileSync(join(dir, 'index.html'), 'utf8')).toBe(HTML);
      expect(readFileSync(join(dir, 'manifest.webapp'), 'utf8')).toBe(APP_FILES['manifest.webapp']);
      await expect(store.materialize(sha('other'))).rejects.toMatchObject({ status: 404 });
    });

    it('a second instance of the same version only adds its reference', async () => {
      const key = sha('v1');
      await store.acquire(ref('i1', key), fillWith(APP_FILES));
      let called = false;
      const again = await store.acquire(ref('i2', key), async () => {
        called = true;
      });
      expect(again).toEqual({ written: false });
      expect(called).toBe(false);
      expect((await store.refs({ sha256: key })).map((r) => r.instanceId)).toEqual(['i1', 'i2']);
      expect(await store.refs({ instanceId: 'i2' })).toEqual([ref('i2', key)]);
    });

    it('concurrent installs of one version write it once', async () => {
      const key = sha('v1');
      let fills = 0;
      const fill = async (add: AddFile) => {
        fills++;
        await fillWith(APP_FILES)(add);
      };
      const results = await Promise.all(['a', 'b', 'c', 'd'].map((i) => store.acquire(ref(i, key), fill)));
      expect(fills).toBe(1);
      expect(results.filter((r) => r.written)).toHaveLength(1);
      expect(await store.refs({ sha256: key })).toHaveLength(4);
    });

    it('a failed write leaves no code and no reference', async () => {
      const key = sha('v1');
      const failing = async (add: AddFile) => {
        await add('index.html', Readable.from([Buffer.from(HTML)]));
        throw new Error('the download broke');
      };
      await expect(store.acquire(ref('i1', key), failing)).rejects.toThrow('the download broke');
      expect(await store.has(key)).toBe(false);
      expect(await store.index(key)).toBeNull();
      expect(await store.refs({})).toEqual([]);
      // and it can be written afterwards
      expect(await store.acquire(ref('i1', key), fillWith(APP_FILES))).toEqual({ written: true });
    });

    it('refuses a path leaving the app, or the same path twice', async () => {
      const evil = async (add: AddFile) => add('../evil.js', Readable.from([Buffer.from('x')]));
      await expect(store.acquire(ref('i1', sha('e')), evil)).rejects.toBeInstanceOf(BadPackage);
      const twice = async (add: AddFile) => {
        await add('a.js', Readable.from([Buffer.from('1')]));
        await add('./a.js', Readable.from([Buffer.from('2')]));
      };
      await expect(store.acquire(ref('i1', sha('t')), twice)).rejects.toThrow(/twice/);
      expect(await store.refs({})).toEqual([]);
    });

    it('refuses references that are not one', async () => {
      await expect(store.acquire(ref('i1', 'abc'), fillWith(APP_FILES))).rejects.toMatchObject({ status: 400 });
      await expect(store.acquire(ref('i1', sha('x'), 'Not A Slug'), fillWith(APP_FILES))).rejects.toMatchObject({ status: 400 });
    });

    it('gc removes only the versions no reference names', async () => {
      const [v1, v2, v3] = [sha('v1'), sha('v2'), sha('v3')];
      await store.acquire(ref('i1', v1), fillWith(APP_FILES));
      await store.acquire(ref('i2', v1), fillWith(APP_FILES));
      await store.acquire(ref('i1', v2), fillWith({ ...APP_FILES, 'index.html': 'v2' }));
      await store.acquire({ instanceId: 'i3', kind: 'konnector', slug: 'bank', sha256: v3 }, fillWith({ 'manifest.konnector': '{}' }));
      // i1 updates to v2: its v1 reference goes, but i2 still uses v1
      expect(await store.release(ref('i1', v1))).toBe(true);
      expect(await store.release(ref('i1', v1))).toBe(false);
      expect(await store.gc()).toEqual([]);
      expect(await store.has(v1)).toBe(true);
      await store.release(ref('i2', v1));
      expect(await store.releaseInstance('i3')).toBe(1);
      expect((await store.gc()).sort()).toEqual([v1, v3].sort());
      expect(await store.has(v1)).toBe(false);
      expect(await store.has(v3)).toBe(false);
      expect(await store.read(v1, 'index.html', null)).toBeNull();
      expect(await buffer((await store.read(v2, 'index.html', null))!)).toEqual(Buffer.from('v2'));
      expect(await store.refs({})).toEqual([ref('i1', v2)]);
    });

    it('concurrent collections of one unused version remove it once, and neither fails', async () => {
      // two instances updating the same app at once each release the old version and collect it
      const v1 = sha('gc-race');
      await store.acquire(ref('i1', v1), fillWith(APP_FILES));
      await store.acquire(ref('i2', v1), fillWith(APP_FILES));
      await Promise.all([store.release(ref('i1', v1)), store.release(ref('i2', v1))]);
      const runs = await Promise.all([store.gc(), store.gc(), store.gc()]);
      expect(runs.flat()).toEqual([v1]);
      expect(await store.has(v1)).toBe(false);
    });

    it('an install intent holds its code reference; ended, it is no longer in flight and the reference stays', async () => {
      const v = sha('journal');
      await store.acquire(ref('i1', v), fillWith(APP_FILES));
      const intent = { id: `intent-${v.slice(0, 8)}`, domain: 'i2.example', ...ref('i2', v), op: 'install' as const, undo: null };
      await store.begin(intent);
      expect(await store.refs({ sha256: v })).toEqual([ref('i1', v), ref('i2', v)]);
      expect((await store.inFlight()).filter((x) => x.id === intent.id)).toEqual([intent]);
      await store.release(ref('i1', v));
      expect(await store.gc()).toEqual([]); // the intent's reference keeps the code
      await store.end([intent.id]);
      expect((await store.inFlight()).filter((x) => x.id === intent.id)).toEqual([]);
      expect(await store.refs({ sha256: v })).toEqual([ref('i2', v)]);
      expect(await store.has(v)).toBe(true);
    });

    it('an update or uninstall intent adds no reference and keeps what its undo restores', async () => {
      const v = sha('journal-update');
      await store.acquire(ref('i1', v), fillWith(APP_FILES));
      const update = { id: `update-${v.slice(0, 8)}`, domain: 'i1.example', ...ref('i1', v), op: 'update' as const, undo: '{"state":"installed","permissions":null}' };
      const uninstall = { id: `uninstall-${v.slice(0, 8)}`, domain: 'i3.example', ...ref('i3', v), op: 'uninstall' as const, undo: null };
      await store.begin(update);
      await store.begin(uninstall);
      expect(await store.refs({ sha256: v })).toEqual([ref('i1', v)]);
      const mine = (await store.inFlight()).filter((x) => x.id === update.id || x.id === uninstall.id);
      expect(mine.sort((a, b) => a.op.localeCompare(b.op))).toEqual([uninstall, update]);
      await store.end([update.id, uninstall.id]);
      expect((await store.inFlight()).filter((x) => x.id === update.id || x.id === uninstall.id)).toEqual([]);
    });

    it('an intent this store began is its own: never claimed by it; given back, the next claim takes it, once', async () => {
      const v = sha('journal-claim');
      const intent = { id: `claim-${v.slice(0, 8)}`, domain: 'i4.example', ...ref('i4', v), op: 'uninstall' as const, undo: null };
      await store.begin(intent);
      expect((await store.claimIntents()).map((x) => x.id)).not.toContain(intent.id);
      await store.releaseIntents([intent.id]);
      expect((await store.claimIntents()).filter((x) => x.id === intent.id)).toEqual([intent]);
      expect((await store.claimIntents()).map((x) => x.id)).not.toContain(intent.id); // held by this store now
      await store.end([intent.id]);
      expect((await store.inFlight()).map((x) => x.id)).not.toContain(intent.id);
    });
  });
}
