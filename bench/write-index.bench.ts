/**
 * `npm run bench`, write index (issue 16): what the index of the writes (src/data/postgres/write-index.ts: each write
 * statement upserts its instance's row in `hearth.doc_writes`) costs PostgreSQL's writes. Two Hearths in this process,
 * each on a database of its own on one private PostgreSQL (fsync on), one with the index and one without
 * (HearthOptions.pgWriteIndex false, the reference), measured in alternated rounds of the same workloads:
 * single-document creates through the DocStore, one at a time (latency) and 16 in flight (throughput), and a PouchDB
 * push of 5,000 documents through HTTP into a new doctype. Writes bench/RESULTS-write-index.md (not with BENCH_QUICK=1).
 *   node --import tsx bench/write-index.bench.ts    (`BENCH_SUITES=write-index npm run bench`)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { DocStore } from '../src/data/store.js';
import { createPgPool } from '../src/engines/postgres.js';
import { createHearth, type Hearth } from '../src/server/compose.js';
import { testConfig } from '../test/helpers/hearth.js';
import { startPostgres } from '../test/helpers/servers/postgres.js';
import { BENCH_DIR, fmtMs, fmtOps, gitInfo, log, machine, ROOT } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 2 : 5;
const SERIAL = QUICK ? 200 : 1000;
const PARALLEL_MS = QUICK ? 1_000 : 3_000;
const IN_FLIGHT = 16;
const PUSH_DOCS = 5_000;

/* eslint-disable @typescript-eslint/no-explicit-any */
const rootRequire = createRequire(join(ROOT, 'package.json'));
const PouchDB: any = (rootRequire('pouchdb-core') as any).plugin(rootRequire('pouchdb-adapter-http')).plugin(rootRequire('pouchdb-adapter-memory')).plugin(rootRequire('pouchdb-replication'));
/* eslint-enable @typescript-eslint/no-explicit-any */

interface Variant { name: 'index' | 'none'; hearth: Hearth; dir: string; store: DocStore; url: (doctype: string) => string; auth: { username: string; password: string } }
type Sample = { serialP50: number; serialMean: number; parallelOps: number; pushOps: number };

const loadAvg = () => loadavg().map((l) => l.toFixed(1)).join(', ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const doc = (i: number, prefix: string) => ({ _id: `${prefix}-${String(i).padStart(6, '0')}`, name: `Document number ${i}`, n: i, tags: ['a', 'b'], done: i % 2 === 0 });

async function open(name: Variant['name'], pgUrl: string): Promise<Variant> {
  const dir = mkdtempSync(join(tmpdir(), `hearth-bench-wi-${name}-`));
  const hearth = await createHearth(testConfig(dir, { docs: { engine: 'postgres', url: pgUrl, poolSize: 10 } }), pino({ level: 'silent' }), name === 'none' ? { pgWriteIndex: false } : {});
  await hearth.publicApp.listen({ host: '127.0.0.1', port: 0 });
  const domain = `localhost:${(hearth.publicApp.server.address() as AddressInfo).port}`;
  const instance = await hearth.registry.create({ domain });
  const token = await hearth.tokens.issue(instance, { aud: 'cli', sub: 'bench', scope: 'io.cozy.bench.*' });
  const store = hearth.storeOf(instance);
  await store.put('io.cozy.bench.single', { _id: 'warm' });
  return { name, hearth, dir, store, url: (doctype) => `http://${domain}/data/${doctype}`, auth: { username: 'bench', password: token } };
}

/** `SERIAL` creates in each store, one at a time, the two stores in turn (each first in turn): latencies in ms. */
async function serial(round: number): Promise<[number[], number[]]> {
  const lat: [number[], number[]] = [[], []];
  for (let i = 0; i < SERIAL; i++) {
    for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
      const t = performance.now();
      await variants[k]!.store.put('io.cozy.bench.single', doc(i, `s${round}`));
      lat[k]!.push(performance.now() - t);
    }
  }
  return lat;
}

/** IN_FLIGHT creates in flight in each store, both at once for PARALLEL_MS: creates per second of each. */
async function parallel(round: number): Promise<number[]> {
  const end = performance.now() + PARALLEL_MS;
  const t0 = performance.now();
  const counts = await Promise.all(variants.map(async (v) => {
    let done = 0;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < end) await v.store.put('io.cozy.bench.single', doc(done++, `p${round}`));
    }));
    return done;
  }));
  const seconds = (performance.now() - t0) / 1000;
  return counts.map((n) => n / seconds);
}

/** A PouchDB push of PUSH_DOCS documents into a new doctype of each, both at once: documents per second of each. */
async function push(round: number): Promise<number[]> {
  return Promise.all(variants.map(async (v) => {
    const local = new PouchDB(`wi-${v.name}-${round}`, { adapter: 'memory' });
    try {
      for (let i = 0; i < PUSH_DOCS; i += 1000) await local.bulkDocs(Array.from({ length: 1000 }, (_, j) => doc(i + j, 'r')));
      const remote = new PouchDB(v.url(`io.cozy.bench.push${round}`), { auth: v.auth });
      const t0 = performance.now();
      const r = (await local.replicate.to(remote)) as { ok: boolean; docs_written: number };
      if (!r.ok || r.docs_written !== PUSH_DOCS) throw new Error(`${v.name}: the push wrote ${r.docs_written} documents`);
      return PUSH_DOCS / ((performance.now() - t0) / 1000);
    } finally {
      await local.destroy();
    }
  }));
}

const loadStart = loadAvg();
const pg = await startPostgres({ database: 'bench', fsync: true });
const variants: Variant[] = [];
const urls: string[] = [];
const samples = new Map<Variant['name'], Sample[]>([['index', []], ['none', []]]);
try {
  urls.push(await pg.database_url(`wi_index_${Date.now()}`), await pg.database_url(`wi_none_${Date.now()}`));
  variants.push(await open('index', urls[0]!), await open('none', urls[1]!));
  for (let r = 0; r < ROUNDS; r++) {
    const lat = await serial(r);
    const par = await parallel(r);
    const pushed = await push(r);
    variants.forEach((v, k) => {
      const s: Sample = { serialP50: median(lat[k]!), serialMean: lat[k]!.reduce((a, b) => a + b, 0) / SERIAL, parallelOps: par[k]!, pushOps: pushed[k]! };
      samples.get(v.name)!.push(s);
      log(`write-index ${v.name.padEnd(5)} round ${r + 1}: one at a time p50 ${fmtMs(s.serialP50)} ms mean ${fmtMs(s.serialMean)} ms, ${fmtOps(s.parallelOps)}/s with ${IN_FLIGHT} in flight, push ${fmtOps(s.pushOps)} docs/s`);
    });
  }
  // the reference wrote no row of the index, the other one a row per doctype written
  for (const [v, url] of variants.map((v, i) => [v, urls[i]!] as const)) {
    const pool = createPgPool({ url, max: 1, name: 'bench-check' });
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM hearth.doc_writes');
    await pool.end();
    log(`write-index ${v.name}: ${rows[0]!.n} rows in hearth.doc_writes`);
    if ((Number(rows[0]!.n) > 0) !== (v.name === 'index')) throw new Error(`${v.name}: ${rows[0]!.n} rows in the index`);
  }
} finally {
  for (const v of variants) {
    await v.hearth.close();
    rmSync(v.dir, { recursive: true, force: true });
  }
  await pg.stop();
}
const loadEnd = loadAvg();

const med = (name: Variant['name'], k: keyof Sample) => median(samples.get(name)!.map((s) => s[k]));
/** The cost of the index in each round (the two measured side by side), in %: positive when slower with it. */
const costs = (k: keyof Sample, lowerIsBetter: boolean) => samples.get('index')!.map((a, r) => {
  const b = samples.get('none')![r]!;
  return 100 * (lowerIsBetter ? a[k] / b[k] - 1 : b[k] / a[k] - 1);
});
const line = (what: string, k: keyof Sample, unit: string, fmt: (n: number) => string, lowerIsBetter = false) => {
  const c = costs(k, lowerIsBetter);
  return `| ${what} | ${fmt(med('index', k))} ${unit} | ${fmt(med('none', k))} ${unit} | ${median(c).toFixed(1)} % | ${Math.min(...c).toFixed(1)} to ${Math.max(...c).toFixed(1)} % |`;
};
const table = [
  '| workload | with the index | without | cost of the index (median of the rounds) | in the rounds |',
  '|---|---:|---:|---:|---:|',
  line('one create at a time: p50', 'serialP50', 'ms', fmtMs, true),
  line('one create at a time: mean', 'serialMean', 'ms', fmtMs, true),
  line(`creates/s, ${IN_FLIGHT} in flight`, 'parallelOps', '/s', fmtOps),
  line(`PouchDB push of ${PUSH_DOCS.toLocaleString('en')} docs`, 'pushOps', 'docs/s', fmtOps),
].join('\n');
const worst = Math.max(...(['serialP50', 'serialMean', 'parallelOps', 'pushOps'] as const).map((k) => median(costs(k, k.startsWith('serial')))));
const verdict = worst <= 5
  ? `Every median cost is within 5 % (the largest ${worst.toFixed(1)} %, below the spread of the rounds): the index stays as it is. It adds one row update to a statement that already updates the doctype's row, in the same transaction and the same WAL flush; both variants share one PostgreSQL, so its fsyncs are shared too (as on a cluster's database).`
  : `The largest median cost is ${worst.toFixed(1)} %, over 5 %.`;
process.stdout.write(`${table}\n${verdict}\n`);
if (!QUICK) {
  writeFileSync(join(BENCH_DIR, 'RESULTS-write-index.md'), `# The cost of the index of the writes on PostgreSQL

Written by \`node --import tsx bench/write-index.bench.ts\` (\`BENCH_SUITES=write-index npm run bench\`) on ${new Date().toISOString()}.
${machine()}; ${gitInfo()}. Load average (1, 5, 15 min) ${loadStart} at the start, ${loadEnd} at the end (the 2 cores are shared).

Two Hearths in one process, each on its own database of one private PostgreSQL (fsync on): one writes the index of
the writes (each write statement upserts its instance's row of \`hearth.doc_writes\`, read by the @event sweep), the
other leaves it out (\`pgWriteIndex: false\`, the reference). ${ROUNDS} rounds;
medians of the rounds. Under a load that changes by the second, the two run side by side in each measurement rather
than one after the other: creates, new documents through the DocStore (\`put\` without \`_rev\`), ${SERIAL} in each one
after the other, the two stores in turn; then ${IN_FLIGHT} in flight in each, both at once, for ${PARALLEL_MS / 1000} s.
Push: PouchDB (memory adapter, default options) pushes ${PUSH_DOCS.toLocaleString('en')} documents over HTTP into a new
doctype of each, both at once (\`_revs_diff\`, \`_bulk_docs\` of 100).
Cost: how much slower with the index (positive) than without, in each round (the two measured at the same moment),
then the median of the rounds; the values, medians of the rounds each.

${table}

${verdict}
`);
  log(`wrote ${join(BENCH_DIR, 'RESULTS-write-index.md')}`);
}
process.exit(0);
