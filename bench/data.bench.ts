/**
 * `npm run bench`: Hearth's /data API against pouchdb-server 4.2 (the CouchDB-compatible
 * Node peer) and against a bare Fastify route (the ceiling), side by side in one run,
 * same client, loopback only. Each server runs in its own child process with a private
 * temporary directory and port; all are stopped at the end. Prints a table and writes
 * bench/RESULTS.md.
 *
 * Environment knobs (all optional):
 *   BENCH_QUICK=1            short smoke run (10k docs for _find, 2 s per workload); no RESULTS.md
 *   BENCH_SERVERS=hearth,…   only these servers (hearth, hearth-json, hearth-pg, pouchdb, fastify); no RESULTS.md. hearth-json is Hearth
 *                            with server.serializeResponses off (JSON.stringify), run on the read and _changes workloads only;
 *                            hearth-pg is Hearth on docs.engine postgres (a private PostgreSQL from Debian's package, fsync on).
 *                            BENCH_SERVERS=hearth,hearth-pg,pouchdb with every workload (`npm run bench` suite data-pg) writes
 *                            bench/RESULTS-data-pg.md instead, with issue 16's target (PostgreSQL ≥ 2× pouchdb-server; also with
 *                            BENCH_WORKLOADS, the file then says which ran)
 *   BENCH_WORKLOADS=create,… only these workloads (rss, create, read, changes, repl, find); no RESULTS.md
 *   BENCH_PROFILE=1          start Hearth with --cpu-prof into bench/profiles/ (then see bench/profile-top.ts)
 *   BENCH_CONCURRENCY=16     in-flight requests for the throughput workloads
 *   BENCH_GROUP_COMMIT_MS=n  experiment: Hearth's data.groupCommitMs (default 0); no RESULTS.md
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import {
  BENCH_DIR, ROOT, cpuSnap, cpuUse, fmtMs, fmtOps, fmtRatio, gitInfo, killChildren, log, machine, medianRun, pkgVersion, rssMB, runLoad,
  send, setMeasured, startChild, startWatchdog, stopChild, summarize, targetTable, type Res, type Stats, type Target,
} from './lib.js';
import { startPostgres } from '../test/helpers/servers/postgres.js';

const QUICK = process.env.BENCH_QUICK === '1';
const PROFILE = process.env.BENCH_PROFILE === '1';
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const SERVERS = (process.env.BENCH_SERVERS ?? 'hearth,hearth-json,pouchdb,fastify').split(',').map((s) => s.trim());
const ALL_WORKLOADS = ['rss', 'create', 'read', 'changes', 'repl', 'find'];
const WORKLOADS = (process.env.BENCH_WORKLOADS ?? ALL_WORKLOADS.join(',')).split(',').map((s) => s.trim());
const FULL_RUN = !QUICK && SERVERS.length === 4 && !SERVERS.includes('hearth-pg') && WORKLOADS.length === ALL_WORKLOADS.length && !PROFILE && CONCURRENCY === 16 && !process.env.BENCH_GROUP_COMMIT_MS;
const PG = SERVERS.includes('hearth-pg');
/** The engines side by side (issue 16): Hearth on SQLite and on PostgreSQL beside pouchdb-server, every workload. */
const PG_RUN = !QUICK && PG && ['hearth', 'pouchdb'].every((n) => SERVERS.includes(n)) && !PROFILE && CONCURRENCY === 16 && !process.env.BENCH_GROUP_COMMIT_MS;

const WARMUP_MS = QUICK ? 500 : 1_000;
const MEASURE_MS = QUICK ? 2_000 : 8_000;
const FIND_MS = QUICK ? 1_500 : 4_000;
const FIND_DOCS = QUICK ? 10_000 : 100_000;
const FIND_GROUPS = FIND_DOCS / 10; // each group value matches 10 documents
const READ_DOCS = 1_000;
const CHANGES_DOCS = 10_000;
const REPL_DOCS = QUICK ? 2_000 : 10_000;
const BULK_BATCH = 1_000;
// with hearth-pg: a third server and PostgreSQL's fsyncs on a shared disk (a run at load average 20 took more than 15 minutes)
const WATCHDOG_MS = (SERVERS.includes('hearth-pg') ? 40 : 15) * 60_000;
/** Create, read, _changes and replication run this many times per server, interleaved; the median is reported. */
const REPEATS = QUICK ? 1 : 3;
/**
 * With hearth-pg (three servers, and PostgreSQL's fsyncs on a disk shared with other work), _changes and replication run
 * once per server instead of REPEATS times, so that the whole run ends in about a quarter of an hour (it said so in
 * RESULTS-data-pg.md); create and read by id, the rows of the targets, keep their REPEATS interleaved runs.
 */
const HEAVY_REPEATS = PG ? 1 : REPEATS;

// PouchDB 9 from the repository's own dependencies (bench/node_modules has pouchdb-server's PouchDB 7).
/* eslint-disable @typescript-eslint/no-explicit-any */
type Pouch = any;
const rootRequire = createRequire(join(ROOT, 'package.json'));
const PouchDB: any = (rootRequire('pouchdb-core') as any)
  .plugin(rootRequire('pouchdb-adapter-http'))
  .plugin(rootRequire('pouchdb-adapter-memory'))
  .plugin(rootRequire('pouchdb-replication'));
/* eslint-enable @typescript-eslint/no-explicit-any */

// ---------------------------------------------------------------------------------------------
// Servers

type ServerName = 'hearth' | 'hearth-json' | 'hearth-pg' | 'pouchdb-server' | 'fastify';
/** The columns of the tables: Hearth on PostgreSQL beside Hearth on SQLite when it runs. */
const NAMES: ServerName[] = ['hearth', ...(PG ? ['hearth-pg' as const] : []), 'pouchdb-server', 'fastify'];

interface Server {
  name: ServerName;
  proc: ChildProcess;
  pid: number;
  port: number;
  dir: string;
  /** Host header to send (Hearth serves instances by Host). */
  host: string;
  auth: Record<string, string>;
  /** URL path of a database / doctype. */
  db(name: string): string;
  /** Where to POST a new document. */
  createPath(name: string): string;
  /** URL for PouchDB's http adapter. */
  url(name: string): string;
  pouchOpts: Record<string, unknown>;
  stderr: string[];
}
/** Hearth; `json`: with its answers serialized by JSON.stringify instead of the response schemas; `pg`: on docs.engine postgres at this URL. */
async function startHearth(json = false, pg?: string): Promise<Server> {
  const flags: string[] = [];
  if (PROFILE) {
    mkdirSync(join(BENCH_DIR, 'profiles'), { recursive: true });
    flags.push('--cpu-prof', '--cpu-prof-dir', join(BENCH_DIR, 'profiles'));
  }
  const name: ServerName = json ? 'hearth-json' : pg ? 'hearth-pg' : 'hearth';
  const { proc, line, dir, stderr } = await startChild(name, 'hearth-server.ts', json ? ['json'] : [], flags, 60_000, pg ? { BENCH_DOCS_URL: pg } : {});
  const port = Number(line.port);
  const domain = String(line.domain);
  const token = String(line.token);
  return {
    name, proc, pid: proc.pid ?? 0, port, dir, stderr,
    host: domain,
    auth: { authorization: `Bearer ${token}` },
    db: (n) => `/data/io.cozy.bench.${n}`,
    createPath: (n) => `/data/io.cozy.bench.${n}/`,
    // PouchDB sends the token as a Basic password (Hearth accepts it); `localhost` keeps the Host = instance domain.
    url: (n) => `http://${domain}/data/io.cozy.bench.${n}`,
    pouchOpts: { auth: { username: 'bench', password: token } },
  };
}

async function startPouchServer(): Promise<Server> {
  const { proc, line, dir, stderr } = await startChild('pouchdb-server', 'pouchdb-server.ts', [BENCH_DIR]);
  const port = Number(line.port);
  return {
    name: 'pouchdb-server', proc, pid: proc.pid ?? 0, port, dir, stderr,
    host: `127.0.0.1:${port}`,
    auth: {},
    db: (n) => `/bench_${n}`,
    createPath: (n) => `/bench_${n}`,
    url: (n) => `http://127.0.0.1:${port}/bench_${n}`,
    pouchOpts: {},
  };
}

async function startFastify(): Promise<Server> {
  const { proc, line, dir, stderr } = await startChild('fastify', 'fastify-server.ts', []);
  const port = Number(line.port);
  return {
    name: 'fastify', proc, pid: proc.pid ?? 0, port, dir, stderr,
    host: `127.0.0.1:${port}`, auth: {},
    db: () => '', createPath: () => '/echo', url: () => '', pouchOpts: {},
  };
}

async function stopServer(s: Server): Promise<void> {
  await stopChild(s.proc, s.dir);
}

// ---------------------------------------------------------------------------------------------
// The client: node:http with a keep-alive agent per server, CONCURRENCY sockets

const agents = new Map<string, Agent>();
function agentFor(s: Server): Agent {
  let a = agents.get(s.name);
  if (!a) {
    a = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, maxFreeSockets: CONCURRENCY });
    agents.set(s.name, a);
  }
  return a;
}

function call(s: Server, method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<Res> {
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string | number> = { host: s.host, accept: 'application/json', ...s.auth };
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = payload.length;
  }
  return send({ port: s.port, method, path, headers, agent: agentFor(s), body: payload, timeoutMs, label: s.name });
}

async function callJson(s: Server, method: string, path: string, body?: unknown, expect: number[] = [200, 201], timeoutMs?: number): Promise<Record<string, unknown>> {
  const res = await call(s, method, path, body, timeoutMs);
  const text = res.body.toString('utf8');
  if (!expect.includes(res.status)) throw new Error(`${s.name} ${method} ${path} -> ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
}

function docFor(i: number, prefix = 'd'): Record<string, unknown> {
  return {
    _id: `${prefix}-${String(i).padStart(6, '0')}`,
    name: `Document number ${i}`,
    n: i,
    group: `g${String((i * 7919) % FIND_GROUPS).padStart(5, '0')}`,
    tags: ['bench', i % 2 ? 'odd' : 'even'],
    created_at: new Date(1_700_000_000_000 + i * 1000).toISOString(),
  };
}

async function bulkLoad(s: Server, db: string, total: number, prefix: string, concurrency = 2): Promise<Stats> {
  const batches = Math.ceil(total / BULK_BATCH);
  return runLoad({
    concurrency,
    count: batches,
    op: async (b) => {
      const docs = [];
      for (let i = b * BULK_BATCH; i < Math.min(total, (b + 1) * BULK_BATCH); i++) docs.push(docFor(i, prefix));
      const res = await call(s, 'POST', `${s.db(db)}/_bulk_docs`, { docs });
      if (res.status !== 201 && res.status !== 200) throw new Error(`${s.name} _bulk_docs -> ${res.status} ${res.body.toString().slice(0, 200)}`);
      const rows = JSON.parse(res.body.toString()) as Array<{ ok?: boolean; error?: string }>;
      if (rows.length !== docs.length || rows.some((r) => r.error)) throw new Error(`${s.name} _bulk_docs: ${JSON.stringify(rows.find((r) => r.error))}`);
      return true;
    },
  }).then((st) => ({
    ...st,
    opsPerSec: total / st.seconds,
    // per document, not per batch
    cpu: st.cpu ? { ...st.cpu, serverUsPerOp: (st.cpu.serverUsPerOp * st.ops) / total, clientUsPerOp: (st.cpu.clientUsPerOp * st.ops) / total } : undefined,
  }));
}

async function ensureDb(s: Server, name: string): Promise<void> {
  await callJson(s, 'PUT', `${s.db(name)}/`, undefined, [201, 412]);
}

// ---------------------------------------------------------------------------------------------
// Workloads

/** Rows that hold one value (a size or a duration) instead of a throughput. */
const isSingle = (workload: string) => /\((ms|MB)\)$/.test(workload);

type Results = Map<string, Map<ServerName, Stats | null>>;
const results: Results = new Map();
const notes: string[] = [];

function put(workload: string, server: ServerName, stats: Stats | null): void {
  let row = results.get(workload);
  if (!row) results.set(workload, (row = new Map()));
  row.set(server, stats);
  if (!stats) return;
  if (isSingle(workload)) log(`  ${workload} / ${server}: ${fmtMs(stats.p50)}`);
  else {
    const cpu = stats.cpu ? `, server CPU ${stats.cpu.serverUsPerOp.toFixed(0)} µs/op, client ${stats.cpu.clientUsPerOp.toFixed(0)} µs/op, others' CPU ${stats.cpu.foreignPct.toFixed(0)} %` : '';
    log(`  ${workload} / ${server}: ${fmtOps(stats.opsPerSec)} ops/s, p50 ${fmtMs(stats.p50)} ms, p99 ${fmtMs(stats.p99)} ms${cpu}${stats.note ? ` (${stats.note})` : ''}`);
  }
  if (stats.errors) notes.push(`${workload} on ${server}: ${stats.note ?? `${stats.errors} bad answers`}`);
}

async function measure(workload: string, server: Server, fn: () => Promise<Stats>): Promise<void> {
  setMeasured(server.pid);
  try {
    put(workload, server.name, await fn());
  } catch (e) {
    const msg = `${workload} on ${server.name} failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 400);
    log(`  ${msg}`);
    notes.push(msg);
    put(workload, server.name, null);
  }
}

/**
 * Runs `fn` REPEATS times for every server, interleaved (H, P, F, H, P, F…) so that a burst of
 * outside load hits all of them alike, and records the median run (by ops/s) with the range.
 */
async function measureRepeated(workloads: string[], servers: Server[], fn: (s: Server, rep: number) => Promise<Stats[]>, repeats = REPEATS): Promise<void> {
  const runs = new Map<string, Stats[]>();
  const failed = new Set<string>();
  for (let r = 0; r < repeats; r++) {
    for (const s of servers) {
      setMeasured(s.pid);
      try {
        const stats = await fn(s, r);
        stats.forEach((st, i) => {
          const key = `${workloads[i]}\u0000${s.name}`;
          runs.set(key, [...(runs.get(key) ?? []), st]);
          if (repeats > 1) log(`    run ${r + 1}/${repeats} ${workloads[i]} / ${s.name}: ${fmtOps(st.opsPerSec)} ops/s`);
        });
      } catch (e) {
        const msg = `${workloads.join(' + ')} on ${s.name}, run ${r + 1} failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 400);
        log(`  ${msg}`);
        notes.push(msg);
        for (const w of workloads) failed.add(`${w}\u0000${s.name}`);
      }
    }
  }
  for (const w of workloads) {
    for (const s of servers) {
      const key = `${w}\u0000${s.name}`;
      const median = medianRun(runs.get(key) ?? []);
      put(w, s.name, failed.has(key) || !median ? null : median);
    }
  }
}

async function wlCreate(s: Server): Promise<Stats> {
  const path = s.createPath('creates');
  if (s.name !== 'fastify') await ensureDb(s, 'creates');
  return runLoad({
    concurrency: CONCURRENCY, warmupMs: WARMUP_MS, durationMs: MEASURE_MS,
    op: async (i) => {
      const { _id: _ignored, ...doc } = docFor(i);
      return (await call(s, 'POST', path, doc)).status === 201;
    },
  });
}

async function seedReads(s: Server): Promise<void> {
  if (s.name === 'fastify') return;
  await ensureDb(s, 'reads');
  await bulkLoad(s, 'reads', READ_DOCS, 'r');
}

async function wlRead(s: Server): Promise<Stats> {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % READ_DOCS;
  return runLoad({
    concurrency: CONCURRENCY, warmupMs: WARMUP_MS, durationMs: MEASURE_MS,
    op: async () => {
      const path = s.name === 'fastify' ? '/ping' : `${s.db('reads')}/r-${String(rand()).padStart(6, '0')}`;
      return (await call(s, 'GET', path)).status === 200;
    },
  });
}

async function wlFind(s: Server): Promise<void> {
  await ensureDb(s, 'find');
  log(`  ${s.name}: loading ${FIND_DOCS} docs with _bulk_docs (batches of ${BULK_BATCH})`);
  await measure(`_bulk_docs load (${FIND_DOCS / 1000}k docs, docs/s)`, s, () => bulkLoad(s, 'find', FIND_DOCS, 'f'));
  const t0 = performance.now();
  await callJson(s, 'POST', `${s.db('find')}/_index`, { index: { fields: ['group'] }, ddoc: 'by-group', name: 'by-group', type: 'json' });
  const selector = (g: number) => ({ selector: { group: `g${String(g).padStart(5, '0')}` }, limit: 20 });
  // pouchdb-find builds the view on the first query: count that as building the index
  const first = await callJson(s, 'POST', `${s.db('find')}/_find`, selector(42), [200], 600_000);
  const buildMs = performance.now() - t0;
  const docs = first.docs as Array<Record<string, unknown>> | undefined;
  if (!docs || docs.length !== 10 || docs.some((d) => d.group !== 'g00042')) {
    throw new Error(`${s.name} _find returned ${JSON.stringify(first).slice(0, 300)}`);
  }
  if (first.warning) notes.push(`${s.name} _find warning: ${String(first.warning)}`);
  try {
    const explain = await callJson(s, 'POST', `${s.db('find')}/_explain`, selector(42), [200]);
    const index = explain.index as { ddoc?: string; name?: string } | undefined;
    notes.push(`${s.name} _explain for the measured query: index ${index?.ddoc ?? '?'} / ${index?.name ?? '?'}`);
  } catch (e) {
    notes.push(`${s.name} _explain failed: ${String(e).slice(0, 200)}`);
  }
  put('_index build + first _find (ms)', s.name, { ops: 1, seconds: buildMs / 1000, opsPerSec: NaN, p50: buildMs, p99: buildMs, errors: 0 });
  let seed = 777;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % FIND_GROUPS;
  const op = async () => {
    const res = await call(s, 'POST', `${s.db('find')}/_find`, selector(rand()));
    return res.status === 200 && (JSON.parse(res.body.toString()) as { docs: unknown[] }).docs.length === 10;
  };
  await measure(`indexed _find, 1 in flight (${FIND_DOCS / 1000}k docs)`, s, () => runLoad({ concurrency: 1, warmupMs: WARMUP_MS, durationMs: FIND_MS, op }));
  await measure(`indexed _find, ${CONCURRENCY} in flight`, s, () => runLoad({ concurrency: CONCURRENCY, warmupMs: WARMUP_MS, durationMs: FIND_MS, op }));
}

async function seedChanges(s: Server): Promise<void> {
  await ensureDb(s, 'changes');
  await bulkLoad(s, 'changes', CHANGES_DOCS, 'c');
}

async function wlChanges(s: Server): Promise<Stats> {
  // CONCURRENCY readers each page through the whole feed, 100 changes per request
  const lat: number[] = [];
  let errors = 0;
  const start = performance.now();
  const c0 = cpuSnap();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      let since = '0';
      let seen = 0;
      for (let page = 0; page < CHANGES_DOCS / 100 + 5; page++) {
        const t0 = performance.now();
        const res = await call(s, 'GET', `${s.db('changes')}/_changes?since=${encodeURIComponent(since)}&limit=100`);
        lat.push(performance.now() - t0);
        if (res.status !== 200) {
          errors++;
          break;
        }
        const body = JSON.parse(res.body.toString()) as { results: unknown[]; last_seq: unknown };
        seen += body.results.length;
        since = typeof body.last_seq === 'string' ? body.last_seq : JSON.stringify(body.last_seq);
        if (body.results.length < 100) break;
      }
      if (seen !== CHANGES_DOCS) {
        errors++;
        notes.push(`${s.name} _changes paging saw ${seen} changes instead of ${CHANGES_DOCS}`);
      }
    }),
  );
  const c1 = cpuSnap();
  return { ...summarize(lat, (performance.now() - start) / 1000, errors), cpu: cpuUse(c0, c1, lat.length) };
}

/** Push REPL_DOCS docs from a memory PouchDB into a new remote database, then pull them into a fresh one. */
async function wlReplication(s: Server, rep: number): Promise<Stats[]> {
  const local: Pouch = new PouchDB(`bench-push-${s.name}-${rep}`, { adapter: 'memory' });
  const fresh: Pouch = new PouchDB(`bench-pull-${s.name}-${rep}`, { adapter: 'memory' });
  try {
    for (let i = 0; i < REPL_DOCS; i += BULK_BATCH) {
      await local.bulkDocs(Array.from({ length: Math.min(BULK_BATCH, REPL_DOCS - i) }, (_, j) => docFor(i + j, 'p')));
    }
    // PouchDB creates the remote database itself (GET → 404 → empty PUT), as it does for users
    const remote: Pouch = new PouchDB(s.url(`repl${rep}`), s.pouchOpts);
    const timed = async (what: string, run: () => Promise<{ ok: boolean; docs_written: number }>): Promise<Stats> => {
      const c0 = cpuSnap();
      const r = await run();
      const c1 = cpuSnap();
      if (!r.ok || r.docs_written !== REPL_DOCS) throw new Error(`${what} wrote ${r.docs_written} docs instead of ${REPL_DOCS}`);
      const seconds = (c1.t - c0.t) / 1000;
      return { ops: REPL_DOCS, seconds, opsPerSec: REPL_DOCS / seconds, p50: NaN, p99: NaN, errors: 0, cpu: cpuUse(c0, c1, REPL_DOCS) };
    };
    const push = await timed('push', () => local.replicate.to(remote));
    const pull = await timed('pull', () => fresh.replicate.from(remote));
    return [push, pull];
  } finally {
    await Promise.allSettled([local.destroy(), fresh.destroy()]);
  }
}

/** RSS after start, a few requests and a short settle. */
async function idleRss(s: Server): Promise<Stats> {
  if (s.name === 'fastify') {
    for (let i = 0; i < 5; i++) await callJson(s, 'GET', '/ping');
  } else {
    await ensureDb(s, 'idle');
    const { _id: _ignored, ...doc } = docFor(1);
    const created = await callJson(s, 'POST', s.createPath('idle'), doc);
    const id = String(created.id);
    for (let i = 0; i < 5; i++) await callJson(s, 'GET', `${s.db('idle')}/${id}`);
    await callJson(s, 'GET', `${s.db('idle')}/_all_docs?include_docs=true`);
    await callJson(s, 'GET', `${s.db('idle')}/_changes?since=0`);
  }
  await sleep(3_000);
  const { rss } = rssMB(s.pid);
  return { ops: 1, seconds: 0, opsPerSec: NaN, p50: rss, p99: rss, errors: 0 };
}

// ---------------------------------------------------------------------------------------------
// Report

function table(): string {
  const names = NAMES;
  const head = ['workload', ...names.flatMap((n) => [`${n} ops/s`, 'p50 ms', 'p99 ms']), 'Hearth / pouchdb-server', ...(PG ? ['Hearth PG / pouchdb-server', 'Hearth PG / Hearth'] : []), 'Hearth / Fastify'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const [workload, row] of results) {
    const isMs = isSingle(workload);
    const cells = names.flatMap((n) => {
      if (!row.has(n)) return ['n/a', '', ''];
      const st = row.get(n);
      if (!st) return ['failed', '', ''];
      if (isMs) return [fmtMs(st.p50), '', ''];
      const range = st.range ? ` (${fmtOps(st.range[0])}–${fmtOps(st.range[1])})` : '';
      return [`${fmtOps(st.opsPerSec)}${range}${st.errors ? ` (${st.errors} errors!)` : ''}`, fmtMs(st.p50), fmtMs(st.p99)];
    });
    const ratio = (other: ServerName, of: ServerName = 'hearth') => {
      const h = row.get(of) ?? undefined;
      const o = row.get(other) ?? undefined;
      if (!h || !o) return '–';
      return isMs ? fmtRatio(h.p50, o.p50) : fmtRatio(h.opsPerSec, o.opsPerSec);
    };
    const pgRatios = PG ? [ratio('pouchdb-server', 'hearth-pg'), ratio('hearth', 'hearth-pg')] : [];
    lines.push(`| ${workload} | ${[...cells, ratio('pouchdb-server'), ...pgRatios, ratio('fastify')].join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * Hearth with its answers serialized by the routes' response schemas (fast-json-stringify; the default) against the
 * same Hearth serializing with JSON.stringify (server.serializeResponses: false), measured in the same runs, interleaved.
 */
function serializationTable(): string {
  const lines = [
    '| workload | by schema ops/s | p50 ms | p99 ms | CPU µs/op | JSON.stringify ops/s | p50 ms | p99 ms | CPU µs/op | schema / JSON.stringify (ops/s) | CPU per op |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [workload, row] of results) {
    if (!row.has('hearth-json')) continue;
    const cells = (st: Stats | null | undefined) => {
      if (!st) return ['failed', '', '', ''];
      const range = st.range ? ` (${fmtOps(st.range[0])}–${fmtOps(st.range[1])})` : '';
      return [`${fmtOps(st.opsPerSec)}${range}${st.errors ? ` (${st.errors} errors!)` : ''}`, fmtMs(st.p50), fmtMs(st.p99), st.cpu?.serverUsPerOp.toFixed(0) ?? '–'];
    };
    const s = row.get('hearth');
    const j = row.get('hearth-json');
    const cpu = s?.cpu && j?.cpu ? `${(s.cpu.serverUsPerOp / j.cpu.serverUsPerOp).toFixed(2)}×` : '–';
    lines.push(`| ${workload} | ${[...cells(s), ...cells(j)].join(' | ')} | ${s && j ? fmtRatio(s.opsPerSec, j.opsPerSec) : '–'} | ${cpu} |`);
  }
  return lines.join('\n');
}

/** Server CPU per op, and the load from outside the benchmark during each measurement. */
function cpuTable(): string {
  const names = NAMES;
  const lines = [
    `| workload | ${names.map((n) => `${n} CPU µs/op`).join(' | ')} | Hearth / pouchdb-server |${PG ? ' Hearth PG / pouchdb-server |' : ''} client CPU µs/op (${names.join(' / ')}) | others' CPU % (max) |`,
    `|---|${names.map(() => '---:').join('|')}|---:|${PG ? '---:|' : ''}---:|---:|`,
  ];
  for (const [workload, row] of results) {
    if (isSingle(workload)) continue;
    const c = (n: ServerName) => row.get(n)?.cpu;
    const p = c('pouchdb-server');
    const vsPouch = (n: ServerName) => {
      const h = c(n);
      return h && p ? `${(h.serverUsPerOp / p.serverUsPerOp).toFixed(2)}×` : '–';
    };
    const foreign = Math.max(...names.map((n) => c(n)?.foreignPct ?? 0));
    lines.push(
      `| ${workload} | ${names.map((n) => c(n)?.serverUsPerOp.toFixed(0) ?? (row.has(n) ? '–' : 'n/a')).join(' | ')} | ${vsPouch('hearth')} |${PG ? ` ${vsPouch('hearth-pg')} |` : ''} ${names.map((n) => c(n)?.clientUsPerOp.toFixed(0) ?? '–').join(' / ')} | ${foreign.toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

function targets(): Target[] {
  const get = (w: string, n: ServerName) => {
    for (const [k, row] of results) if (k.startsWith(w)) return row.get(n) ?? undefined;
    return undefined;
  };
  const ratioTarget = (name: string, w: string, min: number, clientBound = false, server: ServerName = 'hearth'): Target => {
    const h = get(w, server);
    const p = get(w, 'pouchdb-server');
    if (!h || !p || h.errors || p.errors) return { name, goal: `≥ ${min}× pouchdb-server`, measured: h?.errors || p?.errors ? 'invalid: bad answers (see notes)' : 'not measured', pass: null };
    const r = h.opsPerSec / p.opsPerSec;
    let measured = `${r.toFixed(2)}× (${fmtOps(h.opsPerSec)} vs ${fmtOps(p.opsPerSec)}; server CPU per op ${h.cpu && p.cpu ? `${(p.cpu.serverUsPerOp / h.cpu.serverUsPerOp).toFixed(2)}× less` : '?'})`;
    if (clientBound && h.cpu) {
      // replication is a sequential pipeline: wall time ≈ client CPU + server CPU per doc
      const best = 1e6 / h.cpu.clientUsPerOp;
      measured += `. The PouchDB client alone spends ${h.cpu.clientUsPerOp.toFixed(0)} µs/doc, so even a zero-cost server would reach at most ~${fmtOps(best)} docs/s = ${(best / p.opsPerSec).toFixed(1)}× pouchdb-server`;
    }
    return { name, goal: `≥ ${min}× pouchdb-server`, measured, pass: r >= min };
  };
  const find = get('indexed _find, 1 in flight', 'hearth');
  const rss = get('idle RSS', 'hearth');
  return [
    ratioTarget('single-doc create (durable)', 'single-doc create', 4),
    ratioTarget('single-doc read by id', 'single-doc read', 5),
    ratioTarget('replication: push', 'PouchDB push', 3, true),
    ratioTarget('replication: pull', 'PouchDB pull', 3, true),
    find
      ? { name: `indexed _find p50 over ${FIND_DOCS / 1000}k docs`, goal: '< 5 ms over 100k docs', measured: `${fmtMs(find.p50)} ms (p99 ${fmtMs(find.p99)} ms)`, pass: FIND_DOCS >= 100_000 ? find.p50 < 5 : null }
      : { name: 'indexed _find p50', goal: '< 5 ms', measured: 'not measured', pass: null },
    rss
      ? { name: 'Hearth idle RSS, one instance', goal: '< 100 MB', measured: `${rss.p50.toFixed(1)} MB`, pass: rss.p50 < 100 }
      : { name: 'Hearth idle RSS', goal: '< 100 MB', measured: 'not measured', pass: null },
    // issue 16: on the PostgreSQL engine
    ...(PG ? [
      ratioTarget('PostgreSQL engine: single-doc create (durable)', 'single-doc create', 2, false, 'hearth-pg'),
      ratioTarget('PostgreSQL engine: single-doc read by id', 'single-doc read', 2, false, 'hearth-pg'),
    ] : []),
  ];
}

function versions(): Record<string, string> {
  const v = pkgVersion;
  return {
    node: process.version,
    fastify: v(join(ROOT, 'node_modules/fastify/package.json')),
    'better-sqlite3': v(join(ROOT, 'node_modules/better-sqlite3/package.json')),
    'pouchdb-server': v(join(BENCH_DIR, 'node_modules/pouchdb-server/package.json')),
    'express-pouchdb': v(join(BENCH_DIR, 'node_modules/express-pouchdb/package.json')),
    'PouchDB (server side)': v(join(BENCH_DIR, 'node_modules/pouchdb-core/package.json')),
    'PouchDB (client)': v(join(ROOT, 'node_modules/pouchdb-core/package.json')),
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  startWatchdog(WATCHDOG_MS);
  const started = performance.now();
  const load0 = loadavg();
  log(`starting servers (${SERVERS.join(', ')}), concurrency ${CONCURRENCY}${QUICK ? ', QUICK' : ''}${PROFILE ? ', PROFILE' : ''}`);
  // hearth-pg's PostgreSQL: fsync on, as Hearth's SQLite commits are fsynced
  const pgServer = PG ? await startPostgres({ database: 'bench', fsync: true }) : null;
  const servers: Server[] = await Promise.all([
    SERVERS.includes('hearth') ? startHearth() : null,
    pgServer ? startHearth(false, pgServer.url) : null,
    SERVERS.includes('hearth-json') ? startHearth(true) : null,
    SERVERS.includes('pouchdb') ? startPouchServer() : null,
    SERVERS.includes('fastify') ? startFastify() : null,
  ]).then((l) => l.filter((s): s is Server => s !== null));
  // hearth-json only runs the rows that compare the serializations (read by id, _changes)
  const data = servers.filter((s) => s.name !== 'fastify');
  const main3 = servers.filter((s) => s.name !== 'hearth-json');
  const data3 = data.filter((s) => s.name !== 'hearth-json');
  try {
    const want = (w: string) => WORKLOADS.includes(w);
    if (want('rss')) {
      log('idle RSS');
      for (const s of main3) await measure('idle RSS after start (MB)', s, () => idleRss(s));
    }
    if (want('create')) {
      log('single-doc create');
      await measureRepeated([`single-doc create (c=${CONCURRENCY})`], main3, async (s) => [await wlCreate(s)]);
    }
    if (want('read')) {
      log('single-doc read');
      for (const s of servers) await seedReads(s);
      await measureRepeated([`single-doc read by id (c=${CONCURRENCY})`], servers, async (s) => [await wlRead(s)]);
    }
    if (want('changes')) {
      log('_changes paging');
      for (const s of data) await seedChanges(s);
      await measureRepeated([`_changes paging, limit=100 over ${CHANGES_DOCS / 1000}k docs (c=${CONCURRENCY} feeds)`], data, async (s) => [await wlChanges(s)], HEAVY_REPEATS);
    }
    if (want('repl')) {
      log('PouchDB replication');
      await measureRepeated([`PouchDB push ${REPL_DOCS / 1000}k docs (docs/s)`, `PouchDB pull ${REPL_DOCS / 1000}k docs (docs/s)`], data3, wlReplication, HEAVY_REPEATS);
    }
    if (want('find')) {
      log('indexed _find');
      for (const s of data3) await wlFind(s).catch((e: unknown) => notes.push(`_find on ${s.name}: ${String(e)}`));
    }
    for (const s of data3) {
      const { rss, hwm } = rssMB(s.pid);
      put('RSS at the end (MB)', s.name, { ops: 1, seconds: 0, opsPerSec: NaN, p50: rss, p99: rss, errors: 0 });
      put('peak RSS, VmHWM (MB)', s.name, { ops: 1, seconds: 0, opsPerSec: NaN, p50: hwm, p99: hwm, errors: 0 });
    }
  } finally {
    log('stopping servers');
    for (const a of agents.values()) a.destroy();
    await Promise.all(servers.map((s) => stopServer(s)));
    await pgServer?.stop();
  }
  const minutes = (performance.now() - started) / 60_000;
  const ts = targets();
  const out = [table(), '', cpuTable(), '', serializationTable(), '', targetTable(ts), ...(notes.length ? ['', 'Notes:', ...notes.map((n) => `- ${n}`)] : [])].join('\n');
  process.stdout.write(`\n${out}\n\nrun took ${minutes.toFixed(1)} min\n`);
  if (PROFILE) process.stdout.write(`\nCPU profile(s) in ${join(BENCH_DIR, 'profiles')}: node --import tsx bench/profile-top.ts <file>\n`);
  if (FULL_RUN) {
    writeFileSync(join(BENCH_DIR, 'RESULTS.md'), resultsMd(ts, minutes));
    process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS.md')}\n`);
  }
  if (PG_RUN) {
    writeFileSync(join(BENCH_DIR, 'RESULTS-data-pg.md'), pgResultsMd(ts, minutes, load0));
    process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-data-pg.md')}\n`);
  }
}

/** bench/RESULTS-data-pg.md: the same workloads on Hearth's two document engines beside pouchdb-server (issue 16). */
function pgResultsMd(ts: Target[], minutes: number, load0: number[]): string {
  const v = versions();
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(', ');
  return `# Hearth /data on PostgreSQL beside SQLite and pouchdb-server (issue 16)

Generated by \`BENCH_SUITES=data-pg npm run bench\` (bench/data.bench.ts with BENCH_SERVERS=hearth,hearth-pg,pouchdb) on
${new Date().toISOString()}; the run took ${minutes.toFixed(1)} min.

- Code: ${gitInfo()}
- Machine: ${machine()}
- Load average (1, 5, 15 min) at the start ${load(load0)}, at the end ${load(loadavg())}: the machine is shared with other
  engineers' test runs (the "others' CPU" column says how much of it each measurement met)
- Versions: ${Object.entries(v).map(([k, x]) => `${k} ${x}`).join(', ')}, PostgreSQL ${pgVersion()}

The workloads (${WORKLOADS.length === ALL_WORKLOADS.length ? 'all of them' : `only ${WORKLOADS.join(', ')} in this run (BENCH_WORKLOADS)`}), client and method are those of [RESULTS.md](RESULTS.md) (its "Method" section), run on three servers at once:
**hearth** (docs.engine sqlite: one SQLite database per instance, fsynced commits), **hearth-pg** (the same Hearth on
docs.engine postgres: Debian's PostgreSQL on this machine over TCP on loopback, a pool of 10, fsync and synchronous_commit on,
so an acknowledged write is on disk, as with SQLite) and **pouchdb-server** (LevelDB, writes not fsynced). Server CPU is the
Hearth process's only; for hearth-pg the PostgreSQL backends' CPU is not counted in it (they show in "others' CPU").
Create and read by id ran ${REPEATS} times per server, interleaved (the median run is shown, with the range); to keep the
run bounded with three servers, _changes paging and replication ran ${HEAVY_REPEATS === 1 ? 'once' : `${HEAVY_REPEATS} times`} per server (not ${REPEATS} times as in
RESULTS.md), and _find once per server.

## Results

${table()}

Server CPU time per op (user + system of the server process; per document for bulk load and replication):

${cpuTable()}

## Targets (2 cores)

${targetTable(ts)}
${notes.length ? `\nNotes from the run:\n\n${notes.map((n) => `- ${n}`).join('\n')}\n` : ''}`;
}

function pgVersion(): string {
  try {
    return execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim().split(' ').pop() ?? '?';
  } catch {
    return '?';
  }
}

function resultsMd(ts: Target[], minutes: number): string {
  const v = versions();
  return `# Hearth /data benchmark

Generated by \`npm run bench\` (bench/run.sh → bench/data.bench.ts) on ${new Date().toISOString()}; the run took ${minutes.toFixed(1)} min.

- Code: ${gitInfo()}
- Machine: ${machine()}
- Versions: ${Object.entries(v).map(([k, x]) => `${k} ${x}`).join(', ')}
- The files benchmark (bench/files.bench.ts, run by the same \`npm run bench\`) writes [RESULTS-files.md](RESULTS-files.md)

## Results

ops/s = completed requests per second (for bulk load and replication: documents per second); p50/p99 = request latency in ms
as seen by the client. Rows in (MB) or (ms) give one value. Ratios compare ops/s (for the (MB)/(ms) rows, the values).

${table()}

Server CPU time (user + system, from \`/proc/<pid>/stat\`) per op (per document for bulk load and replication), which
does not depend on the client or on other load, and the CPU that processes outside the benchmark used during each
measurement, in % of all cores (other sessions' tests share this machine; high values make that row's ops/s and
latencies pessimistic):

${cpuTable()}

## Response serialization by schema

The same Hearth twice in the same run, interleaved run by run: serializing its answers by the routes' response schemas
(fast-json-stringify, the default; a document's own fields still go through JSON.stringify, since CouchDB documents have any
fields) and with JSON.stringify everywhere (\`server.serializeResponses: false\`). Read by id answers one document; the
\`_changes\` page is 100 rows \`{seq, id, changes: [{rev}]}\`, whose fields the schema lists. Server CPU per op is the
steadier number (ops/s moves with the other sessions' load on the 2 shared cores).

${serializationTable()}

## Targets (2 cores)

${targetTable(ts)}
${notes.length ? `\nNotes from the run:\n\n${notes.map((n) => `- ${n}`).join('\n')}\n` : ''}
## Method

One client process (this script, Node ${process.version}) drives three servers, each a separate child process with its own
temporary directory and an ephemeral port on 127.0.0.1, started together and measured one at a time (the others idle):
**Hearth** (bench/hearth-server.ts: \`createHearth(testConfig(dir))\`, the test configuration: WAL, \`synchronous=FULL\`, group
commit on the next tick, logs silent; one instance \`localhost:<port>\`, a CLI token for \`io.cozy.bench.*\` sent as
\`Authorization: Bearer\`, \`Host\` = the instance domain), **pouchdb-server ${v['pouchdb-server']}** (bench/pouchdb-server.ts: what its CLI
builds, express-pouchdb in its default \`fullCouchDB\` mode over PouchDB ${v['PouchDB (server side)']} + LevelDB, but with the config in memory and
its request log at level \`warning\`; no auth) and a **bare Fastify ${v.fastify}** route (GET returning a small JSON, POST echoing the body)
as the ceiling. All three run compiled to plain JS by \`tsc\` (bench/tsconfig.servers.json), as \`hearth serve\` runs from dist/,
not under tsx. The throughput workloads keep ${CONCURRENCY} requests in flight over a keep-alive \`node:http\` Agent
(${CONCURRENCY} sockets), warm up for ${WARMUP_MS / 1000} s and then measure for ${MEASURE_MS / 1000} s: single-document create (\`POST\` of a
~170-byte JSON document; Hearth answers only after the SQLite COMMIT is fsynced, pouchdb-server answers after LevelDB's
write, which is *not* fsynced: LevelDB's default \`sync: false\` leaves it in the OS page cache, so a power loss can lose
acknowledged writes) and read by id (random ids among ${READ_DOCS} documents loaded with \`_bulk_docs\`). \`_changes\`: ${CONCURRENCY}
concurrent readers each page through a ${CHANGES_DOCS / 1000}k-document feed with \`since=<last_seq>&limit=100\`; each
request is one op. Replication: PouchDB ${v['PouchDB (client)']} in this process with the memory adapter and default options pushes
${REPL_DOCS / 1000}k documents into a new remote database, then a fresh memory database pulls them back; docs/s = documents
over wall time, including the checkpoints. \`_find\`: ${FIND_DOCS / 1000}k documents are loaded with \`_bulk_docs\` (batches of
${BULK_BATCH}, 2 in flight), then a JSON index on \`group\` (${FIND_GROUPS} distinct values) is created with \`_index\`; its build
time includes the first query because pouchdb-find builds its view lazily. The measured query is
\`{"selector":{"group":"gNNNNN"},"limit":20}\` with a random value, matching 10 documents (checked on every answer),
once with 1 request in flight (the latency target) and once with ${CONCURRENCY}. Idle RSS is \`VmRSS\` from
\`/proc/<pid>/status\` of each server after start, one database/doctype with one document, a few reads, \`_all_docs\`,
\`_changes\` and a 3 s settle. Latencies are measured in the client around each request (so they include the client's
own event-loop time on a 2-core machine where client and server share the CPUs). Create, read, \`_changes\` and
replication run ${REPEATS} times per server, interleaved (Hearth, pouchdb-server, Fastify, Hearth…), and the table shows
the median run with the range of ops/s in parentheses; the rest runs once. Server CPU per op comes from
\`/proc/<pid>/stat\` (user + system time of the server process over the measured window), client CPU from this
process, and "others' CPU" is the machine's busy time from \`/proc/stat\` minus the benchmark's processes: other
sessions' test runs share this 2-core machine, so rows with a high value there are pessimistic for every server, while
the CPU-per-op figures are not affected much.
`;
}

main().catch((e: unknown) => {
  log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  killChildren();
  process.exit(1);
});
