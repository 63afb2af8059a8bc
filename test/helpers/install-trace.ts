/**
 * The durable writes of one install of stored code (an app with a permission and a service; the same version installed
 * on another instance first), for issue 14's count (src/apps/install/install-flushes*.test.ts, bench/trace-install.ts).
 * The install runs between marker fsyncs of `<markDir>/mark-begin`, `mark-returned` (its promise resolved) and `mark-end`
 * (a second later: the journal's settle), to be read from `strace -f -y -e trace=fsync,fdatasync`: `countSyncs`. With
 * `pg` (docs.engine postgres on a private server, fsync on), the walwriter is slowed to 10 s so that the flushes
 * counted are the backends', and pg_stat_wal.wal_sync and the commits (xact_commit) are read at each mark, after a span
 * as long with no install first (the jobs' polls, the statistics' own reads).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { createPgPool, type PgPool } from '../../src/engines/postgres.js';
import { createHearth } from '../../src/server/compose.js';
import { startPackageServer } from './app-packages.js';
import { testConfig } from './hearth.js';

const MANIFEST = { slug: 'tapp', type: 'webapp', version: '1.0.0', permissions: { notes: { type: 'io.cozy.notes' } }, services: { sync: { type: 'node', file: 'sync.js', trigger: '@event io.cozy.files:CREATED' } } };

export interface TraceOptions {
  dataDir: string;
  markDir: string;
  /** The database of the documents on PostgreSQL (a private server), made by the caller, and its name. */
  pg?: { docsUrl: string; datname: string };
  /** How long the statistics are waited for at each mark (PostgreSQL's backends report theirs when idle, within a second or so). */
  statsWaitMs?: number;
  /**
   * PostgreSQL: the job mirror's lock held over the install (jobs/mirror-pg.ts: a round runs only where it is taken), so
   * that the flushes counted are the install's own, not the mirror's copy of its trigger and outbox delete; and the
   * install begun away from a minute's turn (the housekeeping's round then). No idle span first.
   */
  ownOnly?: boolean;
}

/** One span between two marks: WAL flushes and commits on PostgreSQL (null on SQLite). */
export interface Span { from: string; to: string; walSync: number; commits: number }

/**
 * strace attached to the PostgreSQL server's backends and postmaster (-f: the backends it forks meanwhile), not to its
 * walwriter or checkpointer: the files the commits of the clients fsynced, seen by the kernel (pg_stat_wal's counts
 * reach the statistics up to 10 s late: a backend that reported less than a second before reports again only then).
 */
async function straceBackends(stats: PgPool, log: string): Promise<() => Promise<string[]>> {
  const dataDir = (await stats.query<{ d: string }>("SELECT current_setting('data_directory') AS d")).rows[0]!.d;
  const postmaster = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]!;
  const { rows } = await stats.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()");
  const pids = [postmaster, ...rows.map((r) => String(r.pid))];
  const child = spawn('strace', ['-f', '-tt', '-y', '-e', 'trace=fsync,fdatasync', '-o', log, ...pids.flatMap((pid) => ['-p', pid])], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let attached = 0;
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (/attached/.test(line) && ++attached === pids.length) resolve();
    });
    void exited.then(() => reject(new Error('strace exited before it attached')));
  });
  return async () => {
    child.kill('SIGINT');
    await exited;
    return syncedFiles(readFileSync(log, 'utf8'));
  };
}

/** The files of the fsync and fdatasync calls of an strace log (-y), in order. */
function syncedFiles(log: string): string[] {
  return log.split('\n').flatMap((line) => {
    const m = /\b(?:fsync|fdatasync)\(\d+<([^>]*)>/.exec(line);
    return m ? [m[1]!] : [];
  });
}

export async function traceOneInstall(opts: TraceOptions): Promise<{ spans: Span[]; pgSyncs: string[] | null }> {
  const pkgs = await startPackageServer();
  // on the documents' database: the advisory locks taken there are the job mirror's (ownOnly)
  const stats = opts.pg ? createPgPool({ url: opts.pg.docsUrl, max: 1, name: 'trace-stats' }) : null;
  try {
    const url = await pkgs.add('tapp', { 'manifest.webapp': MANIFEST, 'index.html': '<html>t</html>', 'sync.js': '' });
    const source = `${url}#${createHash('sha256').update(readFileSync(join(pkgs.dir, 'tapp.tar.gz'))).digest('hex')}`;
    const starter = await pkgs.add('starter', { 'manifest.webapp': { ...MANIFEST, slug: 'starter' }, 'index.html': '<html></html>', 'sync.js': '' });
    const docs = opts.pg ? { docs: { engine: 'postgres' as const, url: opts.pg.docsUrl, poolSize: 5 } } : {};
    const hearth = await createHearth(testConfig(opts.dataDir, docs), pino({ level: 'silent' }));
    try {
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
        await stats.query('SELECT pg_reload_conf()');
      }
      await new Promise((r) => setTimeout(r, 1000));
      mkdirSync(opts.markDir, { recursive: true });
      const counts: Array<[string, number, number]> = [];
      const mark = async (name: string) => {
        const fd = openSync(join(opts.markDir, name), 'w');
        fsyncSync(fd);
        closeSync(fd);
        if (!stats) return counts.push([name, 0, 0]);
        await stats.query(`SELECT '${name}'`); // the mark in the server's log (bench/trace-install.ts TRACE_PG_LOG)
        await new Promise((r) => setTimeout(r, opts.statsWaitMs ?? 2500));
        const { rows } = await stats.query<{ s: string; c: string }>('SELECT (SELECT wal_sync FROM pg_stat_wal) AS s, (SELECT xact_commit FROM pg_stat_database WHERE datname = $1) AS c', [opts.pg!.datname]);
        return counts.push([name, Number(rows[0]!.s), Number(rows[0]!.c)]);
      };
      if (stats && opts.ownOnly) {
        await stats.query("SELECT pg_advisory_lock(hashtext('hearth jobs mirror'))");
        const second = new Date().getUTCSeconds() + new Date().getUTCMilliseconds() / 1000;
        if (second > 50) await new Promise((r) => setTimeout(r, (61 - second) * 1000));
      } else if (stats) {
        await mark('mark-idle'); // a span with no install: what the server flushes and commits meanwhile on its own
      }
      await mark('mark-begin');
      const traced = stats && opts.ownOnly ? await straceBackends(stats, join(opts.markDir, 'pg-strace.log')) : null;
      const out = await (await hearth.installer.install(b, 'webapp', 'tapp', { source })).done;
      if (out.error) throw out.error;
      await mark('mark-returned');
      await new Promise((r) => setTimeout(r, 1000)); // the journal's settle (200 ms): the intent's end
      const pgSyncs = (await traced?.()) ?? null;
      await mark('mark-end');
      if (stats && opts.ownOnly) await stats.query("SELECT pg_advisory_unlock(hashtext('hearth jobs mirror'))");
      return { pgSyncs, spans: counts.slice(1).map(([to, s, c], i) => ({ from: counts[i]![0], to, walSync: s - counts[i]![1], commits: c - counts[i]![2] })) };
    } finally {
      await hearth.close();
    }
  } finally {
    await stats?.end();
    await pkgs.close();
  }
}

/** The fsync and fdatasync calls of an strace log (-f -y) between two marks, each as the file it synced. */
export function syncsBetween(log: string, from: string, to: string): string[] {
  const calls = syncedFiles(log);
  const start = calls.findIndex((f) => f.endsWith(`/${from}`));
  const end = calls.findIndex((f, i) => i > start && f.endsWith(`/${to}`));
  if (start < 0 || end < 0) throw new Error(`the marks ${from} and ${to} are not in the log`);
  return calls.slice(start + 1, end);
}
