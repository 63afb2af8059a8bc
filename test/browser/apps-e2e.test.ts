/**
 * The apps platform end to end, in Chromium. Two web apps written on the npm packages real Cozy apps use
 * (test/fixtures/apps: cozy-client with `CozyClient.fromDOM()`, cozy-realtime, cozy-interapp), bundled by esbuild and
 * packed by tar: the notes app installed from an http tarball (its sha256 checked), the picker from a local folder
 * registry (`hearth apps publish`'s layout). The owner opens the notes app on its own host, logs in through the
 * redirect and comes back; the app lists and creates documents with the token the stack put in its page, receives a
 * realtime event, is refused a doctype its manifest did not ask for, and starts a PICK intent that the picker serves in
 * an iframe on its own origin.
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startTestHearth, type Res, type TestHearth } from '../helpers/hearth.js';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { buildFixtureApp, type BuiltApp } from '../helpers/app-fixtures.js';
import { until } from '../helpers/jobs.js';
import { DEFAULTS } from '../../src/config/schema.js';
import { derivePassphrase } from '../../src/auth/passphrase.js';
import { publish } from '../../src/apps/registry/publish.js';
import type { Instance } from '../../src/instances/types.js';

const ITER = 1000;
let work: string;
let h: TestHearth;
let browser: Browser;
let tarballs: Server;
let notes: BuiltApp;
let picker: BuiltApp;
let instance: Instance;
let domain: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'hearth-apps-e2e-'));
  [notes, picker] = await Promise.all([buildFixtureApp('e2e-notes', work), buildFixtureApp('e2e-picker', work)]);
  const registryDir = join(work, 'registry');
  await publish(picker.tarball, { dir: registryDir, limits: { maxEntries: DEFAULTS.apps.maxEntries, maxUnpackedBytes: DEFAULTS.apps.maxUnpackedBytes } });
  tarballs = createServer((req, res) => {
    if (req.url !== '/e2e-notes.tar.gz') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/gzip' });
    createReadStream(notes.tarball).pipe(res);
  });
  await new Promise<void>((done) => tarballs.listen(0, '127.0.0.1', done));
  [h, browser] = await Promise.all([
    startTestHearth({ apps: { ...DEFAULTS.apps, registries: pathToFileURL(registryDir).href } }),
    launchBrowser(),
  ]);
  // An instance named as in production, under a parent domain, so that its app hosts are the same site as its API
  // (SameSite=Lax cookies reach the API from the apps): Chromium resolves *.localhost to loopback by itself.
  domain = `alice.e2e.localhost:${h.port}`;
  await h.hearth.registry.create({ domain, passphrase: 'x' });
  instance = await h.hearth.registry.setDerivedPassphrase((await h.hearth.registry.get(domain))!, await derivePassphrase('owner-pass', domain, ITER), ITER);
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
  await new Promise((done) => tarballs?.close(done));
  rmSync(work, { recursive: true, force: true });
});

const api = (method: string, path: string, token: string, body?: unknown): Promise<Res> =>
  rawRequest(h.port, method, path, { host: domain, token, ...(body === undefined ? {} : { body }) });

async function installed(token: string, slug: string): Promise<Res> {
  let res!: Res;
  await until(async () => {
    res = await api('GET', `/apps/${slug}`, token);
    return res.status === 200 && ['ready', 'errored'].includes(res.body.data.attributes.state);
  }, 60_000);
  return res;
}

describe('apps in Chromium', () => {
  it('installs one app from an http tarball with its sha256 and another from the local registry', async () => {
    const token = await h.cliToken('io.cozy.apps', instance);
    const source = `http://127.0.0.1:${(tarballs.address() as AddressInfo).port}/e2e-notes.tar.gz#${notes.sha256}`;
    const started = await api('POST', `/apps/e2e-notes?Source=${encodeURIComponent(source)}`, token);
    expect(started.status).toBe(202);
    expect(started.body.data.attributes.state).toBe('installing');
    expect((await installed(token, 'e2e-notes')).body.data.attributes).toMatchObject({ state: 'ready', version: '1.0.0', checksum: notes.sha256 });
    // no Source: registry://e2e-picker/stable, from the folder registry
    expect((await api('POST', '/apps/e2e-picker', token)).status).toBe(202);
    const done = await installed(token, 'e2e-picker');
    expect(done.body.data.attributes).toMatchObject({ state: 'ready', source: 'registry://e2e-picker/stable', checksum: picker.sha256 });
    const list = await api('GET', '/apps/', token);
    expect(list.body.data.map((a: { attributes: { slug: string } }) => a.attributes.slug)).toEqual(['e2e-notes', 'e2e-picker']);
    expect(list.body.data[0].links.related).toBe(`http://e2e-notes.${domain}/`);
  });

  it('opens the app on its own host after the login, with a working token, realtime and an intent served by the other app', async () => {
    const context = await browser.newContext({ viewport: { width: 900, height: 700 }, locale: 'en-US' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`http://e2e-notes.${domain}/`);
      // not logged in: the app host sends the owner to the instance's login page, which comes back after it
      expect(new URL(page.url()).host).toBe(domain);
      expect(new URL(page.url()).searchParams.get('redirect')).toBe(`http://e2e-notes.${domain}/`);
      await page.getByLabel('Passphrase').fill('owner-pass');
      await page.keyboard.press('Enter');
      await page.waitForURL(`http://e2e-notes.${domain}/`);
      await page.locator('#status').filter({ hasText: /^(ready|error.*)$/ }).waitFor();
      expect(await page.locator('#status').textContent()).toBe('ready');
      expect(await page.locator('#app-name').textContent()).toBe('E2E Notes');
      expect(await page.locator('#count').textContent()).toBe('0');
      // io.cozy.contacts is not in the manifest: the stack refuses the app's token
      expect(await page.locator('#refused').textContent()).toBe('403');

      // the app writes with its own token and reads back
      await page.evaluate<string>('window.e2e.create("Groceries")');
      expect(await page.locator('#count').textContent()).toBe('1');
      expect(await page.locator('#titles li').allTextContents()).toEqual(['Groceries']);
      // a document written by someone else reaches the page through cozy-realtime
      const cli = await h.cliToken('io.hearth.e2e.notes', instance);
      expect((await api('POST', '/data/io.hearth.e2e.notes/', cli, { title: 'From the CLI' })).status).toBe(201);
      await page.locator('#realtime').filter({ hasText: 'From the CLI' }).waitFor();

      // PICK: cozy-interapp asks the stack for the intent, opens the picker's href in an iframe on the picker's own
      // origin (the stack grants it frame-ancestors for this intent), and gets the document clicked there
      const picked = page.evaluate<{ title: string }>('window.e2e.pick()');
      const frame = page.frameLocator('#intent iframe');
      await frame.locator('#status').filter({ hasText: 'ready' }).waitFor();
      expect(await page.locator('#intent iframe').getAttribute('src')).toMatch(new RegExp(`^http://e2e-picker\\.${domain.replace(/\./g, '\\.')}/intents\\?intent=`));
      await screenshot(page, 'apps-e2e-intent');
      await frame.getByRole('button', { name: 'Groceries' }).click();
      expect((await picked).title).toBe('Groceries');
      expect(await page.locator('#picked').textContent()).toContain('"title":"Groceries"');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
