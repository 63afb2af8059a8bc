/**
 * Issue 16's outage test: two `hearth serve` processes behind the HAProxy example on one PostgreSQL and one Redis,
 * under a client load of document writes and reads, while PostgreSQL (then Redis) is stopped for a few seconds and
 * started again. While it is down, the requests answer 503 with Retry-After (never 500, never left hanging); once it is
 * back, writes work again without restarting hearth, and every write that was acknowledged (2xx) is there. With Redis,
 * a realtime subscriber connected before the outage gets the events after it, and login's limits (kept in Redis)
 * answer as usual again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { openWs } from '../helpers/ws.js';

const DOCTYPE = 'io.cozy.outage';
/** A request still unanswered after this long counts as hanging (generous: the machine is shared and slow). */
const HANG_MS = 45_000;
/** A derived passphrase (32 bytes in base64) that is not the owner's. */
const WRONG = Buffer.alloc(32, 7).toString('base64');
/** How long each server stays down (once the load has met the outage). */
const OUTAGE_MS = 3_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let c: Cluster;

beforeAll(async () => {
  c = await startCluster({ processes: 2, swift: false, scope: DOCTYPE });
  expect((await c.api('PUT', `/data/${DOCTYPE}/read-me`, { body: { n: 0 } })).status).toBe(200);
}, 180_000);

afterAll(async () => {
  await c?.stop();
}, 120_000);

interface Answer { status: number; retryAfter: boolean; body: unknown }

/** One request through the balancer; `hung` when it has no answer in HANG_MS, `failed` when the connection broke. */
async function bounded(method: string, path: string, body?: unknown): Promise<Answer | 'hung' | 'failed'> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), HANG_MS)));
  const answer = c.api(method, path, body === undefined ? {} : { body }).then(
    (res) => ({ status: res.status, retryAfter: res.headers['retry-after'] !== undefined, body: res.body }),
    () => 'failed' as const,
  );
  try {
    return await Promise.race([answer, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Writers (a new document each time) and readers (one document) through the balancer until stop(). */
function load(prefix: string) {
  const acknowledged: string[] = [];
  const answers: Array<Answer & { what: string }> = [];
  const broken: string[] = [];
  let running = true;
  const record = (what: string, a: Answer | 'hung' | 'failed') => {
    if (typeof a === 'string') broken.push(`${what}: ${a}`);
    else answers.push({ ...a, what });
    return a;
  };
  const writer = async (w: number) => {
    for (let i = 0; running; i++) {
      const id = `${prefix}-${w}-${i}`;
      const a = record(`PUT ${id}`, await bounded('PUT', `/data/${DOCTYPE}/${id}`, { w, i }));
      if (typeof a !== 'string' && a.status >= 200 && a.status < 300) acknowledged.push(id);
      else await sleep(50);
    }
  };
  const reader = async () => {
    while (running) {
      const a = record('GET read-me', await bounded('GET', `/data/${DOCTYPE}/read-me`));
      if (typeof a === 'string' || a.status !== 200) await sleep(50);
    }
  };
  const all = Promise.all([...Array.from({ length: 4 }, (_, w) => writer(w)), reader(), reader()]);
  return {
    acknowledged, answers, broken,
    /** Resolves when `n` more answers matched `match` than when it was called. */
    async until(match: (a: Answer) => boolean, n = 1) {
      const seen = answers.filter(match).length;
      while (answers.filter(match).length < seen + n) await sleep(100);
    },
    async stop() {
      running = false;
      await all;
    },
  };
}

const isOk = (a: Answer) => a.status >= 200 && a.status < 300;

/** What must hold of every answer of a run with an outage in it, and of the writes after it. */
async function expectRecovered(run: ReturnType<typeof load>) {
  expect(run.broken).toEqual([]);
  const errors = run.answers.filter((a) => a.status >= 500);
  expect(errors.filter((a) => a.status !== 503).map((a) => `${a.what}: ${a.status} ${JSON.stringify(a.body)}`)).toEqual([]);
  expect(errors.filter((a) => !a.retryAfter).map((a) => a.what)).toEqual([]);
  // each process takes writes again, with no restart
  // every process lived through the outage (a dead one is shown with its stderr, not as a refused connection)
  expect(c.procs.map((p) => p.state())).toEqual(c.procs.map(() => 'running'));
  for (const p of c.procs) expect((await c.api('POST', `/data/${DOCTYPE}/`, { port: p.port, body: { after: p.port } })).status).toBe(201);
  expect(run.acknowledged.length).toBeGreaterThan(20);
  const all = await c.api('POST', `/data/${DOCTYPE}/_all_docs`, { body: { keys: run.acknowledged } });
  expect(all.status).toBe(200);
  expect(all.body.rows.filter((r: { error?: string }) => r.error).map((r: { key: string }) => r.key)).toEqual([]);
}

describe('PostgreSQL and Redis stopped and started again under load, behind HAProxy', () => {
  it('PostgreSQL down: 503 with Retry-After, never 500 or a hang; writes resume without restarting hearth, nothing acknowledged is lost', async () => {
    const run = load('pg');
    try {
      await run.until(isOk, 40);
      await c.postgres.halt();
      try {
        // the load meets the outage: writes and reads answer 503
        await run.until((a) => a.status === 503, 20);
        await sleep(OUTAGE_MS);
      } finally {
        await c.postgres.start();
      }
      await run.until(isOk, 40);
    } finally {
      await run.stop();
    }
    expect(run.answers.some((a) => a.status === 503 && a.what.startsWith('PUT'))).toBe(true);
    await expectRecovered(run);
  }, 240_000);

  it('Redis down: no 500 and no hang; afterwards a subscriber connected before gets events, login limits answer again', async () => {
    const ws = await openWs(c.procs[0]!.port, c.domain);
    const login = () => c.api('POST', '/auth/login', { body: { passphrase: WRONG }, headers: { accept: 'application/json' } });
    try {
      ws.auth(c.token);
      ws.subscribe(DOCTYPE);
      await ws.barrier();
      expect((await login()).status).toBe(401);
      const run = load('redis');
      try {
        await run.until(isOk, 40);
        await c.redis.halt();
        try {
          // login counts its attempts in Redis: it cannot answer while Redis is down
          const down = await login();
          expect(down.status).toBe(503);
          expect(down.headers['retry-after']).toBeDefined();
          await run.until(() => true, 40);
          await sleep(OUTAGE_MS);
        } finally {
          await c.redis.start();
        }
        await run.until(isOk, 40);
      } finally {
        await run.stop();
      }
      await expectRecovered(run);
      // the limits answer again (the connection comes back on its retry schedule)
      await expect.poll(async () => (await login()).status, { timeout: 60_000, interval: 500 }).toBe(401);
      // the subscriber on process 1 gets a write made through process 2 (the bus resubscribed after the restart)
      expect(ws.ws.readyState).toBe(ws.ws.OPEN);
      let received = false;
      for (let attempt = 0; !received && attempt < 20; attempt++) {
        const created = await c.api('POST', `/data/${DOCTYPE}/`, { port: c.procs[1]!.port, body: { attempt } });
        expect(created.status).toBe(201);
        received = await ws.next((m) => m.event === 'CREATED' && m.payload.id === created.body.id, 5_000).then(() => true, () => false);
      }
      expect(received).toBe(true);
    } finally {
      await ws.close();
    }
  }, 240_000);
});
