/**
 * Mango _find on 100,000 documents: the PostgreSQL engine (src/data/postgres/mango, on a private server from
 * Debian's postgresql) beside the SQLite engine (src/data/mango, in memory), in-process, the same documents and
 * indexes, through the engines' functions (no HTTP). Writes bench/RESULTS-mango-pg.md.
 * Run: node --import tsx bench/mango-pg.bench.ts   (about 1 to 2 minutes; `npm run bench` suite mango-pg). Knob: BENCH_MANGO_DOCS
 * (100000; BENCH_QUICK=1: 10000, printed only).
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseFindRequest } from '../src/data/mango/index.js';
import type { FindRequest, IndexDef } from '../src/data/mango/types.js';
import { pgMango, rowsOf, sqliteMango, type MangoEngine } from '../test/helpers/mango-engines.js';
import { startPostgres } from '../test/helpers/servers/postgres.js';
import { BENCH_DIR, gitInfo, log, machine } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const N = Number(process.env.BENCH_MANGO_DOCS ?? (QUICK ? 10_000 : 100_000));
const ROUNDS = 300;
const T = 'bench_docs';
const docs = Array.from({ length: N }, (_, i) => ({ _id: `doc${String(i).padStart(7, '0')}`, n: (i * 7919) % N, g: i % 10, label: `l${i % 100}`, text: `document number ${i}` }));
const byN: IndexDef = { ddoc: '_design/by-n', name: 'n', fields: [{ field: 'n', dir: 'asc' }], sqlName: 'ix_bench_n' };
const byGN: IndexDef = { ddoc: '_design/by-gn', name: 'gn', fields: [{ field: 'g', dir: 'asc' }, { field: 'n', dir: 'asc' }], sqlName: 'ix_bench_gn' };
const indexes = [byN, byGN];

const QUERIES: Array<[string, (i: number) => FindRequest]> = [
  ['range on an indexed field, 50 results', (i) => parseFindRequest({ selector: { n: { $gte: (i * 97) % (N - 60), $lt: ((i * 97) % (N - 60)) + 50 } }, limit: 1000 })],
  ['equality + range on a 2-field index, sorted, limit 25', (i) => parseFindRequest({ selector: { g: i % 10, n: { $gt: (i * 31) % N } }, sort: [{ g: 'asc' }, { n: 'asc' }], limit: 25 })],
  ['the same, next page by bookmark', (i) => parseFindRequest({ selector: { g: i % 10, n: { $gt: (i * 31) % N } }, sort: [{ g: 'asc' }, { n: 'asc' }], limit: 25 })],
];

const pct = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;
const ms = (x: number): string => x.toFixed(2);

async function measure(engine: MangoEngine): Promise<string[]> {
  const rows: string[] = [];
  let t = performance.now();
  await engine.table(T);
  await engine.insertRows(T, rowsOf(docs));
  const load = performance.now() - t;
  t = performance.now();
  for (const d of indexes) await engine.createIndex(T, d);
  const idx = performance.now() - t;
  log(`${engine.name}: ${N} documents loaded in ${ms(load)} ms, indexes in ${ms(idx)} ms`);
  rows.push(`| ${engine.name} | load ${N} documents | ${(load / 1000).toFixed(1)} s | | |`, `| ${engine.name} | create 2 indexes (PostgreSQL: with ANALYZE) | ${(idx / 1000).toFixed(1)} s | | |`);
  for (const [name, make] of QUERIES) {
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      let req = make(i);
      if (name.includes('next page')) req = { ...req, bookmark: (await engine.find(T, req, indexes)).bookmark };
      const t0 = performance.now();
      const r = await engine.find(T, req, indexes);
      times.push(performance.now() - t0);
      if (r.warning) throw new Error(`${engine.name}: ${name}: ${r.warning}`);
    }
    rows.push(`| ${engine.name} | ${name} | ${ms(pct(times, 0.5))} ms | ${ms(pct(times, 0.95))} ms | ${ROUNDS} |`);
  }
  const scans: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await engine.find(T, parseFindRequest({ selector: { label: `l${i}` }, limit: 1000 }), indexes);
    scans.push(performance.now() - t0);
  }
  rows.push(`| ${engine.name} | no covering index: full scan, 1,000 results | ${ms(pct(scans, 0.5))} ms | ${ms(pct(scans, 0.95))} ms | 5 |`);
  return rows;
}

const load0 = loadavg();
const server = await startPostgres();
try {
  const sqlite = sqliteMango();
  const pgEngine = pgMango(server.url, 'bench');
  const rows = [...(await measure(sqlite)), ...(await measure(pgEngine))];
  await sqlite.close();
  await pgEngine.close();
  const md = [
    '# Mango _find: PostgreSQL engine beside SQLite',
    '',
    `${N.toLocaleString('en')} documents \`{n, g, label, text}\`, Mango indexes on [n] and [g, n]; in-process calls of each engine's`,
    'find (src/data/mango runFind on in-memory SQLite; src/data/postgres/mango pgRunFind on a local PostgreSQL over TCP,',
    'one query per call, jit off); times per call, one caller. Written by `node --import tsx bench/mango-pg.bench.ts`.',
    '',
    `${machine()}; ${gitInfo()}; ${new Date().toISOString()}.`,
    `Load average (1, 5, 15 min) ${load0.map((l) => l.toFixed(1)).join(', ')} at the start, ${loadavg().map((l) => l.toFixed(1)).join(', ')} at the end (2 cores shared with`,
    'other engineers\' work).',
    '',
    '| engine | workload | p50 | p95 | calls |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
  if (!QUICK) writeFileSync(join(BENCH_DIR, 'RESULTS-mango-pg.md'), md);
  process.stdout.write(md);
} finally {
  await server.stop();
}
