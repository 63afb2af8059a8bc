import { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verify } from '@node-rs/argon2';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../main.js';
import { parseBytes } from './io.js';
import { runServer } from './serve.js';
import { adminApp, type AdminFixture } from './testing/admin-fixture.js';
import { captureStdio } from '../../test/helpers/stdio.js';

let fx: AdminFixture;
const io = captureStdio();
let env: Record<string, string>;

beforeAll(async () => {
  fx = await adminApp();
  const url = await fx.app.listen({ host: '127.0.0.1', port: 0 });
  env = { HEARTH_ADMIN_URL: url, HEARTH_ADMIN_PASSPHRASE: 'admin-secret' };
});
afterAll(() => fx.app.close());

const run = (...argv: string[]) => main(argv, env);

describe('hearth instances', () => {
  it('adds, lists, shows, modifies and destroys an instance', async () => {
    expect(await run('instances', 'add', 'Alice.Example.org', '--email', 'a@example.org', '--disk-quota', '10GB', '--domain-aliases', 'alice.test, alice2.test')).toBe(0);
    expect(io.stdout).toMatch(/^Instance created for alice\.example\.org/);
    // no --passphrase: the owner's registration link, printed once
    expect(io.stdout).toMatch(/\nOpen this link to choose the passphrase: https:\/\/alice\.example\.org\/auth\/passphrase\?registerToken=[0-9a-f]{32}\n$/);
    expect(await fx.registry.get('alice.example.org')).toMatchObject({ diskQuota: 10e9, aliases: ['alice.test', 'alice2.test'], email: 'a@example.org' });

    io.stdout = '';
    expect(await run('instances', 'ls', '--json')).toBe(0);
    const list = JSON.parse(io.stdout) as Array<{ attributes: { domain: string } }>;
    expect(list.map((i) => i.attributes.domain)).toContain('alice.example.org');

    io.stdout = '';
    expect(await run('instances', 'ls')).toBe(0);
    expect(io.stdout).toMatch(/^DOMAIN\s+LOCALE\s+EMAIL\s+QUOTA\s+ONBOARDED\s+CREATED\n/);
    expect(io.stdout).toMatch(/alice\.example\.org\s+en\s+a@example\.org\s+10 GB\s+no/);

    io.stdout = '';
    expect(await run('instances', 'modify', 'alice.example.org', '--public-name', 'Alice', '--email', '', '--json')).toBe(0);
    expect(JSON.parse(io.stdout).attributes).toMatchObject({ public_name: 'Alice', email: null });
    expect(await run('instances', 'modify', 'alice.example.org')).toBe(2);
    expect(io.stderr).toMatch(/nothing to modify/);

    io.stdout = '';
    expect(await run('instances', 'modify', 'alice.example.org', '--context-name', 'beta', '--tos-latest', '2.0.0-20270101', '--json')).toBe(0);
    expect(JSON.parse(io.stdout).attributes).toMatchObject({ context_name: 'beta', tos_latest: '2.0.0-20270101', tos_signed: null });

    io.stdout = '';
    expect(await run('instances', 'show', 'alice.example.org')).toBe(0);
    expect(io.stdout).toMatch(/public name:\s+Alice/);
    expect(io.stdout).toMatch(/context:\s+beta\n/);
    expect(io.stdout).toMatch(/latest terms:\s+2\.0\.0-20270101\n/);

    io.stderr = '';
    expect(await run('instances', 'destroy', 'alice.example.org')).toBe(2);
    expect(io.stderr).toMatch(/pass --force/);
    expect(await run('instances', 'destroy', 'alice.example.org', '--force')).toBe(0);
    expect(await fx.registry.get('alice.example.org')).toBeNull();
  });

  it('prints admin API errors with their message', async () => {
    expect(await run('instances', 'add', 'bob.example.org')).toBe(0);
    expect(await run('instances', 'add', 'bob.example.org')).toBe(1);
    expect(io.stderr).toMatch(/^error: an instance already exists for bob\.example\.org \(HTTP 409\)/);
    io.stderr = '';
    expect(await run('instances', 'show', 'nobody.example.org')).toBe(1);
    expect(io.stderr).toMatch(/no instance for nobody\.example\.org/);
    io.stderr = '';
    expect(await main(['instances', 'ls'], { HEARTH_ADMIN_URL: env.HEARTH_ADMIN_URL as string })).toBe(1);
    expect(io.stderr).toMatch(/HTTP 401[\s\S]*hint: set HEARTH_ADMIN_PASSPHRASE/);
  });

  it('mints tokens and prints just the token', async () => {
    await run('instances', 'add', 'carol.example.org');
    const instance = (await fx.registry.get('carol.example.org'))!;
    io.stdout = '';
    expect(await run('instances', 'token-cli', 'carol.example.org', 'io.cozy.files', 'io.cozy.contacts')).toBe(0);
    expect(io.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(await fx.tokens.verify(instance, io.stdout.trim())).toMatchObject({ aud: 'cli', scope: 'io.cozy.files io.cozy.contacts' });
    io.stdout = '';
    expect(await run('instances', 'token-app', 'carol.example.org', 'drive', '--scope', 'io.cozy.files')).toBe(0);
    expect(await fx.tokens.verify(instance, io.stdout.trim())).toMatchObject({ aud: 'app', sub: 'drive' });
    expect(io.stderr).toContain('-H "Cookie: cozysessid=test-session-cookie"');
    expect(fx.grants).toContainEqual({ domain: 'carol.example.org', kind: 'app', slug: 'drive', scope: 'io.cozy.files' });
    io.stdout = '';
    expect(await run('instances', 'token-konnector', 'carol.example.org', 'bank-x', '--scope', 'io.cozy.bank.*')).toBe(0);
    expect(await fx.tokens.verify(instance, io.stdout.trim())).toMatchObject({ aud: 'konn', sub: 'bank-x' });
    expect(fx.grants).toContainEqual({ domain: 'carol.example.org', kind: 'konnector', slug: 'bank-x', scope: 'io.cozy.bank.*' });
  });
});

describe('hearth instances: the public API\'s checks', () => {
  it('creates instances named localhost:<port>, an IPv4 or a bracketed IPv6 address', async () => {
    for (const domain of ['localhost:8080', '127.0.0.1:8080', '[::1]:8080']) {
      expect(await run('instances', 'add', domain, '--passphrase', 'correct horse'), io.stderr).toBe(0);
      expect(await fx.registry.get(domain)).toMatchObject({ domain, onboarded: true });
    }
  });

  it('refuses a weak passphrase, a bad e-mail, time zone, locale or scope with exit code 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['instances', 'add', 'frank.example.org', '--passphrase', 'short'], /"passphrase" must have at least 8 characters/],
      [['instances', 'add', 'frank.example.org', '--email', 'frank'], /"email" must be a mail address/],
      [['instances', 'add', 'frank.example.org', '--tz', 'Mars/Olympus'], /"tz" must be an IANA time zone/],
      [['instances', 'add', 'frank.example.org', '--locale', 'klingon'], /"locale" must be one of en, fr/],
      [['instances', 'modify', 'frank.example.org', '--tz', '+02:00'], /"tz" must be an IANA time zone/],
      [['instances', 'add', 'frank.example.org', '--context-name', '../etc'], /a context name is letters, digits/],
      [['instances', 'add', 'frank.example.org', '--tos-latest', 'soon'], /a terms version is A\.B\.C-YYYYMMDD/],
      [['instances', 'token-cli', 'frank.example.org', 'io.cozy.files:FETCH'], /invalid verb "FETCH"/],
      [['instances', 'token-app', 'frank.example.org', 'drive', '--scope', 'Bad Scope'], /invalid permission type "Bad"/],
    ];
    for (const [argv, message] of cases) {
      io.stderr = '';
      expect(await run(...argv), argv.join(' ')).toBe(2);
      expect(io.stderr, argv.join(' ')).toMatch(message);
    }
    expect(await fx.registry.get('frank.example.org')).toBeNull();
    expect(await run('instances', 'add', 'frank.example.org', '--tz', 'Europe/Paris', '--locale', 'fr', '--email', 'frank@example.org')).toBe(0);
  });
});

describe('the admin API the CLI talks to', () => {
  it('is found from HEARTH_ADMIN_PORT or the configuration file, as `hearth serve` finds it', async () => {
    const port = Number(new URL(env.HEARTH_ADMIN_URL as string).port);
    expect(await main(['instances', 'ls', '--json'], { HEARTH_ADMIN_PORT: String(port), HEARTH_ADMIN_PASSPHRASE: 'admin-secret' }), io.stderr).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'hearth-cli-'));
    writeFileSync(join(dir, 'hearth.yaml'), `admin:\n  port: ${port}\n  passphrase: admin-secret\n`);
    io.stdout = '';
    expect(await main(['status', '--json', '--config', join(dir, 'hearth.yaml')], {}), io.stderr).toBe(0);
    expect(JSON.parse(io.stdout)).toMatchObject({ status: 'OK' });
    expect(await main(['instances', 'ls'], { HEARTH_CONFIG: join(dir, 'hearth.yaml') }), io.stderr).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('hearth instances fsck', () => {
  it('says the file system is sound, lists an orphan content, and removes it with --clean', async () => {
    await run('instances', 'add', 'erin.example.org');
    const instance = (await fx.registry.get('erin.example.org'))!;
    await fx.vfs.fs.upload(instance, { dirId: 'io.cozy.files.root-dir', name: 'kept.txt', body: Readable.from([Buffer.from('kept')]) });
    io.stdout = '';
    expect(await run('instances', 'fsck', 'erin.example.org')).toBe(0);
    expect(io.stdout).toBe('The file system of erin.example.org is sound.\n');
    const orphan = await fx.vfs.fs.blobs.write(instance.id, Readable.from([Buffer.from('cut by a crash')]), { maxBytes: 100 });
    io.stdout = '';
    expect(await run('instances', 'fsck', 'erin.example.org')).toBe(0);
    expect(io.stdout).toMatch(new RegExp(`^PROBLEM\\s+ENTRY\\s+NOTE\\nindex_missing\\s+content ${orphan.key}\\s+run again with --clean to remove it\\n1 problem\\(s\\) found\\.\\n$`));
    io.stdout = '';
    expect(await run('instances', 'fsck', 'erin.example.org', '--clean', '--json')).toBe(0);
    expect(JSON.parse(io.stdout.trim())).toMatchObject({ type: 'index_missing', blob: { key: orphan.key, removed: true } });
    io.stdout = '';
    expect(await run('instances', 'fsck', 'erin.example.org')).toBe(0);
    expect(io.stdout).toMatch(/is sound/);
    expect(await run('instances', 'fsck', 'nobody.example.org')).toBe(1);
  });
});

describe('usage', () => {
  it('prints help with a description and examples', async () => {
    expect(await run('instances', 'add', '--help')).toBe(0);
    expect(io.stdout).toMatch(/Usage: hearth instances add \[options\] <domain>/);
    expect(io.stdout).toMatch(/create an instance/);
    expect(io.stdout).toMatch(/--disk-quota <bytes>/);
    expect(io.stdout).toMatch(/Examples:\n {2}\$ hearth instances add/);
  });

  it('exits 2 on a wrong or missing argument, saying what is expected', async () => {
    expect(await run('instances', 'add')).toBe(2);
    expect(io.stderr).toMatch(/missing required argument 'domain'/);
    for (const argv of [
      ['instances', 'add', 'not_a_domain'],
      ['instances', 'add', 'dan.example.org', '--disk-quota', '10XB'],
      ['instances', 'token-cli', 'dan.example.org'],
      ['instances', 'frobnicate'],
      ['instances', 'ls', 'extra'],
      [],
      ['serve', '--port', 'abc'],
    ]) {
      io.stderr = '';
      expect(await run(...argv), argv.join(' ')).toBe(2);
      expect(io.stderr, argv.join(' ')).not.toBe('');
    }
    io.stderr = '';
    await run('instances', 'add', 'dan.example.org', '--disk-quota', '10XB');
    expect(io.stderr).toMatch(/expected a size in bytes such as/);
  });

  it('says when the admin API cannot be reached', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    expect(await main(['instances', 'ls'], { HEARTH_ADMIN_URL: `http://127.0.0.1:${port}` })).toBe(1);
    expect(io.stderr).toBe(`error: cannot reach the admin API at http://127.0.0.1:${port} (ECONNREFUSED): is \`hearth serve\` running?\n`);
  });

  it('parses sizes', () => {
    expect(parseBytes('10GB')).toBe(10e9);
    expect(parseBytes('512MiB')).toBe(512 * 2 ** 20);
    expect(parseBytes('1234')).toBe(1234);
    expect(parseBytes('unlimited')).toBeNull();
  });
});

describe('status, version, config', () => {
  it('prints the status and version as JSON', async () => {
    expect(await run('status', '--json')).toBe(0);
    expect(JSON.parse(io.stdout)).toMatchObject({ status: 'OK' });
    io.stdout = '';
    expect(await run('version', '--json')).toBe(0);
    expect(JSON.parse(io.stdout)).toMatchObject({ version: '0.1.0', server: { version: '0.1.0', build_mode: 'test' } });
  });

  it('shows the effective configuration with secrets masked', async () => {
    expect(await main(['config', 'show', '--json', '--port', '9999'], { HEARTH_ADMIN_PASSPHRASE: 'hunter2' })).toBe(0);
    const shown = JSON.parse(io.stdout);
    expect(shown.server.port).toBe(9999);
    expect(shown.admin.passphrase).toBe('********');
    expect(io.stdout).not.toContain('hunter2');
    expect(await main(['config', 'show'], { HEARTH_SERVER_PORT: '0' })).toBe(2);
    expect(io.stderr).toMatch(/HEARTH_SERVER_PORT: server\.port must be an integer between 1 and 65535/);
  });

  it('hashes a passphrase with argon2id', async () => {
    expect(await run('config', 'passwd', '--passphrase', 'correct horse')).toBe(0);
    const hashed = io.stdout.trim();
    expect(hashed).toMatch(/^\$argon2id\$/);
    expect(await verify(hashed, 'correct horse')).toBe(true);
  });
});

describe('serve', () => {
  it('closes once on the first SIGTERM/SIGINT and resolves 0', async () => {
    const signals = new EventEmitter();
    const close = vi.fn(async () => {});
    const done = runServer(async () => ({ publicUrl: 'http://0.0.0.0:8080', adminUrl: 'http://127.0.0.1:6060', close }), signals);
    await vi.waitFor(() => expect(signals.listenerCount('SIGTERM')).toBe(1));
    signals.emit('SIGTERM', 'SIGTERM');
    signals.emit('SIGINT', 'SIGINT');
    expect(await done).toBe(0);
    expect(close).toHaveBeenCalledTimes(1);
    expect(signals.listenerCount('SIGINT')).toBe(0);
    expect(io.stdout).toMatch(/listening on http:\/\/0\.0\.0\.0:8080/);
  });

  it('hears a signal from before the start: one during the start closes the servers once started, without the listening line', async () => {
    const signals = new EventEmitter();
    const close = vi.fn(async () => {});
    let started: () => void = () => {};
    const done = runServer(() => new Promise((resolve) => (started = () => resolve({ publicUrl: 'http://127.0.0.1:9090', adminUrl: 'http://127.0.0.1:6060', close }))), signals);
    expect(signals.listenerCount('SIGTERM')).toBe(1);
    signals.emit('SIGTERM', 'SIGTERM');
    expect(close).not.toHaveBeenCalled();
    started();
    expect(await done).toBe(0);
    expect(close).toHaveBeenCalledTimes(1);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
    expect(io.stdout).not.toContain('listening on http://127.0.0.1:9090');
  });
});
