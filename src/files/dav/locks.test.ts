/**
 * WebDAV locks: the SQLite engine on its own (scopes, conflicts, expiry on a fake clock, persistence across a
 * reopen), then over HTTP on a real server — a lock is of use to the credential that took it only, and locks
 * survive a restart of the server with what is left of their timeout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type Res, type TestHearth } from '../../../test/helpers/hearth.js';
import { SqliteLockEngine } from './locks-sqlite.js';
import type { NewLock } from './locks.js';

const lockOf = (root: string, over: Partial<NewLock> = {}): NewLock => ({ root, depth: 'infinity', scope: 'exclusive', owner: '', timeout: 60, principal: 'cli:alice', ...over });

describe('SqliteLockEngine', () => {
  let dir: string;
  let clock = 1_000_000;
  const now = () => clock;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hearth-locks-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the locks covering a path and below it, without prefix confusion', async () => {
    const e = new SqliteLockEngine(join(dir, 'scopes.sqlite'), { now });
    const deep = await e.acquire('ns', lockOf('/a/b'));
    const flat = await e.acquire('ns', lockOf('/a-b', { depth: '0' }));
    const uni = await e.acquire('ns', lockOf('/été/ü ñ', { depth: '0' }));
    if (!('lock' in deep) || !('lock' in flat) || !('lock' in uni)) throw new Error('not taken');
    expect((await e.covering('ns', '/a/b/c/d')).map((l) => l.root)).toEqual(['/a/b']);
    expect(await e.covering('ns', '/a/bc')).toEqual([]);
    expect(await e.covering('ns', '/a-b/x')).toEqual([]); // depth 0
    expect((await e.covering('ns', '/été/ü ñ')).map((l) => l.principal)).toEqual(['cli:alice']);
    expect((await e.below('ns', '/a')).map((l) => l.root)).toEqual(['/a/b']);
    expect((await e.below('ns', '/')).map((l) => l.root).sort()).toEqual(['/a-b', '/a/b', '/été/ü ñ']);
    expect(await e.below('ns', '/a/b')).toEqual([]);
    expect(await e.covering('other-ns', '/a/b')).toEqual([]);
    await e.dropTree('ns', '/a');
    expect(await e.covering('ns', '/a/b')).toEqual([]);
    expect(await e.covering('ns', '/a-b')).toHaveLength(1);
    await e.dropNamespace('ns');
    expect(await e.below('ns', '/')).toEqual([]);
    e.close();
  });

  it('refuses conflicting locks (exclusive against anything overlapping), allows shared ones together', async () => {
    const e = new SqliteLockEngine(join(dir, 'conflicts.sqlite'), { now });
    expect('lock' in (await e.acquire('ns', lockOf('/d')))).toBe(true);
    expect('conflict' in (await e.acquire('ns', lockOf('/d/x', { scope: 'shared', principal: 'cli:bob' })))).toBe(true);
    expect('conflict' in (await e.acquire('ns', lockOf('/', { scope: 'shared' })))).toBe(true);
    expect('lock' in (await e.acquire('ns', lockOf('/', { depth: '0' })))).toBe(true); // a depth-0 lock on the root holds nothing below
    expect('lock' in (await e.acquire('ns', lockOf('/s', { scope: 'shared' })))).toBe(true);
    expect('lock' in (await e.acquire('ns', lockOf('/s', { scope: 'shared', principal: 'cli:bob' })))).toBe(true);
    expect('conflict' in (await e.acquire('ns', lockOf('/s/y')))).toBe(true);
    e.close();
  });

  it('expires, refreshes and releases; locks and their expiry survive a reopen', async () => {
    const file = join(dir, 'persist.sqlite');
    const e = new SqliteLockEngine(file, { now });
    const got = await e.acquire('ns', lockOf('/p', { timeout: 30, owner: '<D:href>me</D:href>' }));
    if (!('lock' in got)) throw new Error('not taken');
    const short = await e.acquire('ns', lockOf('/q', { timeout: 5 }));
    if (!('lock' in short)) throw new Error('not taken');
    e.close();
    clock += 10_000;
    const again = new SqliteLockEngine(file, { now });
    expect(await again.covering('ns', '/p')).toEqual([{ ...got.lock, expiresAt: 1_000_000 + 30_000 }]);
    expect(await again.covering('ns', '/q')).toEqual([]); // expired while closed
    expect(await again.refresh('ns', short.lock.token, 60)).toBeNull();
    const renewed = await again.refresh('ns', got.lock.token, 100);
    expect(renewed).toMatchObject({ token: got.lock.token, timeout: 100, expiresAt: clock + 100_000, principal: 'cli:alice' });
    clock += 99_000;
    expect(await again.covering('ns', '/p')).toHaveLength(1);
    clock += 2_000;
    expect(await again.covering('ns', '/p')).toEqual([]);
    expect(await again.release('ns', got.lock.token)).toBe(false);
    const next = await again.acquire('ns', lockOf('/p'));
    if (!('lock' in next)) throw new Error('an expired lock still conflicts');
    expect(await again.release('ns', next.lock.token)).toBe(true);
    expect(await again.release('ns', next.lock.token)).toBe(false);
    again.close();
  });
});

let h: TestHearth;
let alice: string;
let bob: string;
let appPassword: string;
const LOCKINFO = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>alice</D:owner></D:lockinfo>';
const basic = (password: string) => `Basic ${Buffer.from(`me:${password}`).toString('base64')}`;
const cli = (sub: string) => h.hearth.tokens.issue(h.instance, { aud: 'cli', sub, scope: 'io.cozy.files' });

function dav(method: string, path: string, password: string, headers: Record<string, string> = {}, body?: string): Promise<Res> {
  return h.req(method, `/dav/files${path}`, { headers: { authorization: basic(password), ...headers }, ...(body === undefined ? {} : { raw: body }) });
}

beforeAll(async () => {
  h = await startTestHearth();
  alice = await cli('alice');
  bob = await cli('bob');
  await h.hearth.perms.grantApp(h.instance, 'settings', 'io.cozy.settings');
  const cookie = `cozysessid=${(await h.hearth.appToken(h.instance, 'settings')).session_cookie}`;
  const created = await h.req('POST', '/settings/app-passwords', { body: { label: 'laptop' }, headers: { cookie } });
  expect(created.status, created.text).toBe(201);
  appPassword = created.body.data.attributes.password;
  expect((await dav('PUT', '/shared.txt', alice, {}, 'v1')).status).toBe(201);
  expect((await dav('MKCOL', '/dir', alice)).status).toBe(201);
  expect((await dav('PUT', '/dir/inner.txt', alice, {}, 'inner')).status).toBe(201);
});
afterAll(() => h.close());

const lock = async (path: string, password: string, headers: Record<string, string> = {}) => {
  const res = await dav('LOCK', path, password, { timeout: 'Second-600', ...headers }, LOCKINFO);
  expect(res.status, res.text).toBe(200);
  return String(res.headers['lock-token']);
};

describe('a lock belongs to the credential that took it', () => {
  it("refuses another credential's writes even with the lock token (423), its UNLOCK (403) and refresh (423)", async () => {
    const token = await lock('/shared.txt', alice);
    const ifh = { if: `(${token})` };
    for (const other of [bob, appPassword]) {
      const put = await dav('PUT', '/shared.txt', other, ifh, 'from bob');
      expect(put.status, put.text).toBe(423);
      expect(put.text).toContain('lock-token-submitted');
      expect(put.text).toContain('another credential');
      expect((await dav('DELETE', '/shared.txt', other, ifh)).status).toBe(423);
      expect((await dav('MOVE', '/shared.txt', other, { ...ifh, destination: `${h.url}/dav/files/moved.txt` })).status).toBe(423);
      expect((await dav('PROPPATCH', '/shared.txt', other, ifh, '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:a>1</Z:a></D:prop></D:set></D:propertyupdate>')).status).toBe(423);
      expect((await dav('UNLOCK', '/shared.txt', other, { 'lock-token': token })).status).toBe(403);
      expect((await dav('LOCK', '/shared.txt', other, { ...ifh, timeout: 'Second-60' })).status).toBe(423);
      expect((await dav('PUT', '/shared.txt', other, {}, 'no token')).status).toBe(423);
    }
    expect((await dav('GET', '/shared.txt', bob)).text).toBe('v1'); // reads are not locked
    // the same credential with a new token (a renewed CLI or OAuth token keeps its subject) uses the lock
    const alice2 = await cli('alice');
    expect((await dav('PUT', '/shared.txt', alice2, ifh, 'v2')).status).toBe(204);
    expect((await dav('LOCK', '/shared.txt', alice, { ...ifh, timeout: 'Second-60' })).status).toBe(200);
    expect((await dav('UNLOCK', '/shared.txt', alice, { 'lock-token': token })).status).toBe(204);
    expect((await dav('PUT', '/shared.txt', bob, {}, 'v3')).status).toBe(204);
  });

  it('ties a lock taken with an app password to that app password', async () => {
    const token = await lock('/dir/', appPassword, { depth: 'infinity' });
    expect((await dav('PUT', '/dir/inner.txt', alice, { if: `(${token})` }, 'x')).status).toBe(423);
    expect((await dav('PUT', '/dir/inner.txt', appPassword, { if: `(${token})` }, 'by the laptop')).status).toBe(204);
    expect((await dav('UNLOCK', '/dir/', alice, { 'lock-token': token })).status).toBe(403);
    expect((await dav('UNLOCK', '/dir/', appPassword, { 'lock-token': token })).status).toBe(204);
  });
});

describe('locks survive a restart', () => {
  it('keeps the lock, its principal and what is left of its timeout', async () => {
    const token = await lock('/shared.txt', alice);
    await h.restart();
    expect((await dav('PUT', '/shared.txt', bob, { if: `(${token})` }, 'after restart')).status).toBe(423);
    expect((await dav('PUT', '/shared.txt', alice, {}, 'no token')).status).toBe(423);
    const found = await dav('PROPFIND', '/shared.txt', alice, { depth: '0' }, '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>');
    expect(found.status).toBe(207);
    const active = new XMLParser({ removeNSPrefix: true }).parse(found.text).multistatus.response.propstat.prop.lockdiscovery.activelock;
    expect(active.locktoken.href).toBe(token.slice(1, -1));
    expect(active.owner).toBe('alice');
    const left = Number(/^Second-(\d+)$/.exec(active.timeout)![1]);
    expect(left).toBeGreaterThan(500);
    expect(left).toBeLessThanOrEqual(600);
    expect((await dav('PUT', '/shared.txt', alice, { if: `(${token})` }, 'after restart')).status).toBe(204);
    expect((await dav('UNLOCK', '/shared.txt', alice, { 'lock-token': token })).status).toBe(204);
    await h.restart();
    expect((await dav('PUT', '/shared.txt', bob, {}, 'unlocked')).status).toBe(204);
  });

  it('drops the locks of a destroyed instance', async () => {
    await lock('/shared.txt', alice);
    // a second connection to the same file sees what the server wrote (WAL)
    const engine = new SqliteLockEngine(join(h.dataDir, 'dav-locks.sqlite'));
    try {
      expect((await engine.covering(h.instance.id, '/shared.txt')).map((l) => l.principal)).toEqual(['cli:alice']);
      await h.hearth.registry.destroy(h.domain);
      expect(await engine.covering(h.instance.id, '/shared.txt')).toEqual([]);
    } finally {
      engine.close();
    }
  });
});
