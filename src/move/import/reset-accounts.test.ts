/**
 * The reset of an import runs the konnectors' account-deletion scripts first, as cozy-stack's (lifecycle.deleteAccounts):
 * an installed konnector with `on_delete_account` runs it for its account, reading the account from the blocked instance
 * (its token passes the gate while it runs), and the import goes on once it has ended. A real server with the konnector
 * sandbox, a registry and an export server on loopback, and a loopback server the script tells what it did.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { until } from '../../../test/helpers/jobs.js';
import { DEFAULTS } from '../../config/schema.js';
import { doc, startExportServer, writeZip, type ExportServer } from '../../../test/helpers/move-archive.js';

let h: TestHearth;
let pkgs: PackageServer;
let server: ExportServer;
let recorder: Server;
const told: Array<Record<string, unknown>> = [];
const work = mkdtempSync(join(tmpdir(), 'hearth-import-accounts-'));

beforeAll(async () => {
  recorder = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      told.push(JSON.parse(body) as Record<string, unknown>);
      res.end();
    });
  });
  await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
  pkgs = await startPackageServer();
  // the package server is also the registry the reset installs an uninstalled konnector from
  h = await startTestHearth({ imports: { allowPrivateUrls: true }, apps: { ...DEFAULTS.apps, registries: pkgs.url }, jobs: { konnectorsDir: null, appsDir: null, sandboxMemoryMb: 128, sandboxOutputBytes: 256 * 1024, eventSweepMs: 30_000 } });
  const part = join(work, 'export.zip');
  await writeZip(part, [doc('io.cozy.contacts', { _id: 'imported', name: 'from the archive' })]);
  server = await startExportServer([part]);
}, 60_000);
afterAll(async () => {
  await server?.close();
  await h?.close();
  await pkgs?.close();
  await new Promise((r) => recorder?.close(r));
  rmSync(work, { recursive: true, force: true });
});

/** A konnector whose on_delete_account script reads the account from the instance and tells the recorder. */
function tellingKonnector(slug: string): Record<string, string | object> {
  const url = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/`;
  const script = `const f = JSON.parse(process.env.COZY_FIELDS);
const acc = await fetch(process.env.COZY_URL + '/data/io.cozy.accounts/' + f.account + '?rev=' + f.account_rev, { headers: { authorization: 'Bearer ' + process.env.COZY_CREDENTIALS } });
const login = acc.ok ? (await acc.json()).auth?.login : null;
await fetch(${JSON.stringify(url)}, { method: 'POST', body: JSON.stringify({ account: f.account, deleted: f.account_deleted, read: acc.status, login }) });`;
  const manifest = { slug, type: 'konnector', version: '1.0.0', main: 'index.js', on_delete_account: 'ondelete.js', permissions: { accounts: { type: 'io.cozy.accounts', verbs: ['GET'] } } };
  return { 'manifest.konnector': manifest, 'package.json': '{"type":"module"}', 'index.js': '', 'ondelete.js': script };
}

describe('the reset of an import', () => {
  it('runs the on_delete_account script of each konnector for its accounts first, and waits for it', async () => {
    told.length = 0;
    const cli = await h.cliToken('io.cozy.konnectors io.cozy.accounts io.cozy.contacts io.cozy.imports');
    const source = await pkgs.add('tidy-1', tellingKonnector('tidy'));
    expect((await h.req('POST', `/konnectors/tidy?Source=${encodeURIComponent(source)}`, { token: cli })).status).toBe(202);
    await until(async () => (await h.req('GET', '/konnectors/tidy', { token: cli })).body?.data?.attributes?.state === 'ready', 30_000);
    const account = await h.req('POST', '/data/io.cozy.accounts/', { token: cli, body: { account_type: 'tidy', auth: { login: 'ann', password: 'p' } } });
    expect(account.status).toBe(201);

    expect((await h.req('POST', '/move/imports', { token: cli, body: { data: { attributes: { url: server.link } } } })).status).toBe(303);
    await until(async () => (await h.hearth.moveStates.get(h.instance.id)) === null, 180_000);

    // the script ran once, for the account, and read it from the instance the import had blocked
    expect(told).toEqual([{ account: account.body.id, deleted: true, read: 200, login: 'ann' }]);
    expect((await h.req('GET', '/data/io.cozy.contacts/imported', { token: cli })).status).toBe(200);
    expect((await h.req('GET', `/data/io.cozy.accounts/${account.body.id as string}`, { token: cli })).status).toBe(404);
    expect((await h.req('GET', '/konnectors/tidy', { token: cli })).status).toBe(404);
  }, 240_000);

  it('installs again from the registry the konnector of an account that is no longer installed, and runs its script', async () => {
    told.length = 0;
    const cli = await h.cliToken('io.cozy.konnectors io.cozy.accounts io.cozy.contacts io.cozy.imports');
    await pkgs.publish(tellingKonnector('gone'));
    // the konnector was uninstalled, its account left (cozy-stack's deleteAccounts installs it again for the script)
    const account = await h.req('POST', '/data/io.cozy.accounts/', { token: cli, body: { account_type: 'gone', auth: { login: 'bob' } } });
    expect(account.status).toBe(201);
    expect((await h.req('GET', '/konnectors/gone', { token: cli })).status).toBe(404);

    expect((await h.req('POST', '/move/imports', { token: cli, body: { data: { attributes: { url: server.link } } } })).status).toBe(303);
    await until(async () => (await h.hearth.moveStates.get(h.instance.id)) === null, 180_000);

    expect(told).toEqual([{ account: account.body.id, deleted: true, read: 200, login: 'bob' }]);
    expect((await h.req('GET', '/data/io.cozy.contacts/imported', { token: cli })).status).toBe(200);
    expect((await h.req('GET', `/data/io.cozy.accounts/${account.body.id as string}`, { token: cli })).status).toBe(404);
    expect((await h.req('GET', '/konnectors/gone', { token: cli })).status).toBe(404);
  }, 240_000);

  it('fails the import before deleting anything when that konnector cannot be installed again, and says why', async () => {
    told.length = 0;
    const cli = await h.cliToken('io.cozy.konnectors io.cozy.accounts io.cozy.contacts io.cozy.imports io.cozy.jobs');
    const account = await h.req('POST', '/data/io.cozy.accounts/', { token: cli, body: { account_type: 'nowhere', auth: { login: 'cy' } } });
    expect(account.status).toBe(201);
    const kept = await h.req('PUT', '/data/io.cozy.contacts/kept', { token: cli, body: { name: 'before the import' } });
    expect(kept.status).toBe(200);
    const report = await h.hearth.imports.runClaimed(h.instance, await h.hearth.imports.claim(h.instance, server.link)).then(() => null, (err: Error) => err.message);
    expect(report).toMatch(/the konnector nowhere of an account could not be installed again/);
    // unblocked, and nothing deleted
    expect(await h.hearth.moveStates.get(h.instance.id)).toBeNull();
    expect((await h.req('GET', '/data/io.cozy.contacts/kept', { token: cli })).status).toBe(200);
    expect((await h.req('GET', `/data/io.cozy.accounts/${account.body.id as string}`, { token: cli })).status).toBe(200);
    expect(told).toEqual([]);
  }, 240_000);
});
