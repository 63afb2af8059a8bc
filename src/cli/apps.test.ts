/** `hearth apps|konnectors install|update|uninstall|ls` against a real server's admin API. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { startPackageServer, type PackageServer } from '../../test/helpers/app-packages.js';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { captureStdio } from '../../test/helpers/stdio.js';

let h: TestHearth;
let pkgs: PackageServer;
const io = captureStdio();
let env: Record<string, string>;

beforeAll(async () => {
  h = await startTestHearth();
  pkgs = await startPackageServer();
  const url = await h.hearth.adminApp.listen({ host: '127.0.0.1', port: 0 });
  env = { HEARTH_ADMIN_URL: url, HEARTH_ADMIN_PASSPHRASE: 'admin-secret' };
});
afterAll(async () => {
  await h.close();
  await pkgs.close();
});

const run = (...argv: string[]) => main(argv, env);
const app = (version: string, permissions: Record<string, unknown> = {}) => ({ 'manifest.webapp': { slug: 'todo', type: 'webapp', version, permissions }, 'index.html': '<html></html>' });

describe('hearth apps', () => {
  it('installs with progress lines, lists, updates (waiting for --permissions-acked) and uninstalls', async () => {
    const v1 = await pkgs.add('todo-1', app('1.0.0'));
    expect(await run('apps', 'install', 'todo', '--domain', h.domain, '--source', v1)).toBe(0);
    expect(io.stdout).toMatch(/Z {2}todo installing\n.*Z {2}todo ready 1\.0\.0\n$/s);

    io.stdout = '';
    expect(await run('apps', 'ls', '--domain', h.domain)).toBe(0);
    expect(io.stdout).toMatch(/SLUG +STATE +VERSION +SOURCE\ntodo +ready +1\.0\.0 +http/);

    io.stdout = '';
    const v2 = await pkgs.add('todo-2', app('2.0.0', { notes: { type: 'io.cozy.notes' } }));
    expect(await run('apps', 'update', 'todo', '--domain', h.domain, '--source', v2)).toBe(0);
    expect(io.stdout).toMatch(/todo ready 1\.0\.0 \(2\.0\.0 waits for --permissions-acked\)\n$/);
    io.stdout = '';
    expect(await run('apps', 'update', 'todo', '--domain', h.domain, '--permissions-acked', '--json')).toBe(0);
    expect(JSON.parse(io.stdout).attributes).toMatchObject({ slug: 'todo', state: 'ready', version: '2.0.0' });

    io.stdout = '';
    expect(await run('apps', 'ls', '--domain', h.domain, '--json')).toBe(0);
    expect(JSON.parse(io.stdout).map((a: { id: string }) => a.id)).toEqual(['io.cozy.apps/todo']);
    io.stdout = '';
    expect(await run('apps', 'uninstall', 'todo', '--domain', h.domain)).toBe(0);
    expect(io.stdout).toBe('todo uninstalled\n');
    io.stdout = '';
    expect(await run('konnectors', 'ls', '--domain', h.domain)).toBe(0);
    expect(io.stdout).toBe(`No konnectors on ${h.domain}.\n`);
  });

  it('exits 1 with the reason when the install fails or is refused', async () => {
    expect(await run('apps', 'install', 'todo', '--domain', h.domain, '--source', `${pkgs.url}missing.tar.gz`)).toBe(1);
    expect(io.stderr).toMatch(/failed: there is no package at .*missing\.tar\.gz \(HTTP 404\)/);
    io.stderr = '';
    expect(await run('apps', 'install', 'Bad', '--domain', h.domain, '--source', `${pkgs.url}x.tar.gz`)).toBe(1);
    expect(io.stderr).toMatch(/invalid slug "Bad".*\(HTTP 422\)/);
    io.stderr = '';
    expect(await run('apps', 'uninstall', 'todo', '--domain', h.domain)).toBe(1);
    expect(io.stderr).toMatch(/todo is not installed \(HTTP 404\)/);
  });

  it('has help with examples', async () => {
    expect(await run('konnectors', 'install', '--help')).toBe(0);
    expect(io.stdout).toMatch(/--source <source>[\s\S]*Examples:\n {2}\$ hearth konnectors install/);
  });
});
