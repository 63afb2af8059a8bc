/**
 * WebDAV locks: the SQLite engine on its own (the conformance suite: scopes, conflicts, expiry on a fake clock,
 * persistence across a reopen), then over HTTP on a real server — a lock is of use to the credential that took it only, and locks
 * survive a restart of the server with what is left of their timeout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type Res, type TestHearth } from '../../../test/helpers/hearth.js';
import { SqliteLockEngine } from './locks-sqlite.js';
import type { DavLockEngine } from './locks.js';
import { PgLockEngine } from './locks-pg.js';
import { createPgPool } from '../../engines/postgres.js';
import { describeLockEngine } from '../../../test/helpers/dav-lock-suite.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-locks-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeLockEngine('SQLite', {
  storage: async () => join(dir, `locks-${Math.random().toString(36).slice(2)}.sqlite`),
  open: (file, now) => new SqliteLockEngine(file, { now }),
});

/** A second engine on the locks of a running Hearth (another connection, or another process's pool). */
function secondEngine(t: TestHearth): { engine: DavLockEngine; close(): Promise<void> } {
  const { docs } = t.hearth.config;
  if (docs.engine === 'postgres' && docs.url) {
    const pool = createPgPool({ url: docs.url, max: 1, name: 'test' });
    return { engine: new PgLockEngine(pool), close: () => pool.end() };
  }
  const engine = new SqliteLockEngine(join(t.dataDir, 'dav-locks.sqlite'));
  return { engine, close: async () => engine.close() };
}

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
    // a second connection to the same storage sees what the server wrote
    const { engine, close } = secondEngine(h);
    try {
      expect((await engine.covering(h.instance.id, '/shared.txt')).map((l) => l.principal)).toEqual(['cli:alice']);
      await h.hearth.registry.destroy(h.domain);
      expect(await engine.covering(h.instance.id, '/shared.txt')).toEqual([]);
    } finally {
      await close();
    }
  });
});
