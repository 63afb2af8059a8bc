/**
 * `hearth instances migrate` on a real server: a rich instance (documents with conflicts, deletions, attachments,
 * _local docs and indexes; files with old versions and thumbnails) moved to a second engine of each kind and back,
 * served from the target afterwards; 503 while blocked; refusals; the CLI with --json; kill -9 of a process in the
 * middle of the copy and of the verification.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { B, CONTACTS, clientView, fillRichInstance, secondEngines } from '../../test/helpers/migrate-engines.js';
import { captureStdio } from '../../test/helpers/stdio.js';
import { childScript } from '../../test/helpers/child-script.js';

const dirB = mkdtempSync(join(tmpdir(), 'hearth-engine-b-'));
const A = { docs: 'sqlite', blobs: 'local' };
const io = captureStdio();
let h: TestHearth;
let token: string;
let env: Record<string, string>;
const files: Record<string, string> = {};

beforeAll(async () => {
  h = await startTestHearth({}, { extraEngines: secondEngines(dirB) });
  token = await h.cliToken(`${CONTACTS} io.cozy.files`);
  Object.assign(files, await fillRichInstance(h, token, { photo: true }));
  const url = await h.hearth.adminApp.listen({ host: '127.0.0.1', port: 0 });
  env = { HEARTH_ADMIN_URL: url, HEARTH_ADMIN_PASSPHRASE: 'admin-secret' };
}, 120_000);
afterAll(async () => {
  await h.close();
  rmSync(dirB, { recursive: true, force: true });
});

const view = () => clientView(h, token, files);

const run = (...argv: string[]) => main(argv, env);

describe('hearth instances migrate', () => {
  it('refuses, with a clear error, a move it cannot make', async () => {
    expect(await run('instances', 'migrate', h.domain)).toBe(2);
    expect(io.stderr).toMatch(/--to <engine> and\/or --blobs-to <engine>/);
    io.stderr = '';
    expect(await run('instances', 'migrate', h.domain, '--to', 'postgres')).toBe(1);
    expect(io.stderr).toMatch(/the documents engine "postgres" is not configured on this server \(configured: sqlite, sqlite-b\)/);
    io.stderr = '';
    expect(await run('instances', 'migrate', h.domain, '--to', 'sqlite', '--blobs-to', 'local')).toBe(1);
    expect(io.stderr).toMatch(/already on these engines \(documents sqlite, blobs local\)/);
    io.stderr = '';
    expect(await run('instances', 'migrate', 'nowhere.example.org', '--to', 'sqlite-b')).toBe(1);
    expect(io.stderr).toMatch(/no instance for nowhere\.example\.org/);
    io.stderr = '';
    expect(await run('instances', 'migrate', h.domain, '--cleanup')).toBe(1);
    expect(io.stderr).toMatch(/has no old copy to remove/);
    io.stderr = '';
    expect(await run('instances', 'migrate', h.domain, '--to', 'Bad Name')).toBe(2);
    io.stderr = '';
  });

  it('moves the instance to B with --json (identical through HTTP, served from B), blocks it with 503, refuses a second run and a destroy meanwhile', async () => {
    const before = await view();
    // the instance has what the test is about: a thumbnail, an old version, a conflict, a deleted document
    expect(before.contents).toMatchObject({ photo: { thumb: [200, expect.any(Number)] }, note: { versions: ['first version'] } });
    expect(before.changes).toEqual(expect.arrayContaining([{ id: 'c1', changes: [expect.anything()], deleted: true }, { id: 'conflicted', changes: [expect.anything(), expect.anything()], deleted: false }]));
    io.stdout = '';
    expect(await run('instances', 'migrate', h.domain, '--to', B.docs, '--blobs-to', B.blobs, '--json')).toBe(0);
    const lines = io.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; step?: string; data?: Record<string, unknown> });
    expect(lines.map((l) => l.step ?? l.type)).toEqual(expect.arrayContaining(['prepare', 'copy', 'blocked', 'catch-up', 'verify', 'switched', 'done']));
    expect(lines.at(-1)).toMatchObject({ type: 'done', data: { domain: h.domain, from: A, to: B, blobs: expect.any(Number), bytes: expect.any(Number) } });
    expect((lines.at(-1)!.data!.bytes as number)).toBeGreaterThan(3 << 20);
    expect(await view()).toEqual(before);

    // served from B: a write lands there; back to the embedded engines, through the admin API, with 503 while blocked
    expect((await h.req('PUT', `/data/${CONTACTS}/on-b`, { token, body: { fullname: 'written on B' } })).status).toBe(200);
    const onB = await view();
    const seen: Record<string, unknown> = {};
    const summary = await h.hearth.migrations.migrate(h.instance, { ...A, dropSource: true }, async (p) => {
      if (p.step !== 'blocked') return;
      const res = await h.req('GET', `/data/${CONTACTS}/c2`, { token });
      seen.blocked = { status: res.status, retry: res.headers['retry-after'], body: res.body };
      const admin = await fetch(`${env.HEARTH_ADMIN_URL}/instances/${encodeURIComponent(h.domain)}/migrate?to=sqlite`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('admin:admin-secret').toString('base64')}` } });
      seen.second = { status: admin.status, body: await admin.json() };
      const destroy = await fetch(`${env.HEARTH_ADMIN_URL}/instances/${encodeURIComponent(h.domain)}`, { method: 'DELETE', headers: { authorization: `Basic ${Buffer.from('admin:admin-secret').toString('base64')}` } });
      seen.destroy = destroy.status;
    });
    expect(seen.blocked).toMatchObject({ status: 503, retry: '10', body: { error: 'service_unavailable', reason: expect.stringMatching(/being moved to another storage engine/) } });
    expect(seen.second).toMatchObject({ status: 409, body: { error: 'conflict', reason: expect.stringMatching(/already running/) } });
    expect(seen.destroy).toBe(409);
    expect(summary).toMatchObject({ from: B, to: A, source_dropped: true });
    expect(await view()).toEqual(onB);
    expect((await h.req('GET', `/data/${CONTACTS}/c2`, { token })).status).toBe(200);
  }, 300_000);

  it('survives kill -9 in the middle of the copy and of the verification: the instance stays on its engines, and a new run succeeds', async () => {
    const before = await view();
    await h.hearth.close();
    for (const step of ['copy', 'verify']) {
      const child = spawn(process.execPath, [childScript('test/helpers/migrate-crash-child.ts'), h.dataDir, dirB, h.domain, step], { stdio: ['ignore', 'pipe', 'inherit'] });
      const said = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`the child exited with ${code}`)));
      });
      expect(said).toBe(`at ${step}`);
      const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
    }
    await h.restart();
    await h.hearth.adminApp.listen({ host: '127.0.0.1', port: Number(new URL(env.HEARTH_ADMIN_URL!).port) });
    // on its source, unblocked, every document and file as before; a write lands on the source
    expect(await view()).toEqual(before);
    expect((await h.req('PUT', `/data/${CONTACTS}/after-crash`, { token, body: { fullname: 'after the crashes' } })).status).toBe(200);
    io.stdout = '';
    io.stderr = '';
    const code = await run('instances', 'migrate', h.domain, '--to', B.docs, '--blobs-to', B.blobs);
    expect(io.stderr).toBe('');
    expect(code).toBe(0);
    expect(io.stdout).toMatch(new RegExp(`${h.domain.replace('.', '\\.')} moved to documents sqlite-b, blobs local-b: \\d+ documents and \\d+ blobs .* blocked \\d+\\.\\d s\\.\\n$`));
    expect((await h.req('GET', `/data/${CONTACTS}/after-crash`, { token })).body).toMatchObject({ fullname: 'after the crashes' });
    io.stdout = '';
    expect(await run('instances', 'migrate', h.domain, '--cleanup')).toBe(0);
    expect(io.stdout).toBe(`The old copy of ${h.domain} (documents sqlite, blobs local) is removed.\n`);
    expect((await h.req('GET', `/files/download/${files.big}`, { token })).text.length).toBe(3 << 20);
  }, 300_000);
});
