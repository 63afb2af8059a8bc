/**
 * HAProxy from Debian's package in front of test `hearth` processes, started from the README's example configuration
 * (docs/examples/haproxy.cfg) with only its addresses replaced: the test proves the example works as written.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackage } from '../debian.js';
import { freePort } from '../ports.js';

export const EXAMPLE_CONFIG = fileURLToPath(new URL('../../../docs/examples/haproxy.cfg', import.meta.url));

export interface HaproxyServer {
  port: number;
  url: string;
  /** The configuration it runs (the example with this test's ports). */
  config: string;
  /** Its folder (the configuration file), removed by stop(). */
  dir: string;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

/** The example configuration, listening on `port` and balancing over the hearth processes on `backends` (loopback ports). */
export function exampleConfig(port: number, backends: number[]): string {
  const example = readFileSync(EXAMPLE_CONFIG, 'utf8');
  const servers = backends.map((p, i) => `    server hearth${i + 1} 127.0.0.1:${p} check inter 1s fall 3 rise 1`).join('\n');
  const replaced = example
    .replace(/^\s*bind :80$/m, `    bind 127.0.0.1:${port}`)
    .replace(/(^\s*server hearth\d .*\n?)+/m, `${servers}\n`);
  if (replaced === example || !replaced.includes(`127.0.0.1:${port}`)) throw new Error('docs/examples/haproxy.cfg changed: update exampleConfig()');
  return replaced;
}

/** `port`: where it listens (default: a free port). A start that fails leaves nothing behind (process, folder). */
export async function startHaproxy(backends: number[], port?: number): Promise<HaproxyServer> {
  ensureDebianPackage('haproxy');
  const dir = mkdtempSync(join(tmpdir(), 'hearth-haproxy-'));
  let child: ChildProcess | null = null;
  const stop = async () => {
    const c = child;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    port ??= await freePort();
    const config = exampleConfig(port, backends);
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, config);
    const check = spawn('haproxy', ['-c', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let checkOut = '';
    check.stdout.on('data', (d: Buffer) => (checkOut += d.toString()));
    check.stderr.on('data', (d: Buffer) => (checkOut += d.toString()));
    const checked = await new Promise<number | null>((resolve) => check.on('exit', resolve));
    if (checked !== 0) throw new Error(`haproxy -c refused the configuration:\n${checkOut}`);
    let log = '';
    const c = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    children.add(c);
    c.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    c.on('exit', () => children.delete(c));
    for (let i = 0; ; i++) {
      if (c.exitCode !== null) throw new Error(`haproxy exited with ${c.exitCode}: ${log}`);
      const up = await new Promise<boolean>((resolve) => {
        const s = connect(port!, '127.0.0.1', () => (s.destroy(), resolve(true)));
        s.on('error', () => resolve(false));
      });
      if (up) break;
      if (i > 200) throw new Error(`haproxy did not listen on ${port}: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { port, url: `http://127.0.0.1:${port}`, config, dir, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
