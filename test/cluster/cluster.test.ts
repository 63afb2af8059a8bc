/**
 * The cluster of issue 16: three `hearth serve` processes (the real executable, bin/hearth.js) behind HAProxy (the
 * README's example configuration), on one PostgreSQL, one Redis and one Swift, with nothing kept in any process.
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { localDb, remoteDb } from '../helpers/pouch.js';
import { openWs } from '../helpers/ws.js';

let c: Cluster;
let api: Cluster['api'];
let domain: string;
let token: string;

beforeAll(async () => {
  c = await startCluster({ processes: 3, swift: true, scope: 'io.cozy.cluster io.cozy.files io.cozy.jobs:ALL:log:worker io.cozy.triggers:ALL:log:worker' });
  ({ api, domain, token } = c);
}, 180_000);

afterAll(async () => {
  await c?.stop();
}, 120_000);

describe('three hearth processes behind HAProxy on PostgreSQL, Redis and Swift', () => {
  it('PouchDB syncs through the balancer, and every process serves the same documents', async () => {
    const local = localDb();
    await local.bulkDocs(Array.from({ length: 200 }, (_, i) => ({ _id: `doc-${i}`, n: i })));
    const remote = remoteDb(`http://${domain}/data/io.cozy.cluster`, token);
    const pushed = await local.replicate.to(remote);
    expect(pushed.docs_written).toBe(200);
    for (const p of c.procs) {
      const res = await api('GET', '/data/io.cozy.cluster/_all_docs?limit=0', { port: p.port });
      expect(res.body.total_rows).toBe(200);
    }
    const back = localDb();
    expect((await back.replicate.from(remote)).docs_written).toBe(200);
  });

  it('a realtime subscriber on one process sees a write made through another', async () => {
    const ws = await openWs(c.procs[0]!.port, domain);
    try {
      ws.auth(token);
      ws.subscribe('io.cozy.cluster');
      await ws.barrier();
      const created = await api('POST', '/data/io.cozy.cluster/', { port: c.procs[2]!.port, body: { hello: 'from process 3' } });
      expect(created.status).toBe(201);
      const event = await ws.next((m) => m.event === 'CREATED' && m.payload.id === created.body.id, 15_000);
      expect(event.payload.doc.hello).toBe('from process 3');
    } finally {
      await ws.close();
    }
  });

  it('an upload through one process downloads through another, byte for byte', async () => {
    const content = randomBytes(3 * 1024 * 1024 + 17);
    const md5 = createHash('md5').update(content).digest('base64');
    const up = await api('POST', '/files/?Type=file&Name=cluster.bin', { port: c.procs[0]!.port, raw: content, headers: { 'content-type': 'application/octet-stream', 'content-md5': md5 } });
    expect(up.status).toBe(201);
    const down = await c.download(c.procs[1]!.port, `/files/download/${up.body.data.id}`);
    expect(down.status).toBe(200);
    expect(createHash('md5').update(down.body).digest('base64')).toBe(md5);
  });

  it('a job queued 1,000 times runs 1,000 times, each once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 1000; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, (_, k) => api('POST', '/jobs/queue/log', { body: { data: { type: 'io.cozy.jobs', attributes: { arguments: `job ${i + k}` } } } })));
      for (const res of batch) {
        expect(res.status).toBe(202);
        ids.push(String(res.body.data.id));
      }
    }
    expect(new Set(ids).size).toBe(1000);
    await expect.poll(async () => {
      const states = await Promise.all(ids.map(async (id) => (await api('GET', `/jobs/${id}`)).body.data.attributes));
      return states.filter((a) => a.state === 'done').length;
    }, { timeout: 120_000, interval: 1000 }).toBe(1000);
    // each ran once: one claim each (the API does not show the tries; the jobs' table does)
    const db = new pg.Client(c.postgres.url);
    await db.connect();
    try {
      const { rows } = await db.query<{ tries: number; n: string }>('SELECT tries, count(*) AS n FROM hearth.jobs WHERE id = ANY($1) GROUP BY tries', [ids]);
      expect(rows.map((r) => ({ tries: r.tries, n: Number(r.n) }))).toEqual([{ tries: 1, n: 1000 }]);
    } finally {
      await db.end();
    }
  });

  it('an @every 1s trigger fires once a second, not once per process', async () => {
    const created = await api('POST', '/jobs/triggers', { body: { data: { attributes: { type: '@every', arguments: '1s', worker: 'log', message: 'tick' } } } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = String(created.body.data.id);
    const start = Date.now();
    // until it made 4 jobs (about 3 s at once a second, 1 s if each process fired), read as they come
    let jobs: unknown[] = [];
    let asked = start;
    while (jobs.length < 4 && Date.now() - start < 30_000) {
      await new Promise((r) => setTimeout(r, 100));
      asked = Date.now();
      jobs = ((await api('GET', `/jobs/triggers/${id}/jobs?Limit=100`)).body.data ?? []) as unknown[];
    }
    const answered = Date.now();
    await api('DELETE', `/jobs/triggers/${id}`);
    // once per second (a slot at the start may or may not count): never three per second; the list holds the jobs
    // made between `asked` and `answered`, at least those of the seconds before the request, at most those up to its answer
    expect(jobs.length).toBeGreaterThanOrEqual(Math.max(4, Math.floor((asked - start) / 1000) - 2));
    expect(jobs.length).toBeLessThanOrEqual(Math.ceil((answered - start) / 1000) + 1);
  });

  it('kill -9 of one process under write load loses no acknowledged write, and the retries succeed on the others', async () => {
    const acknowledged: string[] = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const id = `w${w}-${i}`;
        for (let attempt = 0; attempt < 20; attempt++) {
          const res = await api('PUT', `/data/io.cozy.cluster/${id}`, { body: { w, i } }).catch(() => null);
          if (res && (res.status === 201 || res.status === 409)) {
            acknowledged.push(id);
            break;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const writers = Array.from({ length: 4 }, (_, w) => writer(w));
    const acked = (n: number) => expect.poll(() => acknowledged.length, { timeout: 30_000, interval: 20 }).toBeGreaterThanOrEqual(n);
    // under way on all three processes, then one killed: the writes go on (retried on the other two)
    await acked(30);
    const victim = c.procs[1]!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    await acked(acknowledged.length + 60);
    stop = true;
    await Promise.all(writers);
    expect(acknowledged.length).toBeGreaterThan(50);
    const all = await api('POST', '/data/io.cozy.cluster/_all_docs', { port: c.procs[0]!.port, body: { keys: acknowledged } });
    const missing = all.body.rows.filter((r: { error?: string }) => r.error).map((r: { key: string }) => r.key);
    expect(missing).toEqual([]);
    c.procs[1] = await c.startProc();
  });
});
