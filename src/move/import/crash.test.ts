/**
 * kill -9 of the server in the middle of an import (while it reads the archive): at the next start the job engine runs
 * the import job again (its run was cut short), which starts over from a clean reset. The instance ends up with
 * exactly the archive's data (nothing of the first, cut run is lost or doubled, nothing of what it had before stays)
 * and unblocked. Killed during that second run too, the import is given up at the next start: the instance is reset,
 * unblocked, and its owner gets the failure mail. A server in a child process (test/helpers/import-crash-child.ts),
 * the export on a loopback server.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { childScript } from '../../../test/helpers/child-script.js';
import { rawRequest } from '../../../test/helpers/hearth.js';
import { listOutbox, outboxDir, readOutboxMail } from '../../mail/outbox.js';
import { doc, file, startExportServer, writeZip, type Entry, type ExportServer } from '../../../test/helpers/move-archive.js';

interface Child { child: ChildProcess; port: number; domain: string; token: string }

function start(dataDir: string, port = 0): Promise<Child> {
  const child = spawn(process.execPath, [childScript('test/helpers/import-crash-child.ts'), dataDir, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (line) => resolve({ child, ...(JSON.parse(line) as Omit<Child, 'child'>) }));
    child.once('exit', (code) => reject(new Error(`server exited early with ${code}`)));
  });
}

const stop = (c: Child) => new Promise<void>((resolve) => {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return resolve();
  c.child.once('exit', () => resolve());
  c.child.kill('SIGTERM');
});

const waitFor = async (what: string, ok: () => Promise<boolean>, ms = 240_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

// enough for the import to be well under way (200 documents in) when it is killed, with thousands to go
const DOCS = 5_000;
const dataDir = mkdtempSync(join(tmpdir(), 'hearth-import-crash-'));
let server: ExportServer | null = null;
let c: Child | null = null;

/** The export server of the archive: a file, then the notes, then a last file. */
async function exportServer(): Promise<ExportServer> {
  if (server) return server;
  const part = join(dataDir, 'export.zip');
  function* entries(): Generator<Entry> {
    yield* file('f1', '', 'io.cozy.files.root-dir', 'first.txt', 'first file');
    for (let i = 0; i < DOCS; i++) yield doc('io.cozy.notes', { _id: `n${String(i).padStart(6, '0')}`, i });
    yield* file('f2', '', 'io.cozy.files.root-dir', 'last.txt', 'last file');
  }
  await writeZip(part, entries());
  return (server = await startExportServer([part]));
}

async function kill9(child: Child): Promise<void> {
  child.child.kill('SIGKILL');
  if (child.child.exitCode === null && child.child.signalCode === null) await new Promise((r) => child.child.once('exit', r));
}

/** The import jobs of the server's jobs.sqlite (read beside the running server, as an operator's sqlite3 would). */
function importJobs(dir: string): Array<{ state: string; tries: number }> {
  const db = new Database(join(dir, 'jobs.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT state, tries FROM jobs WHERE worker = 'import'").all() as Array<{ state: string; tries: number }>;
  } finally {
    db.close();
  }
}

afterAll(async () => {
  if (c) await stop(c);
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('kill -9 during an import', () => {
  it('starts over from a clean reset at the next start and ends with exactly the archive', async () => {
    server = await exportServer();
    c = await start(join(dataDir, 'hearth'));
    const { port, domain } = c;
    const as = (method: string, path: string, body?: unknown) => rawRequest(port, method, path, { host: domain, token: c!.token, ...(body === undefined ? {} : { body }) });
    expect((await as('PUT', '/data/io.cozy.notes/before', { x: 1 })).status).toBe(200);
    expect((await as('POST', '/move/imports', { data: { attributes: { url: server.link } } })).status).toBe(303);
    // the CLI token passes the gate: count the documents as they arrive, and kill the server in the middle
    const count = async () => {
      const r = await as('GET', '/data/io.cozy.notes/_all_docs?limit=0');
      return r.status === 200 ? Number(r.body.total_rows) : -1;
    };
    await waitFor('the import to be under way', async () => (await count()) > 200);
    await kill9(c);
    c = await start(join(dataDir, 'hearth'), port);
    const anonymous = async () => (await rawRequest(port, 'GET', '/files/io.cozy.files.root-dir', { host: domain })).status;
    await waitFor('the import to end', async () => (await anonymous()) !== 503);
    expect(await anonymous()).toBe(401);
    expect(await count()).toBe(DOCS);
    expect((await as('GET', '/data/io.cozy.notes/before')).status).toBe(404);
    const root = await as('GET', '/files/io.cozy.files.root-dir');
    const names = (root.body.included as Array<{ attributes: { name: string } }>).map((f) => f.attributes.name).sort();
    expect(names.filter((n) => n !== '.cozy_trash')).toEqual(['first.txt', 'last.txt']);
    const last = await as('GET', '/files/download/f2');
    expect(last.text).toBe('last file');
  }, 600_000);

  it('cut short twice, is given up at the next start: the instance reset, unblocked, and the failure mailed', async () => {
    if (c) await stop(c);
    const link = (await exportServer()).link;
    const dir = join(dataDir, 'twice');
    c = await start(dir);
    const { port, domain } = c;
    const as = (method: string, path: string, body?: unknown) => rawRequest(port, method, path, { host: domain, token: c!.token, ...(body === undefined ? {} : { body }) });
    expect((await as('PUT', '/data/io.cozy.notes/before', { x: 1 })).status).toBe(200);
    expect((await as('POST', '/move/imports', { data: { attributes: { url: link } } })).status).toBe(303);
    const count = async () => {
      const r = await as('GET', '/data/io.cozy.notes/_all_docs?limit=0');
      return r.status === 200 ? Number(r.body.total_rows) : -1;
    };
    await waitFor('the first run to be under way', async () => (await count()) > 200);
    await kill9(c);
    c = await start(dir, port);
    // the job's second (and last) try runs: kill it too, once it works
    await waitFor('the second run', async () => importJobs(dir).some((j) => j.state === 'running' && j.tries === 2));
    const seen = await count();
    await waitFor('the second run to write', async () => (await count()) !== seen);
    expect(importJobs(dir)).toEqual([{ state: 'running', tries: 2 }]);
    await kill9(c);
    c = await start(dir, port);
    const anonymous = async () => (await rawRequest(port, 'GET', '/files/io.cozy.files.root-dir', { host: domain })).status;
    await waitFor('the instance to be unblocked', async () => (await anonymous()) !== 503);
    expect(await anonymous()).toBe(401);
    // the given-up job errored and went with the rest of the job history in the reset; its record was written again
    expect(importJobs(dir).map((j) => j.state)).toEqual(['errored']);
    // reset: nothing of the cut runs, nor of what was there before, and the instance works again
    expect(await count()).toBe(0);
    expect((await as('GET', '/data/io.cozy.notes/before')).status).toBe(404);
    const root = await as('GET', '/files/io.cozy.files.root-dir');
    expect((root.body.included as Array<{ attributes: { name: string } }>).map((f) => f.attributes.name).filter((n) => n !== '.cozy_trash')).toEqual([]);
    expect((await as('PUT', '/data/io.cozy.notes/after', { x: 2 })).status).toBe(200);
    const mails = async () => ((await listOutbox(outboxDir(dir))) ?? []).filter((m) => m.subject === 'Your import failed');
    await waitFor('the failure mail', async () => (await mails()).length > 0);
    const mail = (await readOutboxMail(outboxDir(dir), (await mails())[0]!.id)).toString('utf8');
    expect(mail).toContain('The import of your data failed: the server stopped twice during the import');
    expect(mail).toContain('You can start the import again');
    expect(await mails()).toHaveLength(1);
  }, 900_000);
});
