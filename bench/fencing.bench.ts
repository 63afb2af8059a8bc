/**
 * `npm run bench`, fencing (issue 16): what the fence of the file-system lock costs. Directories made one after the
 * other through FileSystem.createDir, under the instance's lock on a private redis-server with a lease, on SQLite and on
 * a private PostgreSQL: fenced (the lock's token compared and stored in each write's transaction) beside the same
 * Redis locks with the fence left out, alternated in rounds in the same run. Writes bench/RESULTS-fencing.md.
 * BENCH_QUICK=1: smaller counts, no results file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_DIR_ID } from '../src/files/types.js';
import { instance, openFencedVfs } from '../test/helpers/fenced-vfs.js';
import { startPostgres } from '../test/helpers/servers/postgres.js';
import { startRedis } from '../test/helpers/servers/redis.js';
import { BENCH_DIR, fmtMs, gitInfo, log, machine } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const PER_ROUND = QUICK ? 50 : 200;
const ROUNDS = QUICK ? 2 : 4;

const loadAvg = () => loadavg().map((l) => l.toFixed(1)).join(', ');
const loadStart = loadAvg();
const [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
const rows: string[] = [];
try {
  for (const engine of ['sqlite', 'postgres'] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-fencing-'));
    const pgUrl = engine === 'postgres' ? await pg.database_url(`bench_fence_${Date.now()}`) : null;
    const opened = await Promise.all([false, true].map((unfenced) => openFencedVfs({ dir, pgUrl, redisUrl: redis.url, prefix: `b${engine}:`, leaseMs: 15_000, name: unfenced ? 'unfenced' : 'fenced', unfenced })));
    const times = { fenced: [] as number[], unfenced: [] as number[] };
    let n = 0;
    await opened[0]!.vfs.fs.createDir(instance, { name: 'warm-up', dirId: ROOT_DIR_ID });
    for (let r = 0; r < ROUNDS; r++) {
      for (const [i, kind] of (['unfenced', 'fenced'] as const).entries()) {
        const { vfs } = opened[i]!;
        for (let k = 0; k < PER_ROUND; k++) {
          const t0 = performance.now();
          await vfs.fs.createDir(instance, { name: `d${n++}`, dirId: ROOT_DIR_ID });
          times[kind].push(performance.now() - t0);
        }
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const f = median(times.fenced);
    const u = median(times.unfenced);
    rows.push(`| ${engine} | ${times.fenced.length} | ${fmtMs(u)} ms | ${fmtMs(f)} ms | ${(f / u).toFixed(2)}× |`);
    log(`fencing ${engine}: unfenced p50 ${fmtMs(u)}, fenced p50 ${fmtMs(f)}`);
    for (const o of opened) await o.close();
    rmSync(dir, { recursive: true, force: true });
  }
} finally {
  await Promise.all([redis.stop(), pg.stop()]);
}
const loadEnd = loadAvg();
if (!QUICK) {
  writeFileSync(join(BENCH_DIR, 'RESULTS-fencing.md'), `# Fencing of the file-system lock

Written by \`node --import tsx bench/fencing.bench.ts\` (\`BENCH_SUITES=fencing npm run bench\`) on ${new Date().toISOString()}.
${machine()}; ${gitInfo()}. Load average (1, 5, 15 min) ${loadStart} at the start, ${loadEnd} at the end (the 2 cores are shared).

FileSystem.createDir one after the other under the instance's lock on Redis (lease 15 s), ${ROUNDS} rounds of ${PER_ROUND}
per kind, alternated; the reference takes the same Redis lock but leaves the fence out (its holder says it has no lease).
Fenced: one more statement in the write's transaction (an upsert of the lock's highest token in the instance's
\`fences\` table) and, on PostgreSQL, the put goes in a transaction of its own rather than in the doctype's grouped
statement. p50 of one createDir (a lock round trip to Redis, a name check, the write).

| docs engine | directories per kind | p50 without the fence | p50 fenced | fenced / without |
|---|---:|---:|---:|---:|
${rows.join('\n')}
`);
}
process.exit(0);
