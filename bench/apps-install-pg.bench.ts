/**
 * `npm run bench`, suite apps-install-pg (issue 14, "Install", on PostgreSQL): an app with a service installed through
 * the whole installer (stored code: the same version on every instance) on instances of a Hearth with docs.engine
 * postgres (documents, triggers and the code index in one database of a private PostgreSQL with fsync on), one at a
 * time (each instance made with a small app with a service first, not counted), side by side with the same Hearth whose journal intents wait for their own flush (HearthOptions.orderedIntents
 * false: the commit of each intent flushed before the install goes on). Blocks of installs alternate between the two,
 * so that both see the same load. Per install: wall time (mean, p50, p99) and the WAL flushes of the server
 * (pg_stat_wal.wal_sync, read once the backends reported them), also less the flushes of an idle wait as long as the
 * one each block's count includes (the walwriter's flushes of asynchronous commits, the jobs' polls). Prints its table; BENCH_INSTANCES=N per side (default
 * 100, BENCH_QUICK=1: 40).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createPgPool } from '../src/engines/postgres.js';
import { createHearth, type Hearth } from '../src/server/compose.js';
import { startPackageServer } from '../test/helpers/app-packages.js';
import { testConfig } from '../test/helpers/hearth.js';
import { startPostgres } from '../test/helpers/servers/postgres.js';
import { fmtMs, log, percentile, tempDir } from './lib.js';

const PER_SIDE = Number(process.env.BENCH_INSTANCES) || (process.env.BENCH_QUICK === '1' ? 40 : 100);
const ROUNDS = 4;
const BLOCK = Math.max(1, Math.floor(PER_SIDE / ROUNDS));
const MANIFEST = { slug: 'pgapp', type: 'webapp', version: '1.0.0', permissions: { notes: { type: 'io.cozy.notes' } }, services: { sync: { type: 'node', file: 'sync.js', trigger: '@event io.cozy.files:CREATED' } } };
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

interface Side { name: string; hearth: Hearth; times: number[]; flushes: number; idle: number; next: number }

async function main(): Promise<void> {
  const [pg, pkgs] = await Promise.all([startPostgres({ fsync: true }), startPackageServer()]);
  const stats = createPgPool({ url: pg.url, max: 1, name: 'bench-stats' });
  const sides: Side[] = [];
  try {
    const url = await pkgs.add('pgapp', { 'manifest.webapp': MANIFEST, 'index.html': '<html>pgapp</html>', 'sync.js': '' });
    const source = `${url}#${createHash('sha256').update(readFileSync(join(pkgs.dir, 'pgapp.tar.gz'))).digest('hex')}`;
    for (const [name, ordered] of [['ordered intents (this branch)', true], ['each intent flushed (reference)', false]] as const) {
      const dir = tempDir('hearth-bench-install-pg-');
      const docs = { engine: 'postgres' as const, url: await pg.database_url(ordered ? 'ordered' : 'flushed'), poolSize: 5 };
      const hearth = await createHearth(testConfig(join(dir, 'data'), { docs }), pino({ level: 'silent' }), { orderedIntents: ordered });
      sides.push({ name, hearth, times: [], flushes: 0, idle: 0, next: 0 });
      // the code stored by a first install, not counted
      const first = await hearth.registry.create({ domain: `first.${ordered ? 'o' : 'f'}.bench` });
      if ((await (await hearth.installer.install(first, 'webapp', 'pgapp', { source })).done).error) throw new Error('first install failed');
    }
    // each instance first gets a small app with a service, not counted (as the SQLite suite's `starter`: a new instance
    // gets the built-in apps), so that the tables of the doctypes an install writes exist before the measured install
    const starter = await pkgs.add('starter', { 'manifest.webapp': { ...MANIFEST, slug: 'starter' }, 'index.html': '<html></html>', 'sync.js': '' });
    const instances = new Map<Side, Awaited<ReturnType<Hearth['registry']['create']>>[]>();
    for (const s of sides) {
      const list = [];
      for (let i = 0; i < PER_SIDE; i++) {
        const instance = await s.hearth.registry.create({ domain: `i${i}.${s === sides[0] ? 'o' : 'f'}.bench` });
        if ((await (await s.hearth.installer.install(instance, 'webapp', 'starter', { source: starter })).done).error) throw new Error('starter install failed');
        list.push(instance);
      }
      instances.set(s, list);
    }
    log(`${PER_SIDE} instances per side made (load ${load()})`);
    const walSyncs = async () => {
      await new Promise((r) => setTimeout(r, 2500)); // the backends report their WAL statistics when idle, within a second or so
      return Number((await stats.query<{ n: string }>('SELECT wal_sync AS n FROM pg_stat_wal')).rows[0]!.n);
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of round % 2 === 0 ? sides : [...sides].reverse()) {
        // the server's flushes with no install running (the walwriter's of asynchronous commits, the jobs' polls), over
        // the same idle wait the block's count includes: taken off the block's
        const idle0 = await walSyncs();
        const before = await walSyncs();
        s.idle += before - idle0;
        for (let i = 0; i < BLOCK && s.next < PER_SIDE; i++, s.next++) {
          const t = performance.now();
          const outcome = await (await s.hearth.installer.install(instances.get(s)![s.next]!, 'webapp', 'pgapp', { source })).done;
          if (outcome.error) throw outcome.error;
          s.times.push(performance.now() - t);
        }
        s.flushes += (await walSyncs()) - before;
      }
    }
    const row = (s: Side) => {
      const sorted = Float64Array.from(s.times).sort();
      const mean = s.times.reduce((a, b) => a + b, 0) / s.times.length;
      return `| ${s.name} (${s.times.length}) | ${fmtMs(mean)} ms | ${fmtMs(percentile(sorted, 0.5))} / ${fmtMs(percentile(sorted, 0.99))} ms | ${(s.flushes / s.times.length).toFixed(2)} | ${((s.flushes - s.idle) / s.times.length).toFixed(2)} |`;
    };
    process.stdout.write([
      '',
      `Installs of stored code one at a time on docs.engine postgres (fsync on), ${ROUNDS} alternating blocks of ${BLOCK} per side; load ${load()} at the end.`,
      '',
      '| side | time per install (mean) | p50 / p99 | WAL flushes per install (pg_stat_wal.wal_sync, the whole server) | the same less those of an idle wait as long |',
      '|---|---|---|---|---|',
      ...sides.map(row),
      '',
    ].join('\n'));
  } finally {
    for (const s of sides) await s.hearth.close();
    await stats.end();
    await Promise.all([pkgs.close(), pg.stop()]);
  }
}

await main();
