import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.js';
import { configSchema, envName, PACKAGE_REGISTRY } from './schema.js';
import { formatConfig, maskConfig } from './show.js';

function dir(yaml?: string, name = 'hearth.yaml'): string {
  const d = mkdtempSync(join(tmpdir(), 'hearth-config-'));
  if (yaml !== undefined) writeFileSync(join(d, name), yaml);
  return d;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const cwd = dir();
    const c = loadConfig({ env: {}, cwd });
    expect(c).toEqual({
      dev: false,
      dataDir: join(cwd, '.hearth'),
      server: { host: '127.0.0.1', port: 8080, bodyLimit: 16 * 1024 * 1024, trustProxy: false, serializeResponses: true, precompiledSchemas: true, idleGcSeconds: 100 },
      admin: { host: '127.0.0.1', port: 6060, passphraseHash: null, passphrase: null },
      devInstance: 'hearth.localhost:8080',
      log: { level: 'info', pretty: null },
      data: { attachmentMaxBytes: 8_000_000, changesTimeoutMs: 60_000, groupCommitMs: 0, maxOpenStores: 0, storeIdleSeconds: 60 },
      files: { versions: { max: 20, minDelayMs: 900_000 }, trashRetentionDays: 30 },
      jobs: { konnectorsDir: null, appsDir: null, sandboxMemoryMb: 256, sandboxOutputBytes: 4 * 1024 * 1024, eventSweepMs: 30_000 },
      mail: {
        mode: 'auto', host: 'localhost', port: 25, secure: false, requireTls: false,
        user: null, password: null, from: null, rateLimitPerHour: 200,
      },
      settings: { defaultRedirection: 'home/', onboardedRedirection: 'home/', helpLink: null, tosLink: null, flags: '{}' },
      move: { url: null, retiredRetentionDays: 30 },
      apps: {
        subdomains: 'nested', registries: 'https://apps-registry.cozycloud.cc/', registryRetrySeconds: 30, builtinRegistry: PACKAGE_REGISTRY, maxUnpackedBytes: 200_000_000, maxEntries: 5_000,
        cspDisabled: false, cspAllowlist: '{}', devDirs: null, allowInstallViaPermission: false, permissionsSkipVerification: false,
      },
      docs: { engine: 'sqlite', url: null, poolSize: 20, connectionUses: 1000 },
      blobs: {
        engine: 'local',
        swift: { authUrl: null, user: null, key: null, containerPrefix: 'hearth-' },
        s3: { endpoint: null, region: 'us-east-1', bucket: null, accessKeyId: null, secretAccessKey: null, forcePathStyle: true },
      },
      imports: { allowPrivateUrls: false },
      coordination: { engine: 'memory', url: null, prefix: 'hearth:' },
    });
  });

  it('applies defaults < yaml < env < flags', () => {
    const cwd = dir('server:\n  port: 9000\n  host: 127.0.0.1\nadmin:\n  port: 7000\nlog:\n  level: debug\ndev: true\n');
    const c = loadConfig({ env: { HEARTH_SERVER_PORT: '9100', HEARTH_ADMIN_PORT: '7100', HEARTH_DEV: 'false' }, cwd, flags: { port: '9200' } });
    expect(c.server).toMatchObject({ port: 9200, host: '127.0.0.1' });
    expect(c.admin.port).toBe(7100);
    expect(c.log.level).toBe('debug');
    expect(c.dev).toBe(false);
    expect(loadConfig({ env: { HEARTH_DEV: 'false' }, cwd, flags: { dev: true } }).dev).toBe(true);
  });

  it('reads server.trustProxy as a boolean or a list of proxies, and refuses anything else', () => {
    const cwd = dir();
    expect(loadConfig({ env: { HEARTH_SERVER_TRUST_PROXY: 'true' }, cwd }).server.trustProxy).toBe(true);
    expect(loadConfig({ env: { HEARTH_SERVER_TRUST_PROXY: '127.0.0.1,10.0.0.0/8' }, cwd }).server.trustProxy).toBe('127.0.0.1,10.0.0.0/8');
    expect(() => loadConfig({ env: { HEARTH_SERVER_TRUST_PROXY: 'everyone' }, cwd })).toThrow(/HEARTH_SERVER_TRUST_PROXY: server\.trustProxy must be true, false, or the proxies' addresses/);
  });

  it('takes the @event sweep\'s period in ms, 0 for start-up only, and refuses one under a second', () => {
    const cwd = dir();
    expect(loadConfig({ env: {}, cwd }).jobs.eventSweepMs).toBe(30_000);
    expect(loadConfig({ env: { HEARTH_JOBS_EVENT_SWEEP_MS: '5000' }, cwd }).jobs.eventSweepMs).toBe(5000);
    expect(loadConfig({ env: { HEARTH_JOBS_EVENT_SWEEP_MS: '0' }, cwd }).jobs.eventSweepMs).toBe(0);
    expect(() => loadConfig({ env: { HEARTH_JOBS_EVENT_SWEEP_MS: '500' }, cwd })).toThrow(/HEARTH_JOBS_EVENT_SWEEP_MS: jobs\.eventSweepMs must be 0 \(at start-up only\) or a period in ms >= 1000/);
    expect(() => loadConfig({ env: { HEARTH_JOBS_EVENT_SWEEP_MS: '-1' }, cwd })).toThrow(/jobs\.eventSweepMs must be/);
  });

  it('takes the PostgreSQL pool\'s size (at least 2) and the checkouts a connection serves (0: for good)', () => {
    const cwd = dir();
    expect(loadConfig({ env: { HEARTH_DOCS_CONNECTION_USES: '0', HEARTH_DOCS_POOL_SIZE: '2' }, cwd }).docs).toMatchObject({ poolSize: 2, connectionUses: 0 });
    expect(() => loadConfig({ env: { HEARTH_DOCS_POOL_SIZE: '1' }, cwd })).toThrow(/HEARTH_DOCS_POOL_SIZE: docs\.poolSize must be an integer >= 2/);
    expect(() => loadConfig({ env: { HEARTH_DOCS_CONNECTION_USES: 'often' }, cwd })).toThrow(/HEARTH_DOCS_CONNECTION_USES: docs\.connectionUses must be an integer >= 0/);
  });

  it('reads --config, snake_case keys and resolves dataDir against cwd', () => {
    const cwd = dir('data_dir: store\nadmin:\n  passphrase_hash: $argon2id$v=19$x\ndata:\n  group_commit_ms: 5\n', 'other.yml');
    const c = loadConfig({ env: {}, cwd, flags: { config: 'other.yml' } });
    expect(c.dataDir).toBe(join(cwd, 'store'));
    expect(c.admin.passphraseHash).toBe('$argon2id$v=19$x');
    expect(c.data.groupCommitMs).toBe(5);
  });

  it('finds the package\'s built-in registry by default, resolves another against cwd, and reads empty as none', () => {
    expect(PACKAGE_REGISTRY).toBe(join(fileURLToPath(new URL('../..', import.meta.url)), 'dist', 'registry'));
    const cwd = dir('apps:\n  builtin_registry: my-apps\n');
    expect(loadConfig({ env: {}, cwd }).apps.builtinRegistry).toBe(join(cwd, 'my-apps'));
    expect(loadConfig({ env: { HEARTH_APPS_BUILTIN_REGISTRY: '' }, cwd }).apps.builtinRegistry).toBeNull();
  });

  it('maps HEARTH_* env vars (camelCase → UPPER_SNAKE) and coerces types', () => {
    expect(envName('data.attachmentMaxBytes')).toBe('HEARTH_DATA_ATTACHMENT_MAX_BYTES');
    expect(envName('dataDir')).toBe('HEARTH_DATA_DIR');
    const c = loadConfig({
      cwd: dir(),
      env: {
        HEARTH_ADMIN_PASSPHRASE: 'secret',
        HEARTH_DATA_DIR: '/var/lib/hearth',
        HEARTH_DATA_ATTACHMENT_MAX_BYTES: '100',
        HEARTH_LOG_PRETTY: 'yes',
        HEARTH_ADMIN_URL: 'http://x', // a CLI setting, not a config key: ignored
      },
    });
    expect(c.admin.passphrase).toBe('secret');
    expect(c.dataDir).toBe('/var/lib/hearth');
    expect(c.data.attachmentMaxBytes).toBe(100);
    expect(c.log.pretty).toBe(true);
  });

  it('reads the mail settings from HEARTH_MAIL_* and validates them', () => {
    expect(envName('mail.rateLimitPerHour')).toBe('HEARTH_MAIL_RATE_LIMIT_PER_HOUR');
    const env = { HEARTH_MAIL_MODE: 'smtp', HEARTH_MAIL_HOST: 'smtp.example.org', HEARTH_MAIL_PORT: '465', HEARTH_MAIL_SECURE: 'true', HEARTH_MAIL_REQUIRE_TLS: '1', HEARTH_MAIL_FROM: 'Hearth <hi@example.org>', HEARTH_MAIL_RATE_LIMIT_PER_HOUR: '10' };
    expect(loadConfig({ cwd: dir(), env }).mail).toMatchObject({ mode: 'smtp', host: 'smtp.example.org', port: 465, secure: true, requireTls: true, from: 'Hearth <hi@example.org>', rateLimitPerHour: 10 });
    expect(loadConfig({ cwd: dir('mail:\n  require_tls: true\n'), env: {} }).mail.requireTls).toBe(true);
    expect(errorOf(() => loadConfig({ env: { HEARTH_MAIL_MODE: 'pigeon' }, cwd: dir() })).message).toBe('HEARTH_MAIL_MODE: mail.mode must be one of smtp, outbox, auto');
  });

  it('names the bad key and its source', () => {
    const cwd = dir('server:\n  port: 70000\n');
    expect(errorOf(() => loadConfig({ env: {}, cwd })).message).toBe(
      'hearth.yaml: server.port must be an integer between 1 and 65535',
    );
    const e = errorOf(() => loadConfig({ env: {}, cwd: dir('server:\n  prot: 1\n') }));
    expect(e.message).toBe('hearth.yaml: unknown key "server.prot"');
    expect(e.source).toBe('hearth.yaml');
    expect(errorOf(() => loadConfig({ env: { HEARTH_ADMIN_PORT: 'abc' }, cwd: dir() })).message).toBe(
      'HEARTH_ADMIN_PORT: admin.port must be an integer between 1 and 65535',
    );
    expect(errorOf(() => loadConfig({ env: {}, cwd: dir(), flags: { logLevel: 'loud' } })).message).toMatch(
      /^--log-level: log.level must be one of fatal, error/,
    );
    expect(errorOf(() => loadConfig({ env: {}, cwd: dir('log: 3\n') })).message).toBe('hearth.yaml: log must be a mapping');
    expect(errorOf(() => loadConfig({ env: {}, cwd: dir(), flags: { config: 'missing.yaml' } })).message).toMatch(
      /^missing.yaml: configuration file not found/,
    );
    expect(errorOf(() => loadConfig({ env: {}, cwd: dir('a: [1\n') })).message).toMatch(/^hearth.yaml: invalid YAML/);
  });

  it('refuses a misspelled HEARTH_* variable, naming the closest setting', () => {
    const e = errorOf(() => loadConfig({ env: { HEARTH_ADMIN_PROT: '7070' }, cwd: dir() }));
    expect(e.message).toBe('HEARTH_ADMIN_PROT: unknown variable; did you mean HEARTH_ADMIN_PORT? (`hearth config show` lists the settings)');
    expect(e.source).toBe('HEARTH_ADMIN_PROT');
    expect(errorOf(() => loadConfig({ env: { HEARTH_DATADIR: '/srv', HEARTH_LOG_LEVL: 'debug' }, cwd: dir() })).message).toMatch(
      /^HEARTH_DATADIR: unknown variable; did you mean HEARTH_DATA_DIR\?.*\nHEARTH_LOG_LEVL: unknown variable; did you mean HEARTH_LOG_LEVEL\?/,
    );
    expect(loadConfig({ env: { HEARTH_CONFIG: '', HEARTH_ADMIN_URL: 'http://127.0.0.1:1', OTHER_THING: 'x' }, cwd: dir() }).admin.port).toBe(6060);
  });
});

describe('maskConfig', () => {
  it('hides secrets, keeps nulls and does not modify its input', () => {
    const c = loadConfig({ env: { HEARTH_ADMIN_PASSPHRASE: 'hunter2' }, cwd: dir() });
    const m = maskConfig(c);
    expect(m.admin).toMatchObject({ passphrase: '********', passphraseHash: null });
    expect(c.admin.passphrase).toBe('hunter2');
    expect(formatConfig(c)).not.toContain('hunter2');
  });

  it('masks the SMTP password (HEARTH_MAIL_PASSWORD)', () => {
    const c = loadConfig({ env: { HEARTH_MAIL_PASSWORD: 'smtp-pw', HEARTH_MAIL_USER: 'bot' }, cwd: dir() });
    expect(maskConfig(c).mail).toMatchObject({ password: '********', user: 'bot' });
    expect(formatConfig(c)).not.toContain('smtp-pw');
  });

  it('validates against a schema that is valid JSON Schema (loadConfig compiles it without the meta-schema check)', () => {
    const ajv = new Ajv({ allowUnionTypes: true });
    for (const complete of [false, true]) expect(ajv.validateSchema(configSchema(complete)), JSON.stringify(ajv.errors)).toBe(true);
  });
});

describe('engines', () => {
  it('takes the scale-out engines from the environment, and masks their secrets in `config show`', () => {
    const config = loadConfig({
      cwd: '/tmp',
      env: {
        HEARTH_DOCS_ENGINE: 'postgres', HEARTH_DOCS_URL: 'postgres://hearth:s3cret@db:5432/hearth',
        HEARTH_COORDINATION_ENGINE: 'redis', HEARTH_COORDINATION_URL: 'redis://:pw@cache:6379/0',
        HEARTH_BLOBS_ENGINE: 's3', HEARTH_BLOBS_S3_ENDPOINT: 'http://127.0.0.1:9000', HEARTH_BLOBS_S3_BUCKET: 'hearth-blobs',
        HEARTH_BLOBS_S3_ACCESS_KEY_ID: 'AKIA', HEARTH_BLOBS_S3_SECRET_ACCESS_KEY: 'very-secret',
      },
    });
    expect(config.docs).toEqual({ engine: 'postgres', url: 'postgres://hearth:s3cret@db:5432/hearth', poolSize: 20, connectionUses: 1000 });
    expect(config.blobs.engine).toBe('s3');
    const masked = maskConfig(config);
    expect(masked.docs.url).toBe('postgres://hearth:********@db:5432/hearth');
    expect(masked.coordination.url).toBe('redis://:********@cache:6379/0');
    expect(masked.blobs.s3.secretAccessKey).toBe('********');
    expect(JSON.stringify(masked)).not.toMatch(/s3cret|very-secret|:pw@/);
  });

  it('refuses an engine named without its address, and an unknown engine', () => {
    expect(() => loadConfig({ cwd: '/tmp', env: { HEARTH_DOCS_ENGINE: 'postgres' } })).toThrow(/docs\.url is not set/);
    expect(() => loadConfig({ cwd: '/tmp', env: { HEARTH_COORDINATION_ENGINE: 'redis' } })).toThrow(/coordination\.url is not set/);
    expect(() => loadConfig({ cwd: '/tmp', env: { HEARTH_BLOBS_ENGINE: 'swift' } })).toThrow(/blobs\.swift/);
    expect(() => loadConfig({ cwd: '/tmp', env: { HEARTH_DOCS_ENGINE: 'mysql' } })).toThrow(/one of sqlite, postgres/);
    expect(() => loadConfig({ cwd: '/tmp', env: { HEARTH_DOCS_URL: 'mysql://x' } })).toThrow(/postgres/);
  });
});
