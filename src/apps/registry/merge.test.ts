/**
 * The registries of apps.registries merged in order: a local folder (built with publish) before a real
 * HTTP registry speaking cozy's API (test/helpers/app-registry.ts), and registries that cannot be reached.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureRegistry, type FixtureApp, type FixtureRegistry } from '../../../test/helpers/app-registry.js';
import { makeTarball } from '../../../test/helpers/app-tarball.js';
import { freePort } from '../../../test/helpers/ports.js';
import type { HearthError } from '../../common/errors.js';
import { HttpRegistry } from './http.js';
import { LocalRegistry } from './local.js';
import { clientsOf, MergedRegistries } from './merge.js';
import { publish } from './publish.js';
import type { ListQuery, RegistryApp } from './types.js';

const limits = { maxEntries: 5000, maxUnpackedBytes: 200_000_000 };
const day = (n: number) => `2026-01-${String(n).padStart(2, '0')}T00:00:00.000Z`;
const REMOTE: FixtureApp[] = [
  { slug: 'drive', type: 'webapp', editor: 'cozy', versions: { '1.0.0': day(1), '1.1.0-beta.1': day(2) }, maintenance_activated: true },
  { slug: 'photos', type: 'webapp', editor: 'cozy', versions: { '2.0.0': day(1), '2.1.0-beta.1': day(3), '2.1.0-dev.abc': day(4) }, maintenance_activated: true, maintenance_options: { flag_short_maintenance: true } },
  { slug: 'contacts', type: 'webapp', editor: 'cozy', versions: { '1.0.0': day(1) } },
  { slug: 'banks', type: 'konnector', editor: 'cozy', category: 'banking', versions: { '3.0.0': day(1) } },
  { slug: 'ameli', type: 'konnector', editor: 'other', category: 'health', versions: { '1.0.0': day(1) } },
  { slug: 'store', type: 'webapp', editor: 'cozy', versions: { '1.0.0': day(1) } },
  { slug: 'zzz-beta-only', type: 'webapp', editor: 'cozy', versions: { '0.1.0-beta.1': day(1) } },
];

let tmp = '';
let localUrl = '';
let remote: FixtureRegistry;
let warnings: { obj: object; msg: string }[] = [];
const logger = { warn: (obj: object, msg: string) => void warnings.push({ obj, msg }) };
let merged: MergedRegistries;

async function localPackage(slug: string, version: string, kind: 'webapp' | 'konnector' = 'webapp'): Promise<void> {
  const file = join(tmp, `${slug}-${version}.tar.gz`);
  const manifest = kind === 'konnector' ? 'manifest.konnector' : 'manifest.webapp';
  await makeTarball(file, [{ name: manifest, body: JSON.stringify({ slug, version, type: kind, editor: 'me' }) }, { name: 'index.js', body: '1' }]);
  await publish(file, { dir: join(tmp, 'local'), limits });
}

async function walk(registries: MergedRegistries, query: ListQuery): Promise<{ pages: RegistryApp[][]; cursors: string[] }> {
  const pages: RegistryApp[][] = [];
  const cursors: string[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 50; i++) {
    const page = await registries.list({ ...query, ...(cursor ? { cursor } : {}) });
    pages.push(page.data);
    expect(page.meta.count).toBe(page.data.length);
    cursor = page.meta.next_cursor;
    if (!cursor) return { pages, cursors };
    cursors.push(cursor);
  }
  throw new Error('the cursor never ended');
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'hearth-merge-'));
  await localPackage('notes', '1.0.0');
  await localPackage('drive', '9.0.0');
  await localPackage('alan', '1.0.0', 'konnector');
  localUrl = pathToFileURL(join(tmp, 'local')).href;
  remote = await startFixtureRegistry(REMOTE);
  merged = new MergedRegistries(clientsOf(`${localUrl}, ${remote.url}`), logger);
});
afterAll(async () => {
  await remote.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('single objects', () => {
  it('come from the first registry that has them', async () => {
    expect((await merged.application('drive'))?.latest_version?.version).toBe('9.0.0');
    expect(await merged.application('photos')).toMatchObject({ slug: 'photos', versions: { stable: ['2.0.0'], beta: ['2.1.0-beta.1'], dev: ['2.1.0-dev.abc'] } });
    expect((await merged.resolveVersion('photos', 'stable')).version).toBe('2.0.0');
    expect((await merged.resolveVersion('photos', 'beta')).version).toBe('2.1.0-beta.1');
    expect((await merged.resolveVersion('photos', '2.1.0-dev.abc')).url).toBe(`${remote.url}tarballs/photos/2.1.0-dev.abc.tar.gz`);
    // the local folder has no drive 1.0.0: the next registry answers
    expect((await merged.resolveVersion('drive', '1.0.0')).created_at).toBe(day(1));
    expect((await merged.latestVersion('zzz-beta-only', 'stable'))).toBeNull();
  });

  it('is 404 when no registry has it, 422 for what is neither a channel nor a version', async () => {
    const missing = await merged.resolveVersion('nothing', 'stable').catch((e: unknown) => e);
    expect((missing as HearthError).status).toBe(404);
    const bad = await merged.resolveVersion('drive', 'latest-ish').catch((e: unknown) => e);
    expect((bad as HearthError).status).toBe(422);
  });

  it('opens the tarball of a version from where it is, and only from a configured local folder', async () => {
    const read = async (s: NodeJS.ReadableStream) => {
      const chunks: Buffer[] = [];
      for await (const c of s) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    const photos = await merged.resolveVersion('photos', 'stable');
    expect(await read(await merged.openTarball(photos))).toEqual(remote.tarball('photos', '2.0.0'));
    const notes = await merged.resolveVersion('notes', 'stable');
    expect(createHash('sha256').update(await read(await merged.openTarball(notes))).digest('hex')).toBe(notes.sha256);
    const outside = await merged.openTarball({ ...notes, url: pathToFileURL('/etc/passwd').href }).catch((e: unknown) => e);
    expect((outside as HearthError).status).toBe(422);
  });
});

describe('lists', () => {
  it('walk two registries with one multi-cursor: every app once, the first registry winning, in order', async () => {
    const { pages, cursors } = await walk(merged, { limit: 2 });
    const slugs = pages.flat().map((a) => a.slug);
    expect(slugs).toEqual(['alan', 'ameli', 'banks', 'contacts', 'drive', 'notes', 'photos', 'store']);
    expect(pages.every((p) => p.length <= 2)).toBe(true);
    expect(cursors.every((c) => /^-?\d+\|-?\d+$/.test(c))).toBe(true);
    expect(pages.flat().find((a) => a.slug === 'drive')?.latest_version?.version).toBe('9.0.0');
  });

  it('page through the last registry too, an app hidden by an earlier one skipped', async () => {
    const reversed = new MergedRegistries(clientsOf(`${remote.url},${localUrl}`), logger);
    for (const limit of [1, 3]) {
      const { pages } = await walk(reversed, { limit });
      expect(pages.flat().map((a) => a.slug)).toEqual(['alan', 'ameli', 'banks', 'contacts', 'drive', 'notes', 'photos', 'store']);
      expect(pages.flat().find((a) => a.slug === 'drive')?.latest_version?.version).toBe('1.0.0');
    }
  });

  it('filter, sort (-field reverses) and limit apply to the merged list', async () => {
    const konnectors = await walk(merged, { filter: { type: 'konnector' }, limit: 1 });
    expect(konnectors.pages.flat().map((a) => a.slug)).toEqual(['alan', 'ameli', 'banks']);
    const reversed = await walk(merged, { sort: '-slug', limit: 3 });
    expect(reversed.pages.flat().map((a) => a.slug)).toEqual(['store', 'photos', 'notes', 'drive', 'contacts', 'banks', 'ameli', 'alan']);
    const byEditor = await merged.list({ sort: 'editor', limit: 3 });
    expect(byEditor.data.map((a) => a.editor)).toEqual(['cozy', 'cozy', 'cozy']);
    expect((await merged.list({ filter: { category: 'health' } })).data.map((a) => a.slug)).toEqual(['ameli']);
  });

  it('versionsChannel and latestChannelVersion choose the versions listed and the latest one', async () => {
    const beta = await merged.list({ latestChannelVersion: 'beta', versionsChannel: 'stable', limit: 100 });
    const photos = beta.data.find((a) => a.slug === 'photos');
    expect(photos?.latest_version?.version).toBe('2.1.0-beta.1');
    expect(photos?.versions).toEqual({ stable: ['2.0.0'] });
    expect(beta.data.map((a) => a.slug)).toContain('zzz-beta-only');
    expect(beta.meta.next_cursor).toBeUndefined();
  });

  it('refuses a cursor that was not given', async () => {
    for (const cursor of ['a|b', '1|2|3', '1.5|0']) expect(((await merged.list({ cursor }).catch((e: unknown) => e)) as HearthError).status).toBe(400);
  });
});

describe('maintenance', () => {
  it('lists the apps in maintenance, an app of an earlier registry masking a later one', async () => {
    const list = await merged.maintenance();
    expect(list.map((a) => a.slug)).toEqual(['photos']);
    expect(list[0]?.maintenance_options).toEqual({ flag_short_maintenance: true });
  });
});

describe('a registry that cannot be reached', () => {
  it('is skipped with a warning: connection refused', async () => {
    warnings = [];
    const closed = `http://127.0.0.1:${await freePort()}/`;
    const offline = new MergedRegistries(clientsOf(`${localUrl},${closed}`), logger);
    const first = await offline.list({});
    expect(first.data.map((a) => a.slug)).toEqual(['alan', 'drive', 'notes']);
    // the answer says the list is partial (a client tells the person), as long as it is skipped
    expect(first.meta.unreachable).toBe(1);
    expect((await offline.list({})).meta.unreachable).toBe(1);
    expect((await new MergedRegistries(clientsOf(localUrl), logger).list({})).meta.unreachable).toBeUndefined();
    // paging ends: the unreachable registry's dimension of the cursor is closed
    const { pages } = await walk(offline, { limit: 2 });
    expect(pages.flat().map((a) => a.slug)).toEqual(['alan', 'drive', 'notes']);
    expect((await offline.resolveVersion('notes', 'stable')).version).toBe('1.0.0');
    expect(await offline.application('photos')).toBeNull();
    // logged once: then it is skipped without being asked for retryAfterMs
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ obj: { registry: closed }, msg: 'app registry skipped for the list' });
  });

  it('is skipped after its timeout when it does not answer, and when it answers 500', async () => {
    warnings = [];
    const slow = new MergedRegistries([new LocalRegistry(localUrl), new HttpRegistry(remote.url, { timeoutMs: 300 })], logger, { retryAfterMs: 0 });
    remote.mode = 'hang';
    try {
      expect((await slow.list({ limit: 10 })).data.map((a) => a.slug)).toEqual(['alan', 'drive', 'notes']);
      expect(String((warnings[0]?.obj as { err: string }).err)).toMatch(/no answer within 300 ms/);
      remote.mode = 'fail';
      expect((await slow.maintenance())).toEqual([]);
      expect(String((warnings.at(-1)?.obj as { err: string }).err)).toMatch(/answered 500/);
    } finally {
      remote.mode = 'ok';
    }
  });

  it('is not asked again for retryAfterMs after it failed, then asked again', async () => {
    warnings = [];
    let now = 1_000_000;
    const registries = new MergedRegistries([new LocalRegistry(localUrl), new HttpRegistry(remote.url, { timeoutMs: 300 })], logger, { retryAfterMs: 30_000, now: () => now });
    remote.mode = 'hang';
    try {
      expect(await registries.latestVersion('photos', 'stable')).toBeNull();
      const asked = remote.requests.length;
      expect((await registries.list({})).data.map((a) => a.slug)).toEqual(['alan', 'drive', 'notes']);
      expect(await registries.application('photos')).toBeNull();
      expect(remote.requests.length).toBe(asked);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.obj).toMatchObject({ registry: remote.url, retry_in_ms: 30_000 });
      remote.mode = 'ok';
      now += 30_001;
      expect((await registries.latestVersion('photos', 'stable'))?.version).toBe('2.0.0');
      expect(remote.requests.length).toBe(asked + 1);
    } finally {
      remote.mode = 'ok';
    }
  });

  it('is skipped when its list cursor does not move on (it would be read for ever)', async () => {
    warnings = [];
    const looping = new MergedRegistries(clientsOf(`${remote.url},${localUrl}`), logger);
    remote.mode = 'loop';
    try {
      expect((await looping.list({ limit: 50 })).data.map((a) => a.slug)).toEqual(['alan', 'drive', 'notes']);
      expect(String((warnings[0]?.obj as { err: string }).err)).toMatch(/does not move past 0/);
    } finally {
      remote.mode = 'ok';
    }
  });

  it('fails the request (502) when no registry can be reached', async () => {
    const none = new MergedRegistries(clientsOf(`http://127.0.0.1:${await freePort()}/`), logger);
    expect(((await none.list({}).catch((e: unknown) => e)) as HearthError).status).toBe(502);
    expect(((await none.resolveVersion('drive', 'stable').catch((e: unknown) => e)) as HearthError).status).toBe(502);
  });
});
