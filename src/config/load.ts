/**
 * Loads the effective configuration. Sources, in increasing priority:
 * defaults < YAML file (`--config F`, `HEARTH_CONFIG`, else ./hearth.yaml if present)
 * < HEARTH_* environment variables < command-line flags.
 *
 * Env mapping: the dotted key path with segments joined by `_` and camelCase turned
 * into UPPER_SNAKE, prefixed with HEARTH_: server.port → HEARTH_SERVER_PORT,
 * admin.passphraseHash → HEARTH_ADMIN_PASSPHRASE_HASH, dataDir → HEARTH_DATA_DIR,
 * data.attachmentMaxBytes → HEARTH_DATA_ATTACHMENT_MAX_BYTES, dev → HEARTH_DEV.
 * Booleans accept true/false/1/0/yes/no/on/off; an empty value sets a nullable key to null.
 * HEARTH_CONFIG and HEARTH_ADMIN_URL (the CLI's) are not settings; any other HEARTH_* variable is an error naming the closest.
 * YAML keys are the HearthConfig names (camelCase); snake_case aliases are accepted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { closest } from 'fastest-levenshtein';
import type * as Yaml from 'yaml';
import { DEFAULTS, LEAVES, configSchema, envName } from './schema.js';
import type { HearthConfig } from './types.js';

export class ConfigError extends Error {
  constructor(message: string, readonly source: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Command-line flags of `hearth serve` / `hearth config show` (strings as commander gives them). */
export interface ConfigFlags {
  config?: string;
  dev?: boolean;
  port?: string | number;
  host?: string;
  adminPort?: string | number;
  adminHost?: string;
  dataDir?: string;
  logLevel?: string;
}

export interface LoadConfigOptions {
  flags?: ConfigFlags;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

const FLAG_PATHS: Record<Exclude<keyof ConfigFlags, 'config'>, [string, string]> = {
  dev: ['dev', '--dev'],
  port: ['server.port', '--port'],
  host: ['server.host', '--host'],
  adminPort: ['admin.port', '--admin-port'],
  adminHost: ['admin.host', '--admin-host'],
  dataDir: ['dataDir', '--data-dir'],
  logLevel: ['log.level', '--log-level'],
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The yaml package (~30 ms of start-up), loaded only when there is a file to read. */
export const requireYaml = (): typeof Yaml => createRequire(import.meta.url)('yaml') as typeof Yaml;

/**
 * The validators, compiled on first use (Ajv's compilation of the whole schema and of its meta-schema was ~100 ms
 * of every start). A YAML file, of any shape, is checked against the whole schema; variables and flags, which can
 * only name settings, by the schema of each setting they give. The merged result needs no check of its own: it
 * starts from DEFAULTS, which has every key, and each source merged into it was checked (an object stays an object).
 * The schemas are ours and static (load.test.ts checks them against the meta-schema).
 */
let ajv: Ajv | null = null;
const compile = (schema: Record<string, unknown>): ValidateFunction =>
  (ajv ??= new Ajv({ allErrors: true, allowUnionTypes: true, validateSchema: false })).compile(schema); // Ajv caches by schema


export function loadConfig(options: LoadConfigOptions = {}): HearthConfig {
  const flags = options.flags ?? {};
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  let merged: Obj = structuredClone(DEFAULTS) as unknown as Obj;

  const file = flags.config ?? (env.HEARTH_CONFIG || undefined) ?? (existsSync(resolve(cwd, 'hearth.yaml')) ? 'hearth.yaml' : undefined);
  if (file !== undefined) merged = deepMerge(merged, check(readYaml(resolve(cwd, file), file), () => file));

  checkEnvNames(env);
  const fromEnv: Obj = {};
  for (const path of Object.keys(LEAVES)) {
    const raw = env[envName(path)];
    if (raw !== undefined) setPath(fromEnv, path, coerce(path, raw));
  }
  merged = deepMerge(merged, checkLeaves(fromEnv, envName));

  const fromFlags: Obj = {};
  const flagOf: Record<string, string> = {};
  for (const [name, [path, flag]] of Object.entries(FLAG_PATHS)) {
    const raw = flags[name as keyof typeof FLAG_PATHS];
    if (raw === undefined) continue;
    setPath(fromFlags, path, typeof raw === 'string' ? coerce(path, raw) : raw);
    flagOf[path] = flag;
  }
  merged = deepMerge(merged, checkLeaves(fromFlags, (path) => flagOf[path] ?? 'flags'));

  merged.dataDir = resolve(cwd, String(merged.dataDir));
  const apps = merged.apps as { builtinRegistry: string | null };
  apps.builtinRegistry = apps.builtinRegistry?.trim() ? resolve(cwd, apps.builtinRegistry) : null;
  const config = merged as unknown as HearthConfig;
  checkEngines(config);
  return config;
}

/** The settings an engine needs, checked together: a scale-out engine named without its address is a mistake said at start. */
export function checkEngines(config: HearthConfig): void {
  const need = (ok: boolean, message: string) => {
    if (!ok) throw new ConfigError(message, 'engines');
  };
  need(config.docs.engine !== 'postgres' || config.docs.url !== null, 'docs.engine is postgres but docs.url is not set (HEARTH_DOCS_URL=postgres://user:password@host:5432/database)');
  need(config.coordination.engine !== 'redis' || config.coordination.url !== null, 'coordination.engine is redis but coordination.url is not set (HEARTH_COORDINATION_URL=redis://host:6379/0)');
  const { swift, s3 } = config.blobs;
  need(config.blobs.engine !== 'swift' || (swift.authUrl !== null && swift.user !== null && swift.key !== null), 'blobs.engine is swift but blobs.swift.authUrl, blobs.swift.user and blobs.swift.key are not all set');
  need(config.blobs.engine !== 's3' || (s3.endpoint !== null && s3.bucket !== null && s3.accessKeyId !== null && s3.secretAccessKey !== null), 'blobs.engine is s3 but blobs.s3.endpoint, blobs.s3.bucket, blobs.s3.accessKeyId and blobs.s3.secretAccessKey are not all set');
}

/** HEARTH_* variables that are not settings. */
const OTHER_VARIABLES = ['HEARTH_CONFIG', 'HEARTH_ADMIN_URL'];

/** A HEARTH_* variable that names no setting is a mistake (a typo would otherwise be ignored silently): name the closest. */
function checkEnvNames(env: Record<string, string | undefined>): void {
  const known = [...Object.keys(LEAVES).map(envName), ...OTHER_VARIABLES];
  const unknown = Object.keys(env).filter((k) => k.startsWith('HEARTH_') && env[k] !== undefined && !known.includes(k));
  if (unknown.length === 0) return;
  const lines = unknown.map((k) => `${k}: unknown variable; did you mean ${closest(k, known)}? (\`hearth config show\` lists the settings)`);
  throw new ConfigError(lines.join('\n'), unknown[0] as string);
}

function readYaml(path: string, label: string): Obj {
  if (!existsSync(path)) throw new ConfigError(`${label}: configuration file not found (${path})`, label);
  let data: unknown;
  try {
    data = requireYaml().parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${label}: invalid YAML: ${(err as Error).message}`, label);
  }
  if (data === null || data === undefined) return {};
  if (!isObj(data)) throw new ConfigError(`${label}: the top level must be a mapping of settings`, label);
  return camelKeys(data);
}

function camelKeys(obj: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(obj)) {
    out[k.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())] = isObj(v) ? camelKeys(v) : v;
  }
  return out;
}

/** Turns an env/flag string into the leaf's type; leaves it a string when it does not parse (validation reports it). */
function coerce(path: string, raw: string): unknown {
  const type = LEAVES[path]?.schema.type;
  const types = Array.isArray(type) ? type : [type];
  if (raw === '' && types.includes('null')) return null;
  if (types.includes('integer') && /^\s*-?\d+\s*$/.test(raw)) return Number(raw);
  if (types.includes('number') && raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
  if (types.includes('boolean')) {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  }
  return raw;
}

/** Settings given one by one (`data` holds known leaves only): each checked by its own schema. */
function checkLeaves(data: Obj, sourceOf: (path: string) => string): Obj {
  const bad = Object.entries(LEAVES).filter(([path, leaf]) => {
    const value = path.split('.').reduce<unknown>((node, part) => (isObj(node) ? node[part] : undefined), data);
    return value !== undefined && !compile(leaf.schema)(value);
  });
  if (bad.length === 0) return data;
  throw new ConfigError(bad.map(([path, leaf]) => `${sourceOf(path)}: ${path} must be ${leaf.expect}`).join('\n'), sourceOf(bad[0]![0]));
}

function check(data: Obj, sourceOf: (path: string) => string): Obj {
  const validate = compile(configSchema(false));
  if (validate(data)) return data;
  const errors = validate.errors ?? [];
  const first = errors[0];
  const source = sourceOf(first ? dotted(first) : '');
  throw new ConfigError(errors.map((e) => `${sourceOf(dotted(e))}: ${describe(e)}`).join('\n'), source);
}

const dotted = (e: ErrorObject): string => e.instancePath.slice(1).replaceAll('/', '.');

function describe(e: ErrorObject): string {
  const path = dotted(e);
  if (e.keyword === 'additionalProperties') {
    const key = [path, String(e.params.additionalProperty)].filter(Boolean).join('.');
    return `unknown key "${key}"`;
  }
  const leaf = LEAVES[path];
  return leaf ? `${path} must be ${leaf.expect}` : `${path || 'the configuration'} must be a mapping`;
}

function setPath(obj: Obj, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = obj;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Obj;
  node[parts[parts.length - 1] as string] = value;
}

function deepMerge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Obj, v) : v;
  return out;
}
