/** `hearth serve --dev`: ports first, then the one dev instance, reachable by every loopback name, kept across ports. */
import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawRequest, testConfig } from '../../test/helpers/hearth.js';
import { captureStdio } from '../../test/helpers/stdio.js';
import { freePort } from '../../test/helpers/ports.js';
import { SqliteInstanceRegistry } from '../instances/registry-sqlite.js';
import type { HearthConfig } from '../config/types.js';
import { startHearth } from './compose.js';
import { main } from '../main.js';

const io = captureStdio();
const execFileAsync = promisify(execFile);
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-dev-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function devConfig(dir: string, port: number): HearthConfig {
  return { ...testConfig(dir), dev: true, server: { ...testConfig(dir).server, port } };
}

async function serve(config: HearthConfig) {
  const started = await startHearth(config);
  cleanups.push(() => started.close());
  return started;
}

async function instances(dir: string) {
  const registry = new SqliteInstanceRegistry(join(dir, 'registry.sqlite'));
  try {
    return await registry.list();
  } finally {
    await registry.close();
  }
}

describe('hearth serve --dev', () => {
  it('creates one instance, reachable as hearth.localhost, localhost and 127.0.0.1 on its port', async () => {
    const dir = dataDir();
    const port = await freePort();
    await serve(devConfig(dir, port));
    expect(io.stdout).toContain(`A new instance was created for http://hearth.localhost:${port} (also http://localhost:${port} and http://127.0.0.1:${port})`);
    const token = /A CLI token[^\n]*\n\s+TOKEN=(\S+)/.exec(io.stdout)?.[1] as string;
    for (const host of [`hearth.localhost:${port}`, `localhost:${port}`, `127.0.0.1:${port}`]) {
      const res = await rawRequest(port, 'GET', '/data/io.cozy.contacts/_all_docs', { host, token });
      expect(res.status, host).toBe(200);
    }
    // the banner's "Try it", pasted into a shell as printed
    const paste = /\n\s+(TOKEN=\S+)\n[\s\S]*Try it:\n\s+(curl .+)\n/.exec(io.stdout);
    const tried = await execFileAsync('bash', ['-c', `set -e; ${paste?.[1]}; ${paste?.[2]} --fail-with-body -s --max-time 20`], { encoding: 'utf8' });
    expect(JSON.parse(tried.stdout)).toMatchObject({ total_rows: 0, rows: [] });
    // the banner's own command reaches this server's admin API (on a port of its own here), with no environment
    const more = /Get more with: +node bin\/hearth\.js (.+)/.exec(io.stdout)?.[1] as string;
    expect(more).toMatch(/^instances token-cli --admin-url http:\/\/127\.0\.0\.1:\d+ hearth\.localhost:\d+ io\.cozy\.contacts$/);
    io.stdout = '';
    expect(await main(more.split(' '), {}), io.stderr).toBe(0);
    expect(io.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });

  it('binds the ports before creating anything: a busy port says how to change it and prints no passphrase', async () => {
    const dir = dataDir();
    const busy: Server = await new Promise((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => resolve(s));
    });
    cleanups.push(() => new Promise<void>((r) => busy.close(() => r())));
    const port = (busy.address() as { port: number }).port;
    await expect(startHearth(devConfig(dir, port))).rejects.toThrow(
      `port ${port} of 127.0.0.1 (the public API) is already in use (another hearth?): stop what uses it, or choose another port with --port N (or HEARTH_SERVER_PORT=N, or server.port in hearth.yaml)`,
    );
    expect(io.stdout).not.toContain('passphrase');
    expect(await instances(dir)).toEqual([]);
    const admin = { ...devConfig(dir, await freePort()), admin: { ...testConfig(dir).admin, port } };
    await expect(startHearth(admin)).rejects.toThrow(/the admin API\) is already in use.*--admin-port N \(or HEARTH_ADMIN_PORT=N/);
    expect(await instances(dir)).toEqual([]);
  });

  it('serves the same instance after a restart on another port, and says so', async () => {
    const dir = dataDir();
    const first = await freePort();
    const a = await serve(devConfig(dir, first));
    const token = /A CLI token[^\n]*\n\s+TOKEN=(\S+)/.exec(io.stdout)?.[1] as string;
    const created = await rawRequest(first, 'POST', '/data/io.cozy.contacts/', { host: `localhost:${first}`, token, body: { fullname: 'Ada' } });
    expect(created.status).toBe(201);
    await a.close();
    io.stdout = '';
    const second = await freePort();
    await serve(devConfig(dir, second));
    expect(io.stdout).not.toContain('passphrase (shown once');
    expect(io.stdout).toContain(`The dev instance http://hearth.localhost:${first} (created on another port; same data, same passphrase) is served here as http://hearth.localhost:${second}, http://localhost:${second}, http://127.0.0.1:${second}`);
    const list = await rawRequest(second, 'GET', '/data/io.cozy.contacts/_all_docs?include_docs=true', { host: `hearth.localhost:${second}`, token });
    expect(list.body.rows.map((r: { doc: { fullname: string } }) => r.doc.fullname)).toEqual(['Ada']);
    expect((await instances(dir)).map((i) => i.domain)).toEqual([`hearth.localhost:${first}`]);
  });

  it('adopts the dev instance of a data directory made before the marker existed', async () => {
    const dir = dataDir();
    const registry = new SqliteInstanceRegistry(join(dir, 'registry.sqlite'), { kdfIterations: 1000 });
    await registry.create({ domain: 'hearth.localhost:8080', passphrase: 'owner passphrase' });
    await registry.close();
    const port = await freePort();
    await serve(devConfig(dir, port));
    expect(io.stdout).toContain(`The dev instance http://hearth.localhost:8080 (created on another port; same data, same passphrase) is served here as http://hearth.localhost:${port}`);
    expect((await instances(dir)).map((i) => i.domain)).toEqual(['hearth.localhost:8080']);
    expect(JSON.parse(readFileSync(join(dir, 'dev-instance.json'), 'utf8'))).toMatchObject({ domain: 'hearth.localhost:8080' });
  });
});
