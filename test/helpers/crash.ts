/** A Hearth server in a child process (test/helpers/server-main.ts), to kill -9 in crash tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { request, type ClientRequest } from 'node:http';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { fsck, type FsckEntry } from '../../src/files/fsck.js';
import { createHearth } from '../../src/server/compose.js';
import { childScript } from './child-script.js';
import { testConfig } from './hearth.js';

export interface Started { child: ChildProcess; port: number; domain: string; token: string }

/**
 * Spawns the server on `dataDir` (and `port`, 0 for any; `env` added to this process's). `ahead`: it loads its modules
 * now and opens the data directory only at `start()`; else at once. `start()` resolves once it listens.
 */
function spawnServer(dataDir: string, port: number, env: NodeJS.ProcessEnv, ahead: boolean): { child: ChildProcess; start(): Promise<Started> } {
  const child = spawn(process.execPath, [childScript('test/helpers/server-main.ts'), dataDir, String(port)], {
    stdio: [ahead ? 'pipe' : 'ignore', 'pipe', 'inherit'], env: { ...process.env, ...env, ...(ahead ? { HEARTH_WAIT_GO: '1' } : {}) },
  });
  const listening = new Promise<Started>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', (line) => resolve({ child, ...(JSON.parse(line) as Omit<Started, 'child'>) }));
    child.once('exit', (code) => reject(new Error(`server exited early with ${code}`)));
  });
  listening.catch(() => undefined); // until start() is called
  return { child, start: () => (ahead && child.stdin?.end('go\n'), listening) };
}

/** Starts the server on `dataDir` (and `port`, 0 for any; `env` added to this process's); resolves once it listens. */
export function startServer(dataDir: string, port = 0, env: NodeJS.ProcessEnv = {}): Promise<Started> {
  return spawnServer(dataDir, port, env, false).start();
}

/**
 * Servers on `dataDir` killed at `points`, one after the other: each next one is spawned as soon as the one before
 * died (or at once, the first), so that it loads its modules while the test works on the data directory, and opens it
 * at its turn. Each call of `next(ask)` starts the next server, makes the request `ask` that reaches its crash point,
 * and resolves once it killed itself there (SIGKILL, checked). `close()` ends a server spawned and not used.
 */
export function crashChain(dataDir: string, port: number, points: string[], env: NodeJS.ProcessEnv = {}): { next(ask: (s: Started) => Promise<unknown>): Promise<void>; close(): void } {
  const left = [...points];
  const arm = () => {
    const point = left.shift();
    return point === undefined ? null : { point, server: spawnServer(dataDir, port, { ...env, HEARTH_CRASH_POINT: point }, true) };
  };
  let armed = arm();
  return {
    async next(ask) {
      if (!armed) throw new Error('no crash point left');
      const { point, server } = armed;
      armed = null;
      try {
        await killedAt(point, await server.start(), ask);
      } finally {
        armed = arm();
      }
    },
    close() {
      armed?.server.child.kill('SIGKILL');
      armed = null;
    },
  };
}

/** Makes the request `ask` that reaches the crash point `point` of `s`, and resolves once `s` killed itself there (SIGKILL, checked). */
async function killedAt(point: string, s: Started, ask: (s: Started) => Promise<unknown>): Promise<void> {
  const exited = new Promise((r) => s.child.once('exit', r));
  await ask(s).catch(() => undefined); // the connection dies with the server
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise((r) => (timer = setTimeout(r, 30_000)));
  await Promise.race([exited, late]);
  clearTimeout(timer);
  if (s.child.exitCode === null && s.child.signalCode === null) {
    s.child.kill('SIGKILL');
    throw new Error(`the server never reached ${point}`);
  }
  if (s.child.signalCode !== 'SIGKILL') throw new Error(`the server did not die at ${point}: ${s.child.exitCode ?? s.child.signalCode}`);
}

/** Stops a server cleanly and waits for its exit. */
export function stopServer(s: Started): Promise<void> {
  return new Promise((resolve) => {
    if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
    s.child.once('exit', () => resolve());
    s.child.kill('SIGTERM');
  });
}

const MiB = 1024 * 1024;

/**
 * A large upload to `s` (`name` in the root, `size` bytes announced), fed 1 MiB at a time as fast as the server takes
 * it; `sent()` says how much it took so far, `feeding` ends when all is sent or the connection died.
 */
export function feedUpload(s: Started, name: string, size: number): { req: ClientRequest; sent: () => number; feeding: Promise<void> } {
  const req = request({
    host: '127.0.0.1', port: s.port, method: 'POST', path: `/files/io.cozy.files.root-dir?Type=file&Name=${encodeURIComponent(name)}`,
    headers: { host: s.domain, authorization: `Bearer ${s.token}`, 'content-type': 'application/octet-stream', 'content-length': String(size) },
  });
  req.on('error', () => undefined); // the connection dies with the server
  const chunk = Buffer.alloc(MiB, 7);
  let sent = 0;
  const feeding = (async () => {
    while (sent < size && !req.destroyed) {
      if (!req.write(chunk)) await new Promise((r) => (req.once('drain', r), req.once('close', r)));
      sent += MiB;
    }
  })();
  return { req, sent: () => sent, feeding };
}

/** What fsck finds on the instance at `domain` of `dataDir`, read by a Hearth of this process (the server stopped). */
export async function fsckOf(dataDir: string, domain: string): Promise<FsckEntry[]> {
  const hearth = await createHearth(testConfig(dataDir), pino({ level: 'silent' }));
  try {
    const instance = await hearth.registry.get(domain);
    if (!instance) throw new Error(`no instance ${domain} in ${dataDir}`);
    return await fsck(hearth.vfs.fs, instance);
  } finally {
    await hearth.close();
  }
}

/**
 * A folder copy (POST /files/:id/copy) of `s`'s instance with its NDJSON progress; resolves with the first progress
 * line `until` accepts, rejects if the copy ends before. The connection is left as it is (a kill cuts it).
 */
export function copyUntil(s: Pick<Started, 'port' | 'domain' | 'token'>, id: string, until: (line: Record<string, number>) => boolean): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.port, method: 'POST', path: `/files/${id}/copy`, headers: { host: s.domain, authorization: `Bearer ${s.token}`, accept: 'application/x-ndjson' } }, (res) => {
      let buf = '';
      res.on('data', (c: Buffer) => {
        buf += c.toString('utf8');
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const line = JSON.parse(buf.slice(0, i)) as Record<string, number> & { type: string };
          buf = buf.slice(i + 1);
          if (line.type !== 'progress') return reject(new Error(`the copy ended before the kill: ${JSON.stringify(line)}`));
          if (until(line)) return resolve(line);
        }
      });
    });
    req.on('error', () => undefined); // the connection dies with the server
    req.end();
  });
}
