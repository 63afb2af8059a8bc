/**
 * A private PostgreSQL server for tests, from Debian's `postgresql` package: initdb in a temporary folder, trust
 * authentication, loopback only, its own port and socket folder; stopped and removed by `stop()` (and at the process's
 * exit if a test forgot). Runs as the `postgres` user when the tests run as root (initdb refuses root).
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackage } from '../debian.js';
import { freePort } from '../ports.js';

export interface PgServer {
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url: string;
  port: number;
  database: string;
  /** The data folder (its server.log tells why a start failed). */
  dir: string;
  /** An URL to another database of the same server, created if missing. */
  database_url(name: string): Promise<string>;
  /** Stops the server (fast shutdown: sessions are cut, committed data stays); `start()` brings it back on the same port. */
  halt(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

function binDir(): string {
  ensureDebianPackage('postgresql');
  const root = '/usr/lib/postgresql';
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('postgresql is installed but no /usr/lib/postgresql/<version>/bin/initdb was found');
  return join(root, versions[0], 'bin');
}

const asRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL program, as the postgres user when we are root. */
function pgRun(bin: string, args: string[]): void {
  const r = asRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', bin, ...args], { encoding: 'utf8', timeout: 60_000 })
    : spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
}

const running = new Set<string>();
process.on('exit', () => {
  for (const dir of running) {
    // SIGQUIT: immediate shutdown of a server a test left behind
    try {
      const pid = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGQUIT');
    } catch {
      /* already gone */
    }
  }
});

/** `fsync`: commits are flushed to disk, as in production (benchmarks); tests run without (faster, nothing lost unless the machine crashes). */
export async function startPostgres(opts: { database?: string; maxConnections?: number; fsync?: boolean } = {}): Promise<PgServer> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'hearth-pg-'));
  if (asRoot) chownSync(dir, ...postgresIds());
  const data = join(dir, 'data');
  pgRun(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
  const port = await freePort();
  const database = opts.database ?? 'hearth';
  const options = [
    `-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', ...(opts.fsync ? [] : ['-c fsync=off', '-c full_page_writes=off']),
    `-c max_connections=${opts.maxConnections ?? 300}`, '-c shared_buffers=64MB',
  ].join(' ');
  const start = async () => {
    pgRun(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
    running.add(data);
  };
  const halt = async () => {
    if (!running.has(data)) return;
    pgRun(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
    running.delete(data);
  };
  await start();
  const psql = (sql: string, db = 'postgres') => {
    const r = spawnSync(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-tAc', sql], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`psql ${sql}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const ensureDb = (name: string) => {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
    if (psql(`SELECT 1 FROM pg_database WHERE datname = '${name}'`) !== '1') psql(`CREATE DATABASE ${name}`);
    return `postgres://postgres@127.0.0.1:${port}/${name}`;
  };
  const url = ensureDb(database);
  return {
    url, port, database, dir,
    database_url: async (name) => ensureDb(name),
    halt, start,
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresIds(): [number, number] {
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  return [Number(r.stdout.trim()), Number(g.stdout.trim())];
}
