/**
 * A private OpenStack Swift for tests, from Debian's packages (swift-proxy, -account, -container, -object, memcached):
 * one device in a temporary folder, replicas 1, rings built here, tempauth (user `test:tester`, key `testing`), and the
 * s3api middleware in the proxy (before tempauth, as Swift's docs ask), so that one real server tests both the native
 * API and S3 (access key `test:tester`, secret `testing`). Loopback, private ports, memcached on its own port (tempauth
 * keeps its tokens there). Each server runs with `workers = 0` (one process, no forked worker), so that a kill stops it
 * whole. `halt()`/`start()` stop and restart every server with its data; `stop()` also removes the folder; whatever a
 * test forgot is killed at the process's exit.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureDebianPackage } from '../debian.js';
import { freePort } from '../ports.js';

export interface SwiftServer {
  /** http://127.0.0.1:<proxy>/auth/v1.0 */
  authUrl: string;
  user: string;
  key: string;
  s3: { endpoint: string; accessKeyId: string; secretAccessKey: string; region: string };
  dir: string;
  /** Stops every server (the data stays); `start()` brings them back on the same ports. */
  halt(): Promise<void>;
  start(): Promise<void>;
  /** Stops every server and removes the folder. */
  stop(): Promise<void>;
}

const execFileP = promisify(execFile);
const children = new Set<ChildProcess>();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

const SERVERS = ['account', 'container', 'object', 'proxy'] as const;
type Ports = Record<(typeof SERVERS)[number] | 'memcached', number>;

const common = (dir: string, port: number) => `[DEFAULT]
devices = ${dir}/srv/node
mount_check = false
disable_fallocate = true
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
user = root
swift_dir = ${dir}/etc
log_level = WARNING
`;

const backend = (dir: string, port: number, kind: string) => `${common(dir, port)}
[pipeline:main]
pipeline = healthcheck ${kind}-server
[app:${kind}-server]
use = egg:swift#${kind}
[filter:healthcheck]
use = egg:swift#healthcheck
`;

const proxy = (dir: string, ports: Ports) => `${common(dir, ports.proxy)}
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
allow_account_management = true
account_autocreate = true
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
s3_acl = false
[filter:tempauth]
use = egg:swift#tempauth
user_admin_admin = admin .admin .reseller_admin
user_test_tester = testing .admin
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:${ports.memcached}
${['catch_errors', 'gatekeeper', 'healthcheck', 'proxy-logging', 'listing_formats', 'copy', 'dlo', 'slo']
    .map((f) => `[filter:${f}]\nuse = egg:swift#${f.replace('-', '_')}\n`).join('')}`;

/**
 * The three rings (one device, one replica, 2^8 partitions), built by swift's own RingBuilder in one Python process:
 * what `swift-ring-builder <kind>.builder create 8 1 1`, `add` and `rebalance` do, without importing swift nine
 * times (each import is 1-8 s of CPU on a busy machine). Debian's python3, which has the swift package.
 */
const RINGS_PY = `
import sys
from swift.common.ring import RingBuilder
etc = sys.argv[1]
for kind, port in zip(('account', 'container', 'object'), sys.argv[2:5]):
    b = RingBuilder(8, 1, 1)
    b.add_dev({'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': int(port), 'device': 'd1', 'weight': 100})
    b.rebalance()
    b.save('%s/%s.builder' % (etc, kind))
    b.get_ring().save('%s/%s.ring.gz' % (etc, kind))
`;

async function buildRings(etc: string, ports: Ports): Promise<void> {
  await execFileP('/usr/bin/python3', ['-c', RINGS_PY, etc, String(ports.account), String(ports.container), String(ports.object)], { timeout: 240_000 });
}

/** Writes the configuration and builds the three rings. */
async function configure(dir: string, ports: Ports): Promise<void> {
  const etc = join(dir, 'etc');
  for (const d of [etc, join(dir, 'srv', 'node', 'd1'), join(dir, 'log')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(etc, 'swift.conf'), '[swift-hash]\nswift_hash_path_prefix = hearth-test\nswift_hash_path_suffix = hearth-test\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n');
  for (const kind of ['account', 'container', 'object'] as const) writeFileSync(join(etc, `${kind}-server.conf`), backend(dir, ports[kind], kind));
  writeFileSync(join(etc, 'proxy-server.conf'), proxy(dir, ports));
  await buildRings(etc, ports);
}

/** Whether the Swift server at `url` (its /healthcheck) answers. */
export async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

export async function startSwift(): Promise<SwiftServer> {
  const { server, ready } = await launchSwift();
  await ready;
  return server;
}

/**
 * A Swift server whose addresses are known at once, while its rings are built and its servers start: `ready` resolves
 * once every one of them answers (`healthUrls`, their /healthcheck), or rejects with why not.
 */
export async function launchSwift(): Promise<{ server: SwiftServer; ready: Promise<void>; healthUrls: string[] }> {
  for (const pkg of ['swift-proxy', 'swift-account', 'swift-container', 'swift-object', 'memcached']) ensureDebianPackage(pkg);
  const dir = mkdtempSync(join(tmpdir(), 'hearth-swift-'));
  const ports: Ports = { account: await freePort(), container: await freePort(), object: await freePort(), proxy: await freePort(), memcached: await freePort() };
  let running: ChildProcess[] = [];
  const launch = (name: string, cmd: string, args: string[]) => {
    const log = openSync(join(dir, 'log', `${name}.log`), 'a');
    const c = spawn(cmd, args, { stdio: ['ignore', log, log] });
    children.add(c);
    c.on('exit', () => children.delete(c));
    running.push(c);
    return c;
  };
  const start = async () => {
    launch('memcached', 'memcached', ['-l', '127.0.0.1', '-p', String(ports.memcached), '-U', '0', '-u', 'memcache', '-m', '32']);
    const servers = SERVERS.map((s) => [s, launch(s, `swift-${s}-server`, [join(dir, 'etc', `${s}-server.conf`)])] as const);
    // every server, not the proxy alone: a PUT right after the proxy came up got a 503
    for (const [name, child] of servers) {
      let up = false;
      // Swift's Python servers take a few seconds to start, many more on a busy machine
      for (const until = Date.now() + 240_000; Date.now() < until && !up;) {
        if (child.exitCode !== null) throw new Error(`swift-${name}-server exited with ${child.exitCode}: see ${join(dir, 'log', `${name}.log`)}`);
        up = await healthy(`http://127.0.0.1:${ports[name]}/healthcheck`);
        if (!up) await new Promise((r) => setTimeout(r, 100));
      }
      if (!up) throw new Error(`swift-${name}-server did not come up: see ${join(dir, 'log', `${name}.log`)}`);
    }
  };
  const halt = async () => {
    const stopping = running.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    }));
    running = [];
    await Promise.all(stopping);
  };
  const ready = configure(dir, ports).then(start);
  const server: SwiftServer = {
    authUrl: `http://127.0.0.1:${ports.proxy}/auth/v1.0`,
    user: 'test:tester',
    key: 'testing',
    s3: { endpoint: `http://127.0.0.1:${ports.proxy}`, accessKeyId: 'test:tester', secretAccessKey: 'testing', region: 'us-east-1' },
    dir, halt, start,
    async stop() {
      await ready.catch(() => undefined);
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return { server, ready, healthUrls: SERVERS.map((name) => `http://127.0.0.1:${ports[name]}/healthcheck`) };
}
