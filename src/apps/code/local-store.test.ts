/** The local-disk code store on real files and SQLite: the conformance suite, dedup on disk, restarts and crashes. */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_FILES, describeAppCodeStore, fillWith, sha } from '../../../test/helpers/app-code-store-suite.js';
import { LocalAppCodeStore, openAppCodeStore } from './local-store.js';

let base: string;
let n = 0;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'hearth-appcode-'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

const open = (dir: string) => openAppCodeStore(dir);
const fresh = () => {
  const dir = join(base, `s${n++}`);
  mkdirSync(dir);
  return { dir, store: open(dir) };
};

describeAppCodeStore('local disk', async () => fresh().store, (store) => store.close());

/** Files and bytes under a folder. */
function usage(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += statSync(join(e.parentPath, e.name)).size;
  }
  return { files, bytes };
}

describe('LocalAppCodeStore', () => {
  it('the same version on 100 instances is stored once: each one more writes no file', async () => {
    const { dir, store } = fresh();
    const key = sha('drive-1.0.0');
    await store.acquire({ instanceId: 'i0', kind: 'webapp', slug: 'drive', sha256: key }, fillWith(APP_FILES));
    const code = join(dir, 'apps-code');
    const once = usage(code);
    // raw files, their br and gzip copies, the index
    expect(once.files).toBeGreaterThanOrEqual(Object.keys(APP_FILES).length + 1);
    for (let i = 1; i < 100; i++) {
      expect(await store.acquire({ instanceId: `i${i}`, kind: 'webapp', slug: 'drive', sha256: key }, fillWith(APP_FILES))).toEqual({ written: false });
    }
    expect(usage(code)).toEqual(once);
    expect(await store.refs({ sha256: key })).toHaveLength(100);
    await store.close();
  });

  it('references survive a restart', async () => {
    const { dir, store } = fresh();
    const key = sha('v');
    await store.acquire({ instanceId: 'i1', kind: 'konnector', slug: 'bank', sha256: key }, fillWith({ 'manifest.konnector': '{}' }));
    await store.close();
    const again = open(dir);
    expect(await again.refs({})).toEqual([{ instanceId: 'i1', kind: 'konnector', slug: 'bank', sha256: key }]);
    expect(await again.gc()).toEqual([]);
    expect(await again.has(key)).toBe(true);
    await again.close();
  });

  it('leftovers of interrupted writes are cleaned at start', async () => {
    const { dir, store } = fresh();
    await store.close();
    const leftover = join(dir, 'apps-code', '.tmp', `${sha('x')}-half`);
    mkdirSync(join(leftover, 'raw'), { recursive: true });
    writeFileSync(join(leftover, 'raw', 'index.html'), 'half');
    writeFileSync(join(dir, 'apps-code', '.tmp', 'download-1.tar'), 'half a download');
    const again = open(dir);
    expect(again.cleaned).toBe(2);
    expect(readdirSync(join(dir, 'apps-code', '.tmp'))).toEqual([]);
    expect(await again.has(sha('x'))).toBe(false);
    await again.close();
  });

  it('a data directory of the versions that wrote references without their fsync, not closed cleanly, keeps gc off until the app docs gave them back', async () => {
    const { dir, store } = fresh();
    const ref = { instanceId: 'i1', kind: 'webapp' as const, slug: 'drive', sha256: sha('lost') };
    await store.acquire(ref, fillWith(APP_FILES));
    await store.close();
    const live = open(dir);
    expect(live.refsStale).toBe(false); // references durable: nothing to restore, whatever the stop
    await live.close();
    // as such a version left it after a crash (no apps-code.sqlite.clean) that lost the reference
    const db = new Database(join(dir, 'apps-code.sqlite'));
    db.prepare('DELETE FROM refs').run();
    db.pragma('user_version = 0');
    db.close();
    const after = open(dir);
    expect(after.refsStale).toBe(true);
    expect(await after.gc()).toEqual([]);
    expect(await after.has(sha('lost'))).toBe(true);
    async function* fromDocs() {
      yield [ref];
    }
    expect(await after.restoreRefs(fromDocs())).toBe(1);
    expect(after.refsStale).toBe(false);
    expect(await after.gc()).toEqual([]);
    expect(await after.refs({})).toEqual([ref]);
    await after.close();
    const next = open(dir);
    expect(next.refsStale).toBe(false);
    await next.close();
    // the same data directory stopped cleanly by such a version: its marker says the references are whole
    const old = new Database(join(dir, 'apps-code.sqlite'));
    old.pragma('user_version = 0');
    old.close();
    writeFileSync(join(dir, 'apps-code.sqlite.clean'), '');
    const clean = open(dir);
    expect(clean.refsStale).toBe(false);
    expect(readdirSync(dir)).not.toContain('apps-code.sqlite.clean');
    await clean.close();
  });

  it('an install intent and its reference survive a stop without close (a crash), and are read back', async () => {
    const { dir, store } = fresh();
    await store.acquire({ instanceId: 'i0', kind: 'webapp', slug: 'drive', sha256: sha('flight') }, fillWith(APP_FILES));
    const intent = { id: 'a1', domain: 'i1.example', instanceId: 'i1', kind: 'webapp' as const, slug: 'drive', sha256: sha('flight'), op: 'install' as const, undo: null };
    await store.begin(intent);
    // not closed: a second process opens the files as the next start would
    const after = open(dir);
    expect(after.refsStale).toBe(false);
    expect(await after.inFlight()).toEqual([intent]);
    expect(await after.refs({ instanceId: 'i1' })).toEqual([{ instanceId: 'i1', kind: 'webapp', slug: 'drive', sha256: sha('flight') }]);
    await after.end(['a1']);
    expect(await after.inFlight()).toEqual([]);
    await after.close();
    await store.close();
  });

  it('an install intent committed without its fsync, the store left open on another boot (a machine crash): intents and references said lost until the app docs were read', async () => {
    const dir = join(base, `s${n++}`);
    mkdirSync(dir);
    const onBoot = (bootId: string | null) => new LocalAppCodeStore({ dir: join(dir, 'apps-code'), dbFile: join(dir, 'apps-code.sqlite'), bootId });
    const store = onBoot('boot-a');
    await store.acquire({ instanceId: 'i0', kind: 'webapp', slug: 'drive', sha256: sha('boot') }, fillWith(APP_FILES));
    await store.begin({ id: 'b1', domain: 'i1.example', instanceId: 'i1', kind: 'webapp', slug: 'drive', sha256: sha('boot'), op: 'install', undo: null });
    // the same boot (a killed process): its commits are all there, nothing to read again
    const killed = onBoot('boot-a');
    expect([killed.intentsLost, killed.refsStale]).toEqual([false, false]);
    // still not closed, then opened on the next boot: the machine stopped under it
    const rebooted = onBoot('boot-b');
    expect([rebooted.intentsLost, rebooted.refsStale]).toEqual([true, true]);
    await rebooted.close();
    await killed.close();
    await store.close();
    // said so durably until the app docs were read again, whatever the stops in between
    const again = onBoot('boot-b');
    expect([again.intentsLost, again.refsStale]).toEqual([true, true]);
    await again.intentsRecovered();
    async function* none() {}
    await again.restoreRefs(none());
    expect([again.intentsLost, again.refsStale]).toEqual([false, false]);
    await again.close();
    // closed cleanly, then opened on another boot: nothing was left unsynced
    const next = onBoot('boot-c');
    expect([next.intentsLost, next.refsStale]).toEqual([false, false]);
    await next.close();
    // a boot unknown: after a store of a known one left open, as after a machine crash
    const known = onBoot('boot-d');
    await known.begin({ id: 'b2', domain: 'i1.example', instanceId: 'i1', kind: 'webapp', slug: 'drive', sha256: sha('boot'), op: 'install', undo: null });
    const unknown = onBoot(null);
    expect(unknown.intentsLost).toBe(true);
    await unknown.close();
    await known.close();
  });

  it('a journal of the versions that journaled installs only gets the columns of updates and uninstalls; its intents are installs', async () => {
    const { dir, store } = fresh();
    await store.close();
    const db = new Database(join(dir, 'apps-code.sqlite'));
    db.exec('DROP TABLE installs; CREATE TABLE installs (id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, domain TEXT NOT NULL, kind TEXT NOT NULL, slug TEXT NOT NULL, sha256 TEXT NOT NULL, created_at TEXT NOT NULL)');
    db.prepare('INSERT INTO installs VALUES (?, ?, ?, ?, ?, ?, ?)').run('old', 'i1', 'i1.example', 'webapp', 'drive', sha('old'), new Date(0).toISOString());
    db.close();
    const after = open(dir);
    expect(await after.inFlight()).toEqual([{ id: 'old', domain: 'i1.example', instanceId: 'i1', kind: 'webapp', slug: 'drive', sha256: sha('old'), op: 'install', undo: null }]);
    await after.begin({ id: 'u1', domain: 'i1.example', instanceId: 'i1', kind: 'webapp', slug: 'drive', sha256: sha('old'), op: 'update', undo: '{"state":"ready"}' });
    expect((await after.inFlight()).map((i) => [i.id, i.op, i.undo])).toEqual([['old', 'install', null], ['u1', 'update', '{"state":"ready"}']]);
    await after.close();
  });

  it('a process killed in the middle of a write leaves nothing visible, and its leftovers go at the next start', async () => {
    const { dir, store } = fresh();
    await store.close();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/app-code-crash-child.ts', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // the child says `writing` once a file of the version is on disk, then waits forever
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
    expect(line).toBe('writing');
    expect(readdirSync(join(dir, 'apps-code', '.tmp'))).toHaveLength(1);
    child.kill('SIGKILL');
    await exited;
    const again = open(dir);
    expect(await again.has(sha('crash'))).toBe(false);
    expect(await again.index(sha('crash'))).toBeNull();
    expect(again.cleaned).toBe(1);
    expect(readdirSync(join(dir, 'apps-code')).filter((f) => f !== '.tmp')).toEqual([]);
    // the reference recorded before the crash goes too: the install failed, nothing of it stays
    expect(again.dropped).toBe(1);
    expect(await again.refs({})).toEqual([]);
    // and it can be done again
    expect(await again.acquire({ instanceId: 'i1', kind: 'webapp', slug: 'drive', sha256: sha('crash') }, fillWith(APP_FILES))).toEqual({ written: true });
    await again.close();
  });
});
