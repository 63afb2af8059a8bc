/**
 * A private Redis server for tests, from Debian's `redis-server` package: loopback only, its own port and folder,
 * append-only file on (fsync every second, as an operator would run it); stopped and removed by `stop()` (and killed
 * at the process's exit if a test forgot).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackage } from '../debian.js';
import { freePort } from '../ports.js';

export interface RedisServer {
  /** redis://127.0.0.1:<port>/0 */
  url: string;
  port: number;
  dir: string;
  /** Stops the server (SHUTDOWN, the AOF kept); `start()` brings it back on the same port with its data. */
  halt(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

/** Resolves when the server answers PING with PONG. */
async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      got += d.toString();
      if (got.includes('\r\n')) {
        s.destroy();
        resolve(got.startsWith('+PONG'));
      }
    });
    s.on('error', () => resolve(false));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

export async function startRedis(): Promise<RedisServer> {
  ensureDebianPackage('redis-server');
  const dir = mkdtempSync(join(tmpdir(), 'hearth-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    const c = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes',
      '--appendfsync', 'everysec', '--daemonize', 'no', '--logfile', join(dir, 'redis.log'), '--protected-mode', 'yes',
    ], { stdio: 'ignore' });
    child = c;
    children.add(c);
    c.on('exit', () => children.delete(c));
    for (let i = 0; i < 200; i++) {
      if (c.exitCode !== null) throw new Error(`redis-server exited with ${c.exitCode}: see ${join(dir, 'redis.log')}`);
      if (await ping(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not answer on port ${port}: see ${join(dir, 'redis.log')}`);
  };
  const halt = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    await exited;
    child = null;
  };
  try {
    await start();
  } catch (e) {
    (child as ChildProcess | null)?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    url: `redis://127.0.0.1:${port}/0`, port, dir, halt, start,
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
