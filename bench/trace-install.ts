/**
 * The durable writes of one install of stored code (an app with a permission and a service; the same version installed
 * on another instance first), for issue 14's count. On SQLite engines (default): the install runs between marker fsyncs
 * of /tmp/i24-trace/mark-begin, mark-returned (the install's promise resolved) and mark-end (a second later: the
 * journal's settle), to be read from `strace -f -y -e trace=fsync,fdatasync -o LOG node --import tsx bench/trace-install.ts`.
 * TRACE_PG=1: on docs.engine postgres (a private server, fsync on, the walwriter slowed to 10 s so that the flushes
 * counted are the backends'), printing pg_stat_wal.wal_sync and the commits (xact_commit) over the same two spans, after
 * a span as long with no install (the jobs' polls, the statistics' own reads).
 */
import { createHash } from 'node:crypto';
import { copyFileSync, fsyncSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { createPgPool } from '../src/engines/postgres.js';
import { createHearth } from '../src/server/compose.js';
import { startPackageServer } from '../test/helpers/app-packages.js';
import { testConfig } from '../test/helpers/hearth.js';
import { startPostgres } from '../test/helpers/servers/postgres.js';
import { tempDir } from './lib.js';

const MANIFEST = { slug: 'tapp', type: 'webapp', version: '1.0.0', permissions: { notes: { type: 'io.cozy.notes' } }, services: { sync: { type: 'node', file: 'sync.js', trigger: '@event io.cozy.files:CREATED' } } };
const PG = process.env.TRACE_PG === '1';
const pkgs = await startPackageServer();
const pg = PG ? await startPostgres({ fsync: true }) : null;
const stats = pg ? createPgPool({ url: pg.url, max: 1, name: 'trace-stats' }) : null;
try {
  const url = await pkgs.add('tapp', { 'manifest.webapp': MANIFEST, 'index.html': '<html>t</html>', 'sync.js': '' });
  const source = `${url}#${createHash('sha256').update(readFileSync(join(pkgs.dir, 'tapp.tar.gz'))).digest('hex')}`;
  const starter = await pkgs.add('starter', { 'manifest.webapp': { ...MANIFEST, slug: 'starter' }, 'index.html': '<html></html>', 'sync.js': '' });
  const docs = pg ? { docs: { engine: 'postgres' as const, url: await pg.database_url('trace'), poolSize: 5 } } : {};
  const hearth = await createHearth(testConfig(join(tempDir('hearth-trace-'), 'data'), docs), pino({ level: 'silent' }));
  const install = async (domain: string, slug: string, src: string) => {
    const instance = await hearth.registry.create({ domain });
    const out = await (await hearth.installer.install(instance, 'webapp', slug, { source: src })).done;
    if (out.error) throw out.error;
    return instance;
  };
  await install('first.trace', 'tapp', source);
  const b = await install('b.trace', 'starter', starter);
  if (stats) {
    await stats.query("ALTER SYSTEM SET wal_writer_delay = '10s'");
    // the statements of the install, each with its backend and transaction id, in the server's log (TRACE_PG_LOG=1)
    if (process.env.TRACE_PG_LOG === '1') {
      await stats.query("ALTER SYSTEM SET log_statement = 'all'");
      await stats.query("ALTER SYSTEM SET log_line_prefix = '%m [%p] xid=%x '");
    }
    await stats.query('SELECT pg_reload_conf()');
  }
  await new Promise((r) => setTimeout(r, 1000));
  mkdirSync('/tmp/i24-trace', { recursive: true });
  const counts: Array<[string, number, number]> = [];
  const mark = async (name: string) => {
    fsyncSync(openSync(`/tmp/i24-trace/${name}`, 'w'));
    if (!stats) return;
    await stats.query(`SELECT '${name}'`);
    await new Promise((r) => setTimeout(r, 2500)); // the backends report their statistics when idle, within a second or so
    const { rows } = await stats.query<{ s: string; c: string }>("SELECT (SELECT wal_sync FROM pg_stat_wal) AS s, (SELECT xact_commit FROM pg_stat_database WHERE datname = 'trace') AS c");
    counts.push([name, Number(rows[0]!.s), Number(rows[0]!.c)]);
  };
  await mark('mark-idle'); // a span with no install: what the server flushes and commits meanwhile on its own
  await mark('mark-begin');
  const out = await (await hearth.installer.install(b, 'webapp', 'tapp', { source })).done;
  if (out.error) throw out.error;
  await mark('mark-returned');
  await new Promise((r) => setTimeout(r, 1000)); // the journal's settle (200 ms): the intent's end
  await mark('mark-end');
  for (let i = 1; i < counts.length; i++) {
    process.stdout.write(`${counts[i - 1]![0]} → ${counts[i]![0]}: wal_sync ${counts[i]![1] - counts[i - 1]![1]}, commits ${counts[i]![2] - counts[i - 1]![2]} (the statistics' own reads included)\n`);
  }
  if (stats && process.env.TRACE_PG_LOG === '1') {
    const dataDir = (await stats.query<{ d: string }>("SELECT current_setting('data_directory') AS d")).rows[0]!.d;
    copyFileSync(join(dataDir, '..', 'server.log'), '/tmp/i24-trace/pg.log');
    process.stdout.write('server log: /tmp/i24-trace/pg.log\n');
  }
  await hearth.close();
} finally {
  await stats?.end();
  await pg?.stop();
  await pkgs.close();
}
