/**
 * Where the code of a konnector or an app service is, from its manifest (cozy-stack's docs/konnectors.md
 * and docs/apps.md): `<jobs.konnectorsDir>/<slug>/manifest.konnector`, `<jobs.appsDir>/<slug>/manifest.webapp`.
 * Until the apps issue installs them from the registry, these directories are the install.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, resolve, sep } from 'node:path';
import type { HearthConfig } from '../../config/types.js';
import { rulesFromMap, type Rule } from '../../permissions/rules.js';
import { PermanentJobError } from '../types.js';

export const SLUG_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** One entry of a manifest's `permissions` map (cozy's form). */
export interface ManifestRule {
  type: string;
  verbs?: string[];
  values?: string[];
  selector?: string;
  description?: string;
}

interface CodeManifest {
  slug: string;
  /** The real directory of the code (read-only for the sandbox). */
  codeDir: string;
  /** The script, relative to codeDir, checked to stay inside it. */
  entry: string;
  permissions: Record<string, ManifestRule>;
  /** The permissions as a scope string for PermissionResolver.grant. */
  scope: string;
}

export interface KonnectorManifest extends CodeManifest {
  name: string;
  language: 'node';
  parameters: unknown;
  fields: unknown;
}

export interface ServiceManifest extends CodeManifest {
  /** The service's name in the app's `services` map. */
  service: string;
  trigger?: string;
}

export function validSlug(slug: unknown, what = 'slug'): string {
  if (typeof slug !== 'string' || !SLUG_RE.test(slug)) throw new PermanentJobError(`invalid ${what} ${JSON.stringify(slug)?.slice(0, 80)}: expected ${SLUG_RE.source}`);
  return slug;
}

export function readManifest(baseDir: string | null, setting: string, slug: string, file: string): { dir: string; json: Record<string, unknown> } {
  if (!baseDir) throw new PermanentJobError(`no directory is configured for this code: set ${setting}`);
  const dir = resolve(baseDir, slug);
  const path = join(dir, file);
  let text: string;
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    text = readFileSync(path, 'utf8');
  } catch {
    throw new PermanentJobError(`${slug} is not installed: no ${path} (${setting} = ${baseDir})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PermanentJobError(`${path} is not valid JSON`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new PermanentJobError(`${path} must hold a JSON object`);
  return { dir, json: json as Record<string, unknown> };
}

/** A path from a manifest (`main`, a service's `file`), relative to the code dir and never leaving it. */
function entryIn(dir: string, raw: unknown, what: string): string {
  if (typeof raw !== 'string' || raw === '' || raw.includes('\0')) throw new PermanentJobError(`${what} must be a path in the code directory`);
  const rel = normalize(raw.replace(/^\/+/, ''));
  if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`) || raw.split(/[\\/]/).includes('..')) {
    throw new PermanentJobError(`${what} "${raw.slice(0, 200)}" leaves the code directory`);
  }
  return rel;
}

/** Checks the rules (as the permission layer reads them) and turns them into a grant scope. */
export function permissionsOf(raw: unknown, where: string): { permissions: Record<string, ManifestRule>; scope: string } {
  if (raw === undefined) return { permissions: {}, scope: '' };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new PermanentJobError(`${where}: permissions must be a map of rules`);
  const permissions = raw as Record<string, ManifestRule>;
  let rules: Rule[];
  try {
    rules = rulesFromMap(permissions);
  } catch (err) {
    throw new PermanentJobError(`${where}: ${(err as Error).message}`);
  }
  const parts = rules.map((r) => {
    const items = [r.type, ...(r.values ?? []), r.selector ?? ''];
    if (items.some((v) => /[\s:,]/.test(v))) throw new PermanentJobError(`${where}: permission values and selectors cannot hold spaces, ':' or ','`);
    const verbs = r.verbs?.length ? r.verbs.join(',') : 'ALL';
    const tail = r.selector ? `:${(r.values ?? []).join(',')}:${r.selector}` : r.values?.length ? `:${r.values.join(',')}` : '';
    return verbs === 'ALL' && !tail ? r.type : `${r.type}:${verbs}${tail}`;
  });
  return { permissions, scope: parts.join(' ') };
}

export function loadKonnector(config: HearthConfig, rawSlug: unknown): KonnectorManifest {
  const slug = validSlug(rawSlug, 'konnector slug');
  const { dir, json } = readManifest(config.jobs.konnectorsDir, 'jobs.konnectorsDir', slug, 'manifest.konnector');
  return konnectorFrom(slug, dir, json);
}

/** A konnector's run description from its manifest and the folder of its code (jobs.konnectorsDir, or installed code). */
export function konnectorFrom(slug: string, dir: string, json: Record<string, unknown>, opts: { accountDeleted?: boolean } = {}): KonnectorManifest {
  const where = `${slug}/manifest.konnector`;
  if (json.slug !== undefined && json.slug !== slug) throw new PermanentJobError(`${where} names the slug ${JSON.stringify(json.slug)}, not ${slug}`);
  if (json.type !== undefined && json.type !== 'konnector') throw new PermanentJobError(`${where}: type must be "konnector"`);
  if (json.language !== undefined && json.language !== 'node') throw new PermanentJobError(`${where}: only language "node" runs here`);
  return {
    slug,
    name: typeof json.name === 'string' ? json.name : slug,
    language: 'node',
    codeDir: dir,
    // an account being deleted runs the manifest's `on_delete_account` script (cozy-stack's konnector worker)
    entry: opts.accountDeleted && typeof json.on_delete_account === 'string'
      ? entryIn(dir, json.on_delete_account, `${where}: on_delete_account`)
      : entryIn(dir, json.main ?? 'index.js', `${where}: main`),
    parameters: json.parameters ?? {},
    fields: json.fields ?? {},
    ...permissionsOf(json.permissions, where),
  };
}

export function loadService(config: HearthConfig, rawSlug: unknown, rawName: unknown): ServiceManifest {
  const slug = validSlug(rawSlug, 'app slug');
  const { dir, json } = readManifest(config.jobs.appsDir, 'jobs.appsDir', slug, 'manifest.webapp');
  return serviceFrom(slug, rawName, dir, json);
}

/** A service's run description from its app's manifest and the folder of its code (jobs.appsDir, or installed code). */
export function serviceFrom(slug: string, rawName: unknown, dir: string, json: Record<string, unknown>): ServiceManifest {
  if (typeof rawName !== 'string' || !rawName) throw new PermanentJobError('a service job needs the service "name"');
  const where = `${slug}/manifest.webapp`;
  const services = (json.services ?? {}) as Record<string, Record<string, unknown>>;
  const svc = Object.hasOwn(services, rawName) ? services[rawName] : undefined;
  if (!svc || typeof svc !== 'object') throw new PermanentJobError(`${where} declares no service "${rawName.slice(0, 80)}"`);
  if (svc.type !== undefined && svc.type !== 'node') throw new PermanentJobError(`${where}: service ${rawName} must be of type "node"`);
  return {
    slug,
    service: rawName,
    codeDir: dir,
    entry: entryIn(dir, svc.file, `${where}: services.${rawName}.file`),
    ...(typeof svc.trigger === 'string' ? { trigger: svc.trigger } : {}),
    ...permissionsOf(json.permissions, where),
  };
}
