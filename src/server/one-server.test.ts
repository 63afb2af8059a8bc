/**
 * One server per data directory with the embedded engines (common/data-dir-lock.ts): real `hearth serve` processes
 * (bin/hearth.js: `npm run build` first) on one directory, the second refused with who holds it and what to do; the
 * holder killed with SIGKILL leaves the directory to the next start at once. In this process: the lock is put back
 * by close(), and a configuration on PostgreSQL and Redis takes none (two processes started on one directory with
 * those engines: files/copy-journal-pg.test.ts, on local blobs and on Swift).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirInUse, keptAlone, lockDataDir } from '../common/data-dir-lock.js';
import { DEFAULTS } from '../config/schema.js';
import { freePort } from '../../test/helpers/ports.js';
import { testConfig } from '../../test/helpers/hearth.js';
import { createHearth } from './compose.js';

const BIN = fileURLToPath(new URL('../../bin/hearth.js', import.meta.url));
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'hearth-one-server-'));
  dirs.push(d);
  return d;
};
const children: Array<{ kill(signal: NodeJS.Signals): boolean; exitCode: number | null; signalCode: string | null }> = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Served { pid: number; stdout: string; stderr: string; listening: Promise<boolean>; exited: Promise<{ code: number | null; signal: string | null }>; kill(signal: NodeJS.Signals): void }

/** `hearth serve` on `dataDir` (its own ports); `listening` resolves true once it says so, false if it exits first. */
async function serve(dataDir: string, dev = false, env: Record<string, string> = {}): Promise<Served> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [BIN, 'serve', ...(dev ? ['--dev'] : []), '--port', String(port), '--admin-port', String(adminPort), '--data-dir', dataDir], {
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HEARTH_ADMIN_PASSPHRASE: 'one-server', HEARTH_LOG_LEVEL: 'warn',
      HEARTH_MAIL_MODE: 'outbox', HEARTH_APPS_BUILTIN_REGISTRY: '', HEARTH_APPS_REGISTRIES: '', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const s: Served = {
    pid: child.pid!, stdout: '', stderr: '', kill: (signal) => void child.kill(signal),
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
    listening: new Promise((resolve) => {
      child.stdout.on('data', (c: Buffer) => {
        s.stdout += c.toString();
        if (s.stdout.includes('hearth is listening')) resolve(true);
      });
      child.on('exit', () => resolve(false));
    }),
  };
  child.stderr.on('data', (c: Buffer) => (s.stderr += c.toString()));
  return s;
}

describe('a start that fails', () => {
  it('ends the process with its error: the Redis client and the pool it opened do not keep it running', async () => {
    // nothing listens on these ports: the start fails on PostgreSQL, while the Redis client would reconnect for ever
    const [pgPort, redisPort] = [await freePort(), await freePort()];
    const failed = await serve(tmp(), false, {
      HEARTH_DOCS_ENGINE: 'postgres', HEARTH_DOCS_URL: `postgres://hearth@127.0.0.1:${pgPort}/hearth`,
      HEARTH_COORDINATION_ENGINE: 'redis', HEARTH_COORDINATION_URL: `redis://127.0.0.1:${redisPort}`,
    });
    expect(await failed.listening).toBe(false);
    expect(await failed.exited).toEqual({ code: 1, signal: null });
    expect(failed.stderr).toMatch(/error: .*ECONNREFUSED/);
  });
});

describe('one hearth serve per data directory (embedded engines)', () => {
  it('refuses a second server on the directory, naming the holder; after a SIGKILL of the holder a new one starts at once', async () => {
    const dir = tmp();
    const first = await serve(dir);
    expect(await first.listening).toBe(true);
    const second = await serve(dir, true);
    expect(await second.exited).toEqual({ code: 1, signal: null });
    expect(second.stderr).toContain(`error: ${dir} is in use by hearth serve (pid ${first.pid}, since `);
    expect(second.stderr).toContain(`stop that one (kill ${first.pid}), or start this one on another directory (--data-dir DIR or HEARTH_DATA_DIR), or use the scale-out engines (docs.engine postgres and coordination.engine redis: see README, Scale-out)`);
    expect(second.stdout).toBe(''); // neither listening nor a passphrase
    first.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const third = await serve(dir);
    expect(await third.listening).toBe(true);
    third.kill('SIGTERM');
    expect(await third.exited, third.stderr).toEqual({ code: 0, signal: null });
  });

  it('is refused before it opens anything or prints the first start\'s passphrase', async () => {
    const dir = tmp();
    const release = lockDataDir(dir, 'hearth restore');
    try {
      const s = await serve(dir, true);
      expect(await s.exited).toEqual({ code: 1, signal: null });
      expect(s.stderr).toContain(`${dir} is in use by hearth restore (pid ${process.pid}, since `);
      expect(s.stdout).not.toContain('passphrase');
      expect(readdirSync(dir).sort()).toEqual(['hearth.lock', 'hearth.lock.owner']);
    } finally {
      release();
    }
    expect(readdirSync(dir)).toEqual(['hearth.lock']); // the owner's name goes with the hold
  });

  it('in one process too: a second Hearth on the directory is refused until the first is closed', async () => {
    const dir = tmp();
    const config = testConfig(dir);
    const first = await createHearth(config, pino({ level: 'silent' }));
    let closed = false;
    try {
      const refused = await createHearth(config, pino({ level: 'silent' })).then(() => null, (e: unknown) => e);
      expect(refused).toBeInstanceOf(DataDirInUse);
      expect((refused as DataDirInUse).holder).toMatchObject({ pid: process.pid, command: 'hearth serve' });
      await first.close();
      closed = true;
      const again = await createHearth(config, pino({ level: 'silent' }));
      await again.close();
    } finally {
      if (!closed) await first.close();
    }
  });

  it('says which file it could not take when the lock cannot be opened', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'hearth.lock'));
    expect(() => lockDataDir(dir, 'hearth serve')).toThrow(`could not take ${join(dir, 'hearth.lock')}, the lock of one server per data directory: `);
  });

  it('takes the directory when a process keeps state alone in it: SQLite or the in-memory coordination, not on PostgreSQL and Redis', () => {
    const d = structuredClone(DEFAULTS);
    const pg = { ...d.docs, engine: 'postgres' as const, url: 'postgres://db/hearth' };
    const redis = { ...d.coordination, engine: 'redis' as const, url: 'redis://cache' };
    expect(keptAlone(d)).toEqual(["documents and the server's state (docs.engine sqlite)", 'the bus, locks and limits (coordination.engine memory)']);
    expect(keptAlone({ docs: d.docs, coordination: redis })).toEqual(["documents and the server's state (docs.engine sqlite)"]);
    expect(keptAlone({ docs: pg, coordination: d.coordination })).toEqual(['the bus, locks and limits (coordination.engine memory)']);
    // whatever the blobs' engine: two processes on one directory, PostgreSQL, Redis and local blobs, in files/copy-journal-pg.test.ts
    expect(keptAlone({ docs: pg, coordination: redis })).toEqual([]);
  });
});
