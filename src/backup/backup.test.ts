/**
 * `hearth backup` and `hearth restore` as an operator runs them (the CLI in a process of its own) beside a running
 * server in another process, under a write load of documents and uploads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedUpload, startServer, stopServer, type Started } from '../../test/helpers/crash.js';
import { rawRequest } from '../../test/helpers/hearth.js';
import { registerSqlFunctions } from '../data/mango/sql.js';
import { MANIFEST, type Manifest, type ManifestFile } from './manifest.js';

const dirs: string[] = [];
const tmp = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `hearth-backup-${name}-`));
  dirs.push(d);
  return d;
};
const servers: Started[] = [];
afterAll(async () => {
  for (const s of servers) await stopServer(s);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Run { code: number | null; signal: NodeJS.Signals | null; lines: Array<{ type: string; [k: string]: unknown }>; stderr: string; stdout: string }

/** Runs `hearth …` (test/fixtures/cli-main.ts); `onLine` sees each stdout line as it comes, with the child. */
function hearth(args: string[], onLine?: (line: string, child: ChildProcess) => void): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/cli-main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Run = { code: null, signal: null, lines: [], stderr: '', stdout: '' };
  child.stderr?.on('data', (c: Buffer) => (run.stderr += c.toString()));
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
    run.stdout += `${l}\n`;
    if (l.startsWith('{')) run.lines.push(JSON.parse(l) as Run['lines'][number]);
    onLine?.(l, child);
  });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ ...run, code, signal })));
}
interface Done { snapshot: string; previous: string | null; files: number; bytes: number; databases: number; copied_files: number; linked_files: number }
const done = (r: Run): Done => {
  const d = r.lines.find((l) => l.type === 'done');
  if (!d) throw new Error(`no result: ${r.stderr}`);
  return d.data as Done;
};

const api = (s: Started) => ({
  createDoc: (body: unknown) => rawRequest(s.port, 'POST', '/data/io.cozy.crash/', { host: s.domain, token: s.token, body }),
  getDoc: (id: string) => rawRequest(s.port, 'GET', `/data/io.cozy.crash/${id}`, { host: s.domain, token: s.token }),
  upload: (name: string, content: Buffer) => rawRequest(s.port, 'POST', `/files/io.cozy.files.root-dir?Type=file&Name=${encodeURIComponent(name)}`, {
    host: s.domain, token: s.token, raw: content, headers: { 'content-type': 'application/octet-stream' },
  }),
  /** The MD5 (hex) of a file's content as downloaded. */
  download: (id: string) => new Promise<string>((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port: s.port, path: `/files/download/${id}`, headers: { host: s.domain, authorization: `Bearer ${s.token}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`download ${id}: ${res.statusCode}`));
      const h = createHash('md5');
      res.on('data', (c: Buffer) => h.update(c));
      res.on('end', () => resolve(h.digest('hex')));
    });
    r.on('error', reject);
    r.end();
  }),
});

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const snapshots = (dir: string) => readdirSync(dir).filter((n) => /^\d{4}-/.test(n)).sort();
const manifestOf = (snapshot: string) => JSON.parse(readFileSync(join(snapshot, MANIFEST), 'utf8')) as Manifest;

describe('hearth backup and hearth restore', () => {
  let data: string;
  let backups: string;
  let server: Started;
  const docs = new Map<string, string>(); // acknowledged documents: id → value
  const files = new Map<string, string>(); // acknowledged files: id → MD5
  let stopLoad = false;
  let load: Promise<void>;
  let first: Run;

  beforeAll(async () => {
    data = tmp('data');
    backups = tmp('target');
    server = await startServer(data);
    servers.push(server);
    const a = api(server);
    for (let i = 0; i < 150; i++) {
      const res = await a.createDoc({ n: i, text: `seed ${i}` });
      expect(res.status).toBe(201);
      docs.set(res.body.id, `seed ${i}`);
    }
    for (let i = 0; i < 40; i++) {
      const content = randomBytes(i % 5 === 0 ? 300_000 + i * 1000 : 1000 + i * 37);
      const res = await a.upload(`seed-${i}.bin`, content);
      expect(res.status).toBe(201);
      files.set(res.body.data.id, md5(content));
    }
    // a large file, so that a backup takes long enough to be killed in the middle
    const big = feedUpload(server, 'big.bin', 48 * 1024 * 1024);
    const bigDone = new Promise<number>((resolve) => big.req.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0))));
    await big.feeding;
    big.req.end();
    expect(await bigDone).toBe(201);
  }, 300_000);

  it('takes a snapshot under a write load; restored, every write acknowledged before it started is there, the databases are sound', async () => {
    const a = api(server);
    const acked = { docs: new Map(docs), files: new Map(files) };
    // the write load: documents and uploads, acknowledged ones recorded, running through the whole backup
    let n = 0;
    load = (async () => {
      while (!stopLoad) {
        n++;
        const d = await a.createDoc({ n, text: `load ${n}` });
        if (d.status === 201) docs.set(d.body.id, `load ${n}`);
        if (n % 3 === 0) {
          const content = randomBytes(2000 + n);
          const f = await a.upload(`load-${n}.bin`, content);
          if (f.status === 201) files.set(f.body.data.id, md5(content));
        }
      }
    })().catch((e: unknown) => {
      if (!stopLoad) throw e;
    });
    first = await hearth(['backup', backups, '--data-dir', data, '--copy', '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const s = done(first);
    expect(first.lines.filter((l) => l.type === 'progress').length).toBeGreaterThan(0);
    expect(s.previous).toBeNull();
    expect(s.copied_files).toBe(s.files); // a first snapshot with --copy: every file written anew
    expect(s.databases).toBeGreaterThanOrEqual(6);
    expect(snapshots(backups)).toEqual([s.snapshot.split('/').pop()]);
    const m = manifestOf(s.snapshot);
    for (const db of ['registry.sqlite', 'sessions.sqlite', 'jobs.sqlite', 'apps-code.sqlite', 'apps-builtin.sqlite', 'dav-locks.sqlite']) {
      expect(m.files.map((f) => f.path)).toContain(db);
    }
    expect(m.files.filter((f) => /^instances\/[0-9a-f]{32}\/docs\.sqlite$/.test(f.path)).length).toBeGreaterThanOrEqual(1);
    expect(m.engines).toEqual({ docs: 'sqlite', coordination: 'memory', blobs: 'local' });
    stopLoad = true;
    await load;
    expect(n).toBeGreaterThan(0);

    const restored = tmp('restored');
    const r = await hearth(['restore', backups, '--data-dir', join(restored, 'data'), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(done(r)).toMatchObject({ snapshot: s.snapshot, files: s.files, bytes: s.bytes });
    for (const f of m.files.filter((x) => x.kind === 'sqlite')) {
      const db = new Database(join(restored, 'data', f.path), { readonly: true });
      registerSqlFunctions(db); // the instances' Mango indexes use them
      expect(db.pragma('integrity_check', { simple: true }), f.path).toBe('ok');
      db.close();
    }
    // the restored data served on the same address (the instance's domain names the port)
    await stopServer(server);
    const again = await startServer(join(restored, 'data'), server.port);
    servers.push(again);
    const b = api(again);
    for (const [id, text] of acked.docs) {
      const res = await b.getDoc(id);
      expect(res.status, id).toBe(200);
      expect(res.body.text).toBe(text);
    }
    for (const [id, sum] of acked.files) expect(await b.download(id), id).toBe(sum);
    await stopServer(again);
    server = await startServer(data, server.port);
    servers.push(server);
  }, 600_000);

  it('an incremental run copies only what changed and links the rest to the previous snapshot', async () => {
    const a = api(server);
    const added = [randomBytes(5000), randomBytes(70_000)];
    for (const [i, content] of added.entries()) expect((await a.upload(`after-${i}.bin`, content)).status).toBe(201);
    const second = await hearth(['backup', backups, '--data-dir', data, '--copy', '--json']);
    expect(second.code).toBe(0);
    const s = done(second);
    const [one, two] = [manifestOf(done(first).snapshot), manifestOf(s.snapshot)];
    expect(s.previous).toBe(done(first).snapshot);
    const before = new Map(one.files.map((f) => [f.path, f]));
    const blobs = two.files.filter((f) => f.kind === 'blob');
    const kept = blobs.filter((f) => before.has(f.path));
    const fresh = blobs.filter((f) => !before.has(f.path));
    expect(kept.length).toBeGreaterThan(40);
    for (const f of kept) {
      const [x, y] = [statSync(join(done(first).snapshot, f.path)), statSync(join(s.snapshot, f.path))];
      expect(y.ino, f.path).toBe(x.ino); // the same file, hard-linked
      expect(y.nlink).toBeGreaterThanOrEqual(2);
    }
    expect(fresh.length).toBeGreaterThanOrEqual(2);
    for (const f of fresh) expect(statSync(join(s.snapshot, f.path)).nlink, f.path).toBe(1);
    expect(fresh.map((f) => f.size)).toEqual(expect.arrayContaining([5000, 70_000]));
    // what was copied: the new blobs, the databases that changed, the small files; the rest is linked
    const dbsCopied = two.files.filter((f) => f.kind === 'sqlite' && statSync(join(s.snapshot, f.path)).nlink === 1).length;
    const small = two.files.filter((f) => f.kind === 'file').length;
    expect(s.copied_files).toBe(fresh.length + dbsCopied + small);
    expect(s.linked_files).toBe(two.files.length - s.copied_files);
    expect(dbsCopied).toBeLessThan(two.files.filter((f) => f.kind === 'sqlite').length); // untouched databases linked too
  }, 300_000);

  it('refuses a damaged backup before writing anything', async () => {
    const latest = join(backups, snapshots(backups).pop() as string);
    const m = manifestOf(latest);
    const big = m.files.filter((f) => f.kind === 'blob').sort((x, y) => y.size - x.size)[0] as ManifestFile;
    const db = m.files.find((f) => f.path === 'registry.sqlite') as ManifestFile;
    const cases: Array<[string, (copy: string) => void, RegExp]> = [
      ['truncated blob', (c) => truncateSync(join(c, big.path), big.size - 10), /damaged: .* has \d+ bytes where its manifest says \d+ \(truncated\?\)/],
      ['flipped byte', (c) => {
        const buf = readFileSync(join(c, db.path));
        buf.writeUInt8(buf.readUInt8(buf.length - 1) ^ 0xff, buf.length - 1);
        writeFileSync(join(c, db.path), buf);
      }, /damaged: the SHA-256 of registry\.sqlite is not its manifest's/],
      ['missing file', (c) => rmSync(join(c, big.path)), /damaged: .* is missing/],
      ['truncated manifest', (c) => truncateSync(join(c, MANIFEST), 100), /is not valid JSON \(truncated or damaged\)/],
      ['a path out of the target', (c) => {
        const hostile = { ...m, files: [...m.files, { ...db, path: '../../outside.sqlite' }] };
        writeFileSync(join(c, MANIFEST), JSON.stringify(hostile));
      }, /lists an invalid entry .*outside\.sqlite/],
    ];
    for (const [name, damage, message] of cases) {
      const copy = join(tmp('damaged'), 'snap');
      cpSync(latest, copy, { recursive: true });
      damage(copy);
      const target = join(tmp('refused'), 'data');
      const r = await hearth(['restore', copy, '--data-dir', target]);
      expect(r.code, name).toBe(1);
      expect(r.stderr, name).toMatch(message);
      expect(existsSync(target), name).toBe(false);
      expect(readdirSync(join(target, '..')), name).toEqual([]); // nor its work folder
    }
  }, 300_000);

  it('refuses to restore over a data directory a running server uses, or a non-empty one without --force', async () => {
    const r = await hearth(['restore', backups, '--data-dir', data, '--force', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${data} is in use by hearth serve (pid ${server.child.pid}, since `);
    expect(r.stderr).toMatch(new RegExp(`: stop it before restoring over .* \\(kill ${server.child.pid}, then wait for it to end\\)`));
    expect(r.lines.at(-1)).toMatchObject({ type: 'error' });
    expect((await api(server).getDoc([...docs.keys()][0] as string)).status).toBe(200);
    const other = tmp('nonempty');
    writeFileSync(join(other, 'keep.txt'), 'mine');
    const n = await hearth(['restore', backups, '--data-dir', other]);
    expect(n.code).toBe(1);
    expect(n.stderr).toMatch(/is not empty: restore into an empty folder, or add --force/);
    expect(readFileSync(join(other, 'keep.txt'), 'utf8')).toBe('mine');
    const f = await hearth(['restore', backups, '--data-dir', other, '--force']);
    expect(f.code).toBe(0);
    expect(f.stdout).toMatch(/every checksum verified/);
    expect(existsSync(join(other, 'keep.txt'))).toBe(false);
    expect(existsSync(join(other, 'registry.sqlite'))).toBe(true);
  }, 300_000);

  it('killed in the middle, a backup leaves no complete-looking snapshot, only a .partial folder that the next run removes', async () => {
    const target = tmp('killed');
    const before = snapshots(target);
    const killed = await hearth(['backup', target, '--data-dir', data, '--copy', '--json'], (line, child) => {
      if (line.includes('"progress"')) child.kill('SIGKILL');
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(snapshots(target)).toEqual(before);
    const partials = readdirSync(target).filter((n) => n.startsWith('.partial-'));
    expect(partials.length).toBe(1);
    const next = await hearth(['backup', target, '--data-dir', data]);
    expect(next.code).toBe(0);
    expect(next.stdout).toContain(`removed ${partials[0]}, left by an interrupted backup`);
    expect(readdirSync(target).filter((n) => n.startsWith('.partial-'))).toEqual([]);
    expect(snapshots(target).length).toBe(1);
  }, 300_000);
});
