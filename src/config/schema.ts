/**
 * The JSON schema of HearthConfig, built from one table of leaves so that
 * validation messages, env-var names and the schema cannot drift apart.
 */
import { fileURLToPath } from 'node:url';
import type { HearthConfig } from './types.js';

/**
 * The built-in registry `npm run build` fills (scripts/build-webapps.mjs): `<package>/dist/registry`, two folders up from
 * this module whether it runs from src/config, dist/config or the bundle (dist/bundle/hearth.cjs).
 */
export const PACKAGE_REGISTRY = fileURLToPath(new URL('../../dist/registry', import.meta.url));

export type Leaf = { schema: Record<string, unknown>; expect: string };

const port: Leaf = { schema: { type: 'integer', minimum: 1, maximum: 65535 }, expect: 'an integer between 1 and 65535' };
const str: Leaf = { schema: { type: 'string', minLength: 1 }, expect: 'a non-empty string' };
const secret: Leaf = { schema: { type: ['string', 'null'], minLength: 1 }, expect: 'a non-empty string or null' };
const bool: Leaf = { schema: { type: 'boolean' }, expect: 'a boolean (true/false)' };
const count = (min: number): Leaf => ({
  schema: { type: 'integer', minimum: min },
  expect: `an integer >= ${min}`,
});
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const MAIL_MODES = ['smtp', 'outbox', 'auto'] as const;
export const SUBDOMAIN_MODES = ['nested', 'flat'] as const;
export const DOCS_ENGINES = ['sqlite', 'postgres'] as const;
export const BLOBS_ENGINES = ['local', 'swift', 's3'] as const;
export const COORDINATION_ENGINES = ['memory', 'redis'] as const;
const url = (schemes: string[], example: string): Leaf => ({
  schema: { type: ['string', 'null'], pattern: `^(${schemes.join('|')})://[!-~]+$` },
  expect: `a ${schemes.join(' or ')} URL (e.g. ${example}) or null`,
});

/** Every settable key, as a dotted path of HearthConfig. */
export const LEAVES: Record<string, Leaf> = {
  dev: bool,
  'server.trustProxy': {
    schema: { type: ['boolean', 'string'], pattern: '^[0-9a-fA-F.:/, ]+$' },
    expect: 'true, false, or the proxies\' addresses or CIDRs, comma-separated (e.g. 127.0.0.1,10.0.0.0/8)',
  },
  dataDir: str,
  'server.host': str,
  'server.port': port,
  'server.bodyLimit': count(1),
  'server.serializeResponses': bool,
  'server.precompiledSchemas': bool,
  'server.idleGcSeconds': count(0),
  'admin.host': str,
  'admin.port': port,
  'admin.passphraseHash': {
    schema: { type: ['string', 'null'], pattern: '^\\$argon2id\\$' },
    expect: 'an argon2id hash (as printed by `hearth config passwd`) or null',
  },
  'admin.passphrase': secret,
  devInstance: {
    schema: { type: 'string', pattern: '^[a-z0-9.-]+(:[0-9]{1,5})?$' },
    expect: 'a lowercase host name with an optional :port (e.g. hearth.localhost:8080)',
  },
  'log.level': { schema: { enum: [...LOG_LEVELS] }, expect: `one of ${LOG_LEVELS.join(', ')}` },
  'log.pretty': { schema: { type: ['boolean', 'null'] }, expect: 'a boolean (true/false), or empty for the default (pretty in --dev)' },
  'data.attachmentMaxBytes': count(0),
  'data.changesTimeoutMs': count(0),
  'data.groupCommitMs': count(0),
  'data.maxOpenStores': count(0),
  'data.storeIdleSeconds': count(1),
  'files.versions.max': count(0),
  'files.versions.minDelayMs': count(0),
  'files.trashRetentionDays': count(0),
  'jobs.konnectorsDir': secret,
  'jobs.appsDir': secret,
  'jobs.sandboxMemoryMb': count(64),
  'jobs.sandboxOutputBytes': count(1024),
  'jobs.eventSweepMs': { schema: { type: 'integer', anyOf: [{ const: 0 }, { minimum: 1000 }] }, expect: '0 (at start-up only) or a period in ms >= 1000' },
  'mail.mode': { schema: { enum: [...MAIL_MODES] }, expect: `one of ${MAIL_MODES.join(', ')}` },
  'mail.host': str,
  'mail.port': port,
  'mail.secure': bool,
  'mail.requireTls': bool,
  'mail.user': secret,
  'mail.password': secret,
  'mail.from': secret,
  'mail.rateLimitPerHour': count(1),
  'settings.defaultRedirection': {
    schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}/[!-~]*$' },
    expect: 'an app slug, a slash and the app\'s route (e.g. home/ or drive/#/folder)',
  },
  'settings.onboardedRedirection': {
    schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}/[!-~]*$' },
    expect: 'an app slug, a slash and the app\'s route (e.g. home/)',
  },
  'settings.helpLink': { schema: { type: ['string', 'null'], pattern: '^https?://[!-~]+$' }, expect: 'an http(s) URL or null' },
  'settings.tosLink': { schema: { type: ['string', 'null'], pattern: '^https?://[!-~]+$' }, expect: 'an http(s) URL (where {domain} stands for the instance) or null' },
  'settings.flags': {
    schema: { type: 'string', pattern: '^\\s*\\{[\\s\\S]*\\}\\s*$' },
    expect: 'a JSON object of feature flags (e.g. {"has_feature1":true,"number_of_foos":10})',
  },
  'move.url': { schema: { type: ['string', 'null'], pattern: '^https?://[!-~]+$' }, expect: 'an http(s) URL or null' },
  'move.retiredRetentionDays': { schema: { type: 'number', minimum: 0 }, expect: 'a number of days >= 0 (0: never)' },
  'apps.subdomains': { schema: { enum: [...SUBDOMAIN_MODES] }, expect: `one of ${SUBDOMAIN_MODES.join(', ')}` },
  'apps.registries': {
    schema: { type: 'string', pattern: '^\\s*$|^\\s*(https?|file)://[^\\s,]+(\\s*,\\s*(https?|file)://[^\\s,]+)*\\s*$' },
    expect: 'registry URLs (https://… or file:///dir), comma-separated, or empty for none',
  },
  'apps.registryRetrySeconds': { schema: { type: 'number', minimum: 0, maximum: 86_400 }, expect: 'a number of seconds between 0 and 86400' },
  'apps.builtinRegistry': { schema: { type: ['string', 'null'] }, expect: 'a folder path (the built-in apps\' registry), or empty to disable it' },
  'apps.maxUnpackedBytes': count(1),
  'apps.maxEntries': count(1),
  'apps.cspDisabled': bool,
  'apps.cspAllowlist': {
    schema: { type: 'string', pattern: '^\\s*\\{[\\s\\S]*\\}\\s*$' },
    expect: 'a JSON object of space-separated sources by directive (e.g. {"img":"https://tiles.example.org"})',
  },
  'apps.devDirs': {
    schema: { type: ['string', 'null'], pattern: '^[a-z0-9][a-z0-9-]*:[^,]+(,[a-z0-9][a-z0-9-]*:[^,]+)*$' },
    expect: 'slug:/path pairs, comma-separated (e.g. drive:/src/drive/build), or null',
  },
  'apps.allowInstallViaPermission': bool,
  'apps.permissionsSkipVerification': bool,
  'docs.engine': { schema: { enum: [...DOCS_ENGINES] }, expect: `one of ${DOCS_ENGINES.join(', ')}` },
  'docs.url': url(['postgres', 'postgresql'], 'postgres://hearth:secret@127.0.0.1:5432/hearth'),
  // at least 2: the code store's orphan sweep holds a connection (its lock) while it lists and removes blobs on another
  'docs.poolSize': { schema: { type: 'integer', minimum: 2 }, expect: 'an integer >= 2 (connections to PostgreSQL)' },
  'docs.connectionUses': count(0),
  'blobs.engine': { schema: { enum: [...BLOBS_ENGINES] }, expect: `one of ${BLOBS_ENGINES.join(', ')}` },
  'blobs.swift.authUrl': url(['http', 'https'], 'http://127.0.0.1:8080/auth/v1.0'),
  'blobs.swift.user': secret,
  'blobs.swift.key': secret,
  'blobs.swift.containerPrefix': { schema: { type: 'string', pattern: '^[A-Za-z0-9_.-]{0,64}$' }, expect: 'letters, digits, _ . - (at most 64)' },
  'blobs.s3.endpoint': url(['http', 'https'], 'http://127.0.0.1:8080'),
  'blobs.s3.region': str,
  'blobs.s3.bucket': { schema: { type: ['string', 'null'], pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' }, expect: 'an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens) or null' },
  'blobs.s3.accessKeyId': secret,
  'blobs.s3.secretAccessKey': secret,
  'blobs.s3.forcePathStyle': bool,
  'imports.allowPrivateUrls': bool,
  'coordination.engine': { schema: { enum: [...COORDINATION_ENGINES] }, expect: `one of ${COORDINATION_ENGINES.join(', ')}` },
  'coordination.url': url(['redis', 'rediss'], 'redis://127.0.0.1:6379/0'),
  'coordination.prefix': { schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{0,64}$' }, expect: 'letters, digits, _ . : - (at most 64)' },
};

export const DEFAULTS: HearthConfig = {
  dev: false,
  dataDir: './.hearth',
  server: { host: '127.0.0.1', port: 8080, bodyLimit: 16 * 1024 * 1024, trustProxy: false, serializeResponses: true, precompiledSchemas: true, idleGcSeconds: 100 },
  admin: { host: '127.0.0.1', port: 6060, passphraseHash: null, passphrase: null },
  devInstance: 'hearth.localhost:8080',
  log: { level: 'info', pretty: null },
  data: { attachmentMaxBytes: 8_000_000, changesTimeoutMs: 60_000, groupCommitMs: 0, maxOpenStores: 0, storeIdleSeconds: 60 },
  files: { versions: { max: 20, minDelayMs: 15 * 60_000 }, trashRetentionDays: 30 },
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
};

/** Builds the object schema; `complete` requires every key (the merged result). */
export function configSchema(complete: boolean): Record<string, unknown> {
  const root: Record<string, unknown> = { type: 'object', additionalProperties: false, properties: {} };
  for (const [path, leaf] of Object.entries(LEAVES)) {
    let node = root;
    const parts = path.split('.');
    parts.forEach((part, i) => {
      const props = node.properties as Record<string, Record<string, unknown>>;
      const req = (node.required as string[] | undefined) ?? [];
      if (complete && !req.includes(part)) node.required = [...req, part];
      if (i === parts.length - 1) props[part] = leaf.schema;
      else node = props[part] ??= { type: 'object', additionalProperties: false, properties: {} };
    });
  }
  return root;
}

/** `server.port` → `HEARTH_SERVER_PORT` (segments joined by `_`, camelCase → UPPER_SNAKE). */
export function envName(path: string): string {
  return 'HEARTH_' + path.split('.').map((s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}
