/**
 * `npm run bench`, concurrent-start (issue 16): a stress run of the start-time DDL and recoveries of `hearth serve` on
 * PostgreSQL + Redis (src/engines/pg-schema.ts). Each round, on a fresh database of one private PostgreSQL (fsync on):
 * three `bin/hearth.js serve` started together; an instance created through the first (the built-in apps of
 * dist/registry installed on it); three more started together beside the three running (a rolling restart's start);
 * all six stopped. A process that exits or does not answer /version in 60 s is a failed start; its stderr's last line
 * is counted by message ('deadlock detected', 'lock timeout'…).
 * BENCH_START_REFERENCE=<path of another build's bin/hearth.js> (e.g. the previous commit, built in a copy): its rounds
 * alternate with this build's, in the same run and under the same load. BENCH_START_ROUNDS (default 50 per build).
 * Writes bench/RESULTS-concurrent-start.md; BENCH_QUICK=1: 3 rounds, no results file.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { spawnHearth, stopHearth, type ClusterProc } from '../test/helpers/cluster.js';
import { startPostgres } from '../test/helpers/servers/postgres.js';
import { startRedis } from '../test/helpers/servers/redis.js';
import { BENCH_DIR, fmtMs, gitInfo, log, machine, ROOT } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 3 : Number(process.env.BENCH_START_ROUNDS ?? 50);
const PASS = 'bench-admin';
const builds: Array<{ name: string; bin: string }> = [{ name: 'this build', bin: join(ROOT, 'bin', 'hearth.js') }];
if (process.env.BENCH_START_REFERENCE) builds.push({ name: `reference (${process.env.BENCH_START_REFERENCE})`, bin: process.env.BENCH_START_REFERENCE });

interface Tally { starts: number; failed: number; messages: Map<string, number>; readyMs: number[] }
const tallies = builds.map((): Tally => ({ starts: 0, failed: 0, messages: new Map(), readyMs: [] }));

const loadAvg = () => loadavg().map((l) => l.toFixed(1)).join(', ');
const loadStart = loadAvg();
const [pg, redis] = await Promise.all([startPostgres({ database: 'postgres', fsync: true }), startRedis()]);
let databases = 0;

/** Three processes at once; the ones up are returned, the failures counted. */
async function threeAtOnce(tally: Tally, bin: string, env: Record<string, string>): Promise<ClusterProc[]> {
  const t0 = performance.now();
  const settled = await Promise.allSettled([0, 1, 2].map(() => spawnHearth(env, bin).then((p) => (tally.readyMs.push(performance.now() - t0), p))));
  const up: ClusterProc[] = [];
  for (const s of settled) {
    tally.starts++;
    if (s.status === 'fulfilled') {
      up.push(s.value);
      continue;
    }
    tally.failed++;
    const text = String((s.reason as Error)?.message ?? s.reason);
    const line = text.split('\n').reverse().find((l) => /error|deadlock|timeout|failed/i.test(l)) ?? text.split('\n')[0]!;
    const key = line.replace(/\d+/g, 'N').slice(0, 160);
    tally.messages.set(key, (tally.messages.get(key) ?? 0) + 1);
    log(`failed start: ${line}`);
  }
  return up;
}

async function round(tally: Tally, bin: string): Promise<void> {
  const url = await pg.database_url(`start_${++databases}`);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp',
    HEARTH_ADMIN_PASSPHRASE: PASS, HEARTH_LOG_LEVEL: 'warn', HEARTH_MAIL_MODE: 'outbox', HEARTH_APPS_REGISTRIES: '',
    HEARTH_DOCS_ENGINE: 'postgres', HEARTH_DOCS_URL: url, HEARTH_DOCS_POOL_SIZE: '10',
    HEARTH_COORDINATION_ENGINE: 'redis', HEARTH_COORDINATION_URL: redis.url, HEARTH_COORDINATION_PREFIX: `s${databases}:`,
  };
  const procs = await threeAtOnce(tally, bin, env);
  try {
    if (procs[0]) {
      const res = await fetch(`http://127.0.0.1:${procs[0].adminPort}/instances`, {
        method: 'POST', headers: { authorization: `Basic ${Buffer.from(`:${PASS}`).toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ domain: `round${databases}.bench`, passphrase: 'owner-pass' }),
      });
      if (res.status !== 201) log(`the instance was not created: ${res.status} ${await res.text()}`);
    }
    procs.push(...(await threeAtOnce(tally, bin, env)));
  } finally {
    await Promise.all(procs.map(stopHearth));
  }
}

try {
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, b] of builds.entries()) await round(tallies[i]!, b.bin);
    log(`round ${r + 1}/${ROUNDS}: ${builds.map((b, i) => `${b.name} ${tallies[i]!.failed}/${tallies[i]!.starts} failed`).join(', ')}`);
  }
} finally {
  await Promise.all([pg.stop(), redis.stop()]);
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN);
const rows = builds.map((b, i) => {
  const t = tallies[i]!;
  const messages = [...t.messages].map(([m, n]) => `${n}× \`${m.replace(/`/g, "'").replace(/\|/g, '/')}\``).join('<br>') || '–';
  return `| ${b.name} | ${ROUNDS} | ${t.starts} | ${t.failed} | ${fmtMs(median(t.readyMs))} ms | ${messages} |`;
});
const table = `| build | rounds | starts | failed starts | p50 time to /version 200 | why they failed |
|---|---:|---:|---:|---:|---|
${rows.join('\n')}`;
log(`\n${table}`);
if (!QUICK) {
  writeFileSync(join(BENCH_DIR, 'RESULTS-concurrent-start.md'), `# Concurrent starts on PostgreSQL

Written by \`node --import tsx bench/concurrent-start.bench.ts\` (\`BENCH_SUITES=concurrent-start npm run bench\`) on ${new Date().toISOString()}.
${machine()}; ${gitInfo()}. Load average (1, 5, 15 min) ${loadStart} at the start, ${loadAvg()} at the end (the 2 cores are shared).

Each round, on a fresh database of one PostgreSQL (fsync on) with one Redis: three \`bin/hearth.js serve\` started
together, an instance created through the first (the built-in apps installed on it), three more started together beside
the three running, all six stopped. Six starts a round; a start fails when the process exits or does not answer
/version within 60 s. ${builds.length > 1 ? 'The builds\' rounds alternate in one run.' : ''}

${table}
`);
}
