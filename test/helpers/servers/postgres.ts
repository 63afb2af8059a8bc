/**
 * A private PostgreSQL server for tests, from Debian's `postgresql` package: trust authentication, loopback only, its
 * own port and socket folder, in a temporary folder; stopped and removed by `stop()` (and at the process's exit if a
 * test forgot). Runs as the `postgres` user when the tests run as root (initdb refuses root). The data folder is a copy
 * of one made by initdb once per machine and PostgreSQL version (`<tmpdir>/hearth-pg-template/`): initdb is 2-7 s of
 * CPU, the copy a fraction of it. The programs run without blocking the event loop, so that servers started together
 * (PostgreSQL, Redis, Swift) start side by side.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ensureDebianPackage } from '../debian.js';
import { lock, unlock } from '../dir-lock.js';
import { freePort } from '../ports.js';

const execFileP = promisify(execFile);

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

/** Runs a PostgreSQL program, as the postgres user when we are root; resolves with its output. */
async function pgRun(bin: string, args: string[], timeout = 60_000): Promise<string> {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  try {
    return (await execFileP(cmd, argv, { encoding: 'utf8', timeout })).stdout;
  } catch (e) {
    const r = e as { code?: number | string; signal?: string; stderr?: string; stdout?: string };
    throw new Error(`${bin} ${args.join(' ')} failed (${r.code ?? r.signal}): ${r.stderr || r.stdout}`, { cause: e });
  }
}

const INITDB_ARGS = ['-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'];
let template: Promise<string> | undefined;

/**
 * The data folder initdb made for this PostgreSQL version, made once per machine (under a lock between the test
 * processes; a folder without its `done` mark was cut short and is made again).
 */
function templateData(bin: string): Promise<string> {
  template ??= (async () => {
    const root = join(tmpdir(), 'hearth-pg-template');
    mkdirSync(root, { recursive: true });
    const dir = join(root, basename(dirname(bin)));
    const [data, done] = [join(dir, 'data'), join(dir, 'done')];
    if (existsSync(done)) return data;
    await lock(`${dir}.lock`);
    try {
      if (existsSync(done)) return data;
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
      if (asRoot) chownSync(dir, ...postgresIds());
      await pgRun(join(bin, 'initdb'), ['-D', data, ...INITDB_ARGS], 120_000);
      writeFileSync(done, INITDB_ARGS.join(' '));
      return data;
    } finally {
      unlock(`${dir}.lock`);
    }
  })().catch((e: unknown) => {
    template = undefined;
    throw e;
  });
  return template;
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
  // cp -a keeps the owner (postgres) and the folder's mode 0700 that the server asks for
  await execFileP('cp', ['-a', await templateData(bin), data], { timeout: 120_000 });
  const port = await freePort();
  const database = opts.database ?? 'hearth';
  const options = [
    `-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', ...(opts.fsync ? [] : ['-c fsync=off', '-c full_page_writes=off']),
    `-c max_connections=${opts.maxConnections ?? 300}`, '-c shared_buffers=64MB',
  ].join(' ');
  const start = async () => {
    await pgRun(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start'], 90_000);
    running.add(data);
  };
  const halt = async () => {
    if (!running.has(data)) return;
    await pgRun(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
    running.delete(data);
  };
  try {
    await start();
  } catch (e) {
    // pg_ctl -w gave up: a server that came up late is stopped, and the folder goes (the error keeps its log's tail)
    await pgRun(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
    let log = '';
    try {
      log = readFileSync(join(dir, 'server.log'), 'utf8').slice(-2000);
    } catch {
      /* no log */
    }
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}\nserver.log: ${log}`, { cause: e });
  }
  const psql = async (sql: string, db = 'postgres') => {
    try {
      return (await execFileP(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-tAc', sql], { encoding: 'utf8' })).stdout.trim();
    } catch (e) {
      throw new Error(`psql ${sql}: ${(e as { stderr?: string }).stderr}`, { cause: e });
    }
  };
  const ensureDb = async (name: string) => {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
    if ((await psql(`SELECT 1 FROM pg_database WHERE datname = '${name}'`)) !== '1') await psql(`CREATE DATABASE ${name}`);
    return `postgres://postgres@127.0.0.1:${port}/${name}`;
  };
  const url = await ensureDb(database);
  return {
    url, port, database, dir,
    database_url: ensureDb,
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
