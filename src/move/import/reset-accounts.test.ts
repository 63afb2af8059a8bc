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
  h = await startTestHearth({ imports: { allowPrivateUrls: true }, jobs: { konnectorsDir: null, appsDir: null, sandboxMemoryMb: 128, sandboxOutputBytes: 256 * 1024 } });
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

describe('the reset of an import', () => {
  it('runs the on_delete_account script of each konnector for its accounts first, and waits for it', async () => {
    const cli = await h.cliToken('io.cozy.konnectors io.cozy.accounts io.cozy.contacts io.cozy.imports');
    const url = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/`;
    const script = `const f = JSON.parse(process.env.COZY_FIELDS);
const acc = await fetch(process.env.COZY_URL + '/data/io.cozy.accounts/' + f.account + '?rev=' + f.account_rev, { headers: { authorization: 'Bearer ' + process.env.COZY_CREDENTIALS } });
const login = acc.ok ? (await acc.json()).auth?.login : null;
await fetch(${JSON.stringify(url)}, { method: 'POST', body: JSON.stringify({ account: f.account, deleted: f.account_deleted, read: acc.status, login }) });`;
    const manifest = { slug: 'tidy', type: 'konnector', version: '1.0.0', main: 'index.js', on_delete_account: 'ondelete.js', permissions: { accounts: { type: 'io.cozy.accounts', verbs: ['GET'] } } };
    const source = await pkgs.add('tidy-1', { 'manifest.konnector': manifest, 'package.json': '{"type":"module"}', 'index.js': '', 'ondelete.js': script });
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
});
