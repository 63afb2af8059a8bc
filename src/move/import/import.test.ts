/**
 * An import from an export link, through the routes of the contract, of an archive the test writes itself in the
 * contract's layout (as a Cozy would): the instance is reset, blocked meanwhile (503 JSON, 302 for a page, CLI tokens
 * and /move/* pass), then every kind of entry lands where it should (documents without `_rev`, directories and files
 * with their ids, contents checked by MD5, versions, triggers created last, apps reinstalled or reported, the owner's
 * contact given this instance's email), the owner gets a mail, and the instance answers again.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestHearth, rawRequest, type TestHearth } from '../../../test/helpers/hearth.js';
import { dir, doc, file, instanceEntry, startExportServer, version, writeZip, type ExportServer } from '../../../test/helpers/move-archive.js';
import type { Instance } from '../../instances/types.js';
import { listOutbox, mailsOf, outboxDir } from '../../mail/outbox.js';

const waitFor = async (what: string, ok: () => Promise<boolean>, ms = 90_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('import of an export link (contract-made archive)', () => {
  let t: TestHearth;
  let server: ExportServer;
  let work: string;
  let inst: Instance;
  let host: string;
  const req = (method: string, path: string, opts: Parameters<typeof rawRequest>[3] extends infer O ? Omit<O & object, 'host'> : never = {}) => rawRequest(t.port, method, path, { host, ...opts });

  beforeAll(async () => {
    t = await startTestHearth({ imports: { allowPrivateUrls: true } });
    host = `imp.localhost:${t.port}`;
    inst = await t.hearth.registry.create({ domain: host, email: 'owner@example.org', passphrase: 'owner-pass' });
    work = mkdtempSync(join(tmpdir(), 'hearth-import-'));
    const big = Buffer.alloc(300_000, 'x');
    const part0 = join(work, 'part0.zip');
    const part1 = join(work, 'part1.zip');
    await writeZip(part0, [
      instanceEntry(),
      doc('io.cozy.notes.things', { _id: 'n1', _rev: '5-zzz', title: 'hello', nested: { a: [1, 2] } }),
      doc('io.cozy.contacts', { _id: 'me1', _rev: '2-x', me: true, fullname: 'Alice', email: [{ address: 'old@mycozy.cloud', primary: true }] }),
      doc('io.cozy.accounts', { _id: 'acc1', _rev: '1-x', account_type: 'mykonnector', auth: { login: 'alice' } }),
      doc('io.cozy.apps', { _id: 'io.cozy.apps/nosuchapp', _rev: '1-a', slug: 'nosuchapp', state: 'ready' }),
      doc('io.cozy.triggers', { _id: 'trig1', _rev: '1-a', type: '@event', arguments: 'io.cozy.files:CREATED', worker: 'log', message: { hello: 1 } }),
      doc('io.cozy.sessions', { _id: 's1', last_seen: 'x' }),
      doc('io.cozy.exports', { _id: 'e1', state: 'done' }),
      doc('io.cozy.permissions', { _id: 'p1', type: 'share' }),
      doc('io.cozy.settings', { _id: 'io.cozy.settings.instance', email: 'evil@example.org' }),
      dir('dir-docs', '/Documents', 'io.cozy.files.root-dir'),
      dir('dir-sub', '/Documents/Sub', 'dir-docs'),
      dir('io.cozy.files.root-dir', '/', ''),
      ...file('file-a', '/Documents', 'dir-docs', 'a.txt', 'hello a'),
    ]);
    await writeZip(part1, [
      ...file('file-big', '/Documents/Sub', 'dir-sub', 'big.bin', big, { mime: 'application/octet-stream', class: 'files' }),
      ...version('file-a', 'v1', 'old a'),
    ]);
    server = await startExportServer([part0, part1]);
    // what the instance had before: gone after the import
    await t.hearth.storeOf(inst).put('io.cozy.notes.things', { _id: 'before', x: 1 });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await t?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('prechecks the link: 204, 412 for no export there, 422 for a link that is not one, 413 over the quota, 403 without the right', async () => {
    const token = await t.cliToken('io.cozy.imports', inst);
    const post = (url: string, tk = token) => req('POST', '/move/imports/precheck', { token: tk, body: { data: { attributes: { url } } } });
    expect((await post(server.link)).status).toBe(204);
    const wrong = await post(server.link.replace('TESTMAC_1', 'OTHER'));
    expect(wrong.status).toBe(412);
    expect((await post('ftp://settings.localhost/#/exports/x')).status).toBe(422);
    expect((await post('http://localhost:1/nothing')).status).toBe(422);
    expect((await post(server.link, await t.cliToken('io.cozy.files', inst))).status).toBe(403);
    const small = await t.hearth.registry.create({ domain: `small.localhost:${t.port}`, diskQuota: 10 });
    const r = await rawRequest(t.port, 'POST', '/move/imports/precheck', { host: small.domain, token: await t.cliToken('io.cozy.imports', small), body: { data: { attributes: { url: server.link } } } });
    expect(r.status).toBe(413);
  });

  it('imports: 303 to the waiting page, the instance blocked meanwhile, then every entry where it belongs', async () => {
    const token = await t.cliToken('io.cozy.imports', inst);
    const states: string[] = [];
    const unwatch = setInterval(() => void t.hearth.moveStates.get(inst.id).then((s) => states.push(s?.status ?? 'none')), 5);
    const start = await req('POST', '/move/imports', { token, body: { data: { attributes: { url: server.link } } } });
    expect(start.status).toBe(303);
    expect(start.headers.location).toBe('/move/importing');
    await waitFor('the import to end', async () => (await t.hearth.moveStates.get(inst.id)) === null);
    clearInterval(unwatch);
    expect(states).toContain('importing');

    const store = t.hearth.storeOf(inst);
    // the reset: what the instance had is gone
    await expect(store.get('io.cozy.notes.things', 'before')).rejects.toThrow();
    const n1 = await store.get('io.cozy.notes.things', 'n1');
    expect(n1).toMatchObject({ title: 'hello', nested: { a: [1, 2] } });
    expect(String(n1._rev).startsWith('1-')).toBe(true);
    expect(await store.get('io.cozy.accounts', 'acc1')).toMatchObject({ account_type: 'mykonnector' });
    // skipped doctypes
    for (const [dt, id] of [['io.cozy.sessions', 's1'], ['io.cozy.exports', 'e1'], ['io.cozy.permissions', 'p1']]) await expect(store.get(dt!, id!)).rejects.toThrow();
    // the owner's contact gets this instance's email
    const me = await store.get('io.cozy.contacts', 'me1');
    expect((me.email as Array<{ address: string; primary: boolean }>)[0]).toEqual({ address: 'owner@example.org', primary: true });
    // files: same ids, contents checked, under their directories
    const fs = t.hearth.vfs.fs;
    expect(await fs.pathOf(inst, await fs.stat(inst, 'file-big'))).toBe('/Documents/Sub/big.bin');
    const md5 = async (id: string) => createHash('md5').update(Buffer.concat(await (await fs.open(inst, await fs.stat(inst, id))).toArray())).digest('base64');
    expect(await md5('file-a')).toBe(createHash('md5').update('hello a').digest('base64'));
    expect(await md5('file-big')).toBe(createHash('md5').update(Buffer.alloc(300_000, 'x')).digest('base64'));
    expect((await fs.stat(inst, 'file-a')).internal_vfs_id).not.toBe('cozy-own-key');
    const v = await store.get('io.cozy.files.versions', 'file-a/v1');
    expect(v.size).toBe('5');
    // the file API answers the imported tree
    const files = await req('GET', '/files/dir-docs', { token: await t.cliToken('io.cozy.files', inst) });
    expect(files.status).toBe(200);

    // the trigger exists but never fired during the import (its files were imported before it was created)...
    const trig = await req('GET', '/jobs/triggers?Worker=log', { token: await t.cliToken('io.cozy.triggers io.cozy.jobs', inst) });
    expect(trig.body.data).toHaveLength(1);
    const tid = trig.body.data[0].id as string;
    const jobsOf = async () => (await req('GET', `/jobs/triggers/${tid}/jobs`, { token: await t.cliToken('io.cozy.triggers io.cozy.jobs', inst) })).body.data as unknown[];
    expect(await jobsOf()).toHaveLength(0);
    // ...and fires for a file created now
    const up = await req('POST', '/files/io.cozy.files.root-dir?Type=file&Name=after.txt', { token: await t.cliToken('io.cozy.files', inst), raw: 'after', headers: { 'content-type': 'text/plain' } });
    expect(up.status).toBe(201);
    await waitFor('the trigger to fire', async () => (await jobsOf()).length > 0);

    // the mail to the owner: done, with the app that could not be installed again and what was left out
    await waitFor('the mail', async () => mailsOf((await listOutbox(outboxDir(t.dataDir))) ?? [], inst).length > 0);
    const mail = mailsOf((await listOutbox(outboxDir(t.dataDir))) ?? [], inst)[0]!;
    expect(mail.subject).toBe('Your import is finished');
  }, 180_000);

  it('gates a blocked instance: 503 JSON with Retry-After, 302 for a page, on app hosts too; /move/* and CLI tokens pass', async () => {
    const ok = await t.hearth.moveStates.transition(inst.id, null, { status: 'importing', peer: null, since: new Date().toISOString(), detail: {} });
    expect(ok).toBe(true);
    try {
      // a second import while one runs: 409 (the compare-and-swap of the move state)
      const again = await req('POST', '/move/imports', { token: await t.cliToken('io.cozy.imports', inst), body: { data: { attributes: { url: server.link } } } });
      expect(again.status).toBe(409);
      const api = await req('GET', '/files/dir-docs');
      expect(api.status).toBe(503);
      expect(api.headers['retry-after']).toBe('30');
      expect(typeof api.body.error).toBe('string');
      const page = await req('GET', '/', { headers: { accept: 'text/html' } });
      expect(page.status).toBe(302);
      expect(page.headers.location).toBe(`http://${host}/move/importing`);
      const app = await rawRequest(t.port, 'GET', '/', { host: `drive.${host}`, headers: { accept: 'text/html' } });
      expect(app.status).toBe(302);
      const appApi = await rawRequest(t.port, 'GET', '/', { host: `drive.${host}` });
      expect(appApi.status).toBe(503);
      const cli = await req('GET', '/files/dir-docs', { token: await t.cliToken('io.cozy.files', inst) });
      expect(cli.status).toBe(200);
      const waiting = await req('GET', '/move/importing', { headers: { accept: 'text/html' } });
      expect(waiting.status).toBe(200);
      expect(waiting.text).toContain('Import in progress');
      // another instance is not affected
      expect((await t.req('GET', '/files/io.cozy.files.root-dir', { token: await t.cliToken('io.cozy.files') })).status).toBe(200);
      // the waiting page's WebSocket: told where to go once the instance is unblocked
      const ws = new WebSocket(`ws://127.0.0.1:${t.port}/move/importing/realtime`, 'io.cozy.websocket', { headers: { host } });
      const message = new Promise<string>((resolve, reject) => {
        ws.once('message', (m: Buffer) => resolve(m.toString()));
        ws.once('error', reject);
      });
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      expect(ws.protocol).toBe('io.cozy.websocket');
      await t.hearth.moveStates.transition(inst.id, 'importing', null);
      expect(JSON.parse(await message)).toEqual({ redirect: `http://${host}/auth/login` });
      ws.close();
    } finally {
      await t.hearth.moveStates.transition(inst.id, 'importing', null);
    }
    const page = await req('GET', '/move/importing', { headers: { accept: 'text/html' } });
    expect(page.text).toContain('/auth/login');
  });
});
