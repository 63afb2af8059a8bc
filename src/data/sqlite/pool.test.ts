import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBus } from '../../common/bus.js';
import { childScript } from '../../../test/helpers/child-script.js';
import { rawRequest } from '../../../test/helpers/hearth.js';
import { SqliteDocStoreFactory } from './factory.js';
import { openFileLimit, storesFor } from './fd-limit.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'hearth-pool-'));
  dirs.push(d);
  return d;
};
const ids = (n: number) => Array.from({ length: n }, (_, i) => i.toString(16).padStart(32, '0'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the pool of open instance databases', () => {
  it('keeps at most maxOpenStores open, closing the least recently used, and reopens them on use', async () => {
    const f = new SqliteDocStoreFactory(tmp(), new InProcessBus(), { attachmentMaxBytes: 1e6, groupCommitMs: 0, maxOpenStores: 3 });
    const stores = ids(10).map((id) => f.open(`i${id}.example.net`, id));
    for (const [i, s] of stores.entries()) await s.put('io.cozy.t', { _id: 'doc', n: i });
    // the closings run on a worker thread: wait for them
    for (let t = 0; t < 100 && f.openCount() > 3; t++) await sleep(50);
    expect(f.openCount()).toBe(3);
    for (const [i, s] of stores.entries()) expect((await s.get('io.cozy.t', 'doc')).n).toBe(i);
    await f.close();
  });

  it('opens at most openBudgetMs worth of databases per turn of the event loop: many requests to closed instances do not stall it', async () => {
    const f = new SqliteDocStoreFactory(tmp(), new InProcessBus(), { attachmentMaxBytes: 1e6, groupCommitMs: 0, maxOpenStores: 50, openBudgetMs: 0 });
    const stores = ids(8).map((id) => f.open(`i${id}.example.net`, id));
    const writes = stores.map((s, i) => s.put('io.cozy.t', { _id: 'doc', n: i }));
    expect(f.openCount()).toBe(1); // the others wait for the next turns
    await new Promise((r) => setImmediate(r));
    expect(f.openCount()).toBe(2);
    expect((await Promise.all(writes)).map((w) => w.id)).toEqual(stores.map(() => 'doc'));
    expect(f.openCount()).toBe(8);
    for (const [i, s] of stores.entries()) expect((await s.get('io.cozy.t', 'doc')).n).toBe(i);
    await f.close();
  });

  it('never closes a database while a call on it is under way (a write waiting for its commit)', async () => {
    const f = new SqliteDocStoreFactory(tmp(), new InProcessBus(), { attachmentMaxBytes: 1e6, groupCommitMs: 100, maxOpenStores: 2 });
    const [busy, ...others] = ids(8).map((id) => f.open(`i${id}.example.net`, id));
    const pending = busy!.put('io.cozy.t', { _id: 'held' });
    // every other store is opened and used while the write waits for its group commit
    const writes = others.map((s, i) => s.put('io.cozy.t', { _id: `o${i}` }));
    await Promise.all(writes);
    expect((await pending).id).toBe('held');
    expect((await busy!.get('io.cozy.t', 'held'))._id).toBe('held');
    await f.close();
  });

  it('closes a database left unused for idleMs', async () => {
    const f = new SqliteDocStoreFactory(tmp(), new InProcessBus(), { attachmentMaxBytes: 1e6, groupCommitMs: 0, maxOpenStores: 10, idleMs: 400 });
    await Promise.all(ids(4).map((id) => f.open(`i${id}.example.net`, id).put('io.cozy.t', { _id: 'x' })));
    expect(f.openCount()).toBe(4);
    await sleep(500);
    // past idleMs: closed (on the closing thread, which a busy machine may delay)
    for (let t = 0; t < 100 && f.openCount() > 0; t++) await sleep(50);
    expect(f.openCount()).toBe(0);
    await f.close();
  });

  it('is sized from the open-file limit', () => {
    expect(openFileLimit()).toBeGreaterThan(0);
    expect(storesFor(256)).toBe(38);
    expect(storesFor(1024)).toBe(153);
    expect(storesFor(null)).toBe(153);
    expect(storesFor(1 << 20)).toBe(512);
  });
});

interface Farm { port: number; pid: number; fds: number; instances: Array<{ domain: string; token: string }> }

function startFarm(nofile: number | null, instances: number, maxOpenStores: number, groupCommitMs: number): Promise<Farm> {
  const child = spawn('prlimit', [...(nofile ? [`--nofile=${nofile}`] : []), process.execPath, childScript('test/fixtures/farm-main.ts'), tmp(), String(instances), String(maxOpenStores), String(groupCommitMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as Farm));
    child.once('exit', (code) => reject(new Error(`the farm exited early with ${code}`)));
  });
}
const put = (farm: Farm, i: number, id: string) => {
  const { domain, token } = farm.instances[i]!;
  return rawRequest(farm.port, 'PUT', `/data/io.cozy.farm/${id}`, { host: domain, token, body: { i } });
};

describe('a server under a 256-descriptor limit', () => {
  // both servers start at once (each loads the whole server, bundled once by child-script.ts, and creates its instances: seconds)
  let limited: Promise<Farm>;
  let crowded: Promise<Farm>;
  beforeAll(() => {
    limited = startFarm(256, 300, 0, 0);
    // a pool allowed far more than the limit, and writes held 0.8 s by the group commit (the second test)
    crowded = startFarm(null, 40, 1000, 800);
    limited.catch(() => undefined);
    crowded.catch(() => undefined);
  });

  it('serves 300 instances one after the other, holding a bounded number of descriptors', async () => {
    const farm = await limited;
    const statuses: number[] = [];
    for (let i = 0; i < 300; i++) statuses.push((await put(farm, i, 'a')).status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(readdirSync(`/proc/${farm.pid}/fd`).length).toBeLessThan(256);
    // the first ones were closed on the way: they open again with their data
    const back = await rawRequest(farm.port, 'GET', '/data/io.cozy.farm/a', { host: farm.instances[0]!.domain, token: farm.instances[0]!.token });
    expect(back.status).toBe(200);
    expect(back.body.i).toBe(0);
  }, 120_000);

  it('answers 503 with a clear message when every open database is in use and no descriptor is left', async () => {
    // a pool allowed far more than the limit, and writes held 0.8 s by the group commit: all in use at once;
    // the limit leaves room for the 40 sockets and about 12 databases
    const farm = await crowded;
    // counted now, not when it started: it waited for the first test, and what it holds may have changed meanwhile
    const fds = readdirSync(`/proc/${farm.pid}/fd`).length;
    execFileSync('prlimit', ['--pid', String(farm.pid), `--nofile=${fds + 40 + 12 * 4}`]);
    // when every descriptor is taken the kernel also refuses new connections (a reset): only what is answered is checked
    const answers = await Promise.all(farm.instances.map((_, i) => put(farm, i, 'b').catch((err: Error) => ({ status: 0, body: err.message }))));
    const refused = answers.filter((a) => a.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status !== 503 && a.status !== 200 && a.status !== 0)).toEqual([]);
    expect(refused[0]!.body).toEqual({ error: 'service_unavailable', reason: expect.stringMatching(/run out of open files.*retry in a moment.*ulimit -n/) });
    for (const r of refused) expect(r.body.reason).toMatch(/run out of open files/);
    // once the writes are done, these instances take writes again: the databases no longer in use are closed to make room
    // (retried "in a moment", as the message says: on a busy machine the first closings may still be under way);
    // 4 at a time, within the room for about 12 databases: each write waits 0.8 s for its group commit; while the
    // descriptors are still taken the kernel may reset a connection, as above: a try like a 503
    const retry = async (r: (typeof answers)[number]) => {
      let status = 0;
      for (let tries = 0; tries < 10 && status !== 200; tries++) {
        if (tries) await sleep(300);
        status = (await put(farm, answers.indexOf(r), `c${tries}`).catch(() => ({ status: 0 }))).status;
      }
      return status;
    };
    for (let from = 0; from < refused.length; from += 4) {
      expect(await Promise.all(refused.slice(from, from + 4).map(retry))).toEqual(refused.slice(from, from + 4).map(() => 200));
    }
  }, 120_000);
});

