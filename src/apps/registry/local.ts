/**
 * A registry in a local folder (`apps.registries` entry `file:///srv/hearth-apps`), so that an offline
 * Hearth can offer apps. `hearth apps publish <tarball> --registry DIR` (publish.ts) fills it:
 *
 *   DIR/<slug>/<version>.tar.gz        the package, as published (immutable)
 *   DIR/<slug>/<version>.json          its version object without `url`: {slug, type, version, created_at,
 *                                      size, sha256, tar_prefix, manifest}
 *   DIR/<slug>/<version>.assets/…      the icon, partnership icon and screenshots the manifest names,
 *                                      at the paths it names them (`icon.svg`, `screenshots/1.png`)
 *   DIR/<slug>/app.json                optional, written by the operator: fields merged into the
 *                                      application object (`label`, `maintenance_activated`,
 *                                      `maintenance_options`, `editor`…)
 *
 * A version's `url` is `file:///DIR/<slug>/<version>.tar.gz`; `openTarball` reads it (only from this folder).
 * Anything else in the folder (a slug or version name of another form, a broken JSON) is ignored.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import mime from 'mime-types';
import { NotFound } from '../../common/errors.js';
import { SLUG_RE } from '../types.js';
import { pageOf } from './query.js';
import { channelOf, latestOn, versionLists } from './versions.js';
import type { AssetPath, Channel, ListQuery, RegistryApp, RegistryAsset, RegistryClient, RegistryVersion } from './types.js';

/** How many parsed version files a folder registry keeps. */
const MAX_PARSED = 20_000;
const BATCH = 16;

const isMissing = (e: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((e as { code?: string }).code ?? '');

/** `fn` over `items`, BATCH at a time (files are opened in parallel, but never hundreds at once). */
async function batched<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(...(await Promise.all(items.slice(i, i + BATCH).map(fn))));
  return out;
}

async function readJson(file: string): Promise<Record<string, unknown> | null> {
  try {
    const v: unknown = JSON.parse(await readFile(file, 'utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A path inside a version's assets, or null when it would leave them. */
export function safeAssetPath(p: unknown): string | null {
  if (typeof p !== 'string' || p === '' || p.length > 1024 || p.includes('\0') || p.includes('\\')) return null;
  const n = posix.normalize(p.replace(/^\.\//, ''));
  return n.startsWith('/') || n === '..' || n.startsWith('../') || n === '.' ? null : n;
}

/** Where the manifest says an asset is: `icon`, `partnership_icon`, or `screenshots/<one of its screenshots>`. */
export function assetFile(manifest: Record<string, unknown>, path: AssetPath): string | null {
  if (path === 'icon') return safeAssetPath(manifest.icon);
  if (path === 'partnership_icon') return safeAssetPath((manifest.partnership as { icon?: unknown } | undefined)?.icon);
  if (!path.startsWith('screenshots/')) return null;
  const wanted = safeAssetPath(path.slice('screenshots/'.length));
  const listed = Array.isArray(manifest.screenshots) ? manifest.screenshots.map(safeAssetPath) : [];
  return wanted !== null && listed.includes(wanted) ? wanted : null;
}

export class LocalRegistry implements RegistryClient {
  readonly base: string;
  private readonly dir: string;
  /** Parsed version files by path (the oldest dropped past MAX_PARSED). */
  private readonly parsed = new Map<string, RegistryVersion>();

  constructor(url: string) {
    this.dir = fileURLToPath(url).replace(/\/+$/, '');
    this.base = pathToFileURL(this.dir + '/').href;
  }

  tarballPath(slug: string, version: string): string {
    return join(this.dir, slug, `${version}.tar.gz`);
  }

  /** Every version of a slug, or [] when the folder does not have it. */
  async versions(slug: string): Promise<RegistryVersion[]> {
    if (!SLUG_RE.test(slug)) return [];
    let names: string[];
    try {
      names = await readdir(join(this.dir, slug));
    } catch (e) {
      if (isMissing(e)) return [];
      throw e;
    }
    const found = await batched(names, (name) => this.versionFile(slug, name));
    return found.filter((v): v is RegistryVersion => v !== null);
  }

  /** A version's JSON, parsed once: a published version is immutable (publish refuses other bytes). */
  private async versionFile(slug: string, name: string): Promise<RegistryVersion | null> {
    const version = name.endsWith('.json') ? name.slice(0, -'.json'.length) : '';
    if (!channelOf(version)) return null;
    const file = join(this.dir, slug, name);
    const cached = this.parsed.get(file);
    if (cached) return cached;
    const doc = await readJson(file);
    if (!doc || doc.slug !== slug || doc.version !== version || typeof doc.manifest !== 'object' || doc.manifest === null) return null;
    const v = { ...(doc as unknown as RegistryVersion), url: pathToFileURL(this.tarballPath(slug, version)).href };
    if (this.parsed.size >= MAX_PARSED) this.parsed.delete(this.parsed.keys().next().value as string);
    this.parsed.set(file, v);
    return v;
  }

  async version(slug: string, version: string): Promise<RegistryVersion | null> {
    if (!channelOf(version)) return null;
    return (await this.versions(slug)).find((v) => v.version === version) ?? null;
  }

  async latest(slug: string, channel: Channel): Promise<RegistryVersion | null> {
    return latestOn(await this.versions(slug), channel);
  }

  private async app(slug: string, versionsChannel: Channel, latestChannel: Channel): Promise<RegistryApp | null> {
    const all = await this.versions(slug);
    const latest = latestOn(all, latestChannel);
    const any = latest ?? latestOn(all, 'dev');
    if (!any) return null;
    const extra = (await readJson(join(this.dir, slug, 'app.json'))) ?? {};
    const m = any.manifest;
    const app: RegistryApp = { slug, type: any.type, editor: typeof m.editor === 'string' ? m.editor : '', versions: versionLists(all, versionsChannel) };
    if (typeof m.category === 'string') app.category = m.category;
    if (latest) app.latest_version = latest;
    return { ...app, ...extra, slug, type: any.type };
  }

  async application(slug: string): Promise<RegistryApp | null> {
    return this.app(slug, 'dev', 'stable');
  }

  private async slugs(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((s) => SLUG_RE.test(s));
    } catch (e) {
      if (isMissing(e)) return [];
      throw e;
    }
  }

  async list(query: Omit<ListQuery, 'cursor'> & { cursor?: number }): Promise<{ data: RegistryApp[]; next: number | null }> {
    const apps = await batched(await this.slugs(), (slug) => this.app(slug, query.versionsChannel ?? 'dev', query.latestChannelVersion ?? 'stable'));
    return pageOf(apps.filter((a): a is RegistryApp => a?.latest_version !== undefined), query);
  }

  async maintenance(): Promise<RegistryApp[]> {
    const out: RegistryApp[] = [];
    for (const slug of await this.slugs()) {
      const app = await this.application(slug);
      if (app?.maintenance_activated === true) out.push(app);
    }
    return out;
  }

  async asset(slug: string, version: string | null, path: AssetPath): Promise<RegistryAsset | null> {
    const v = version === null ? ((await this.latest(slug, 'stable')) ?? (await this.latest(slug, 'dev'))) : await this.version(slug, version);
    const rel = v ? assetFile(v.manifest, path) : null;
    if (!v || rel === null) return null;
    const file = join(this.dir, slug, `${v.version}.assets`, rel);
    try {
      const s = await stat(file);
      if (!s.isFile()) return null;
      return { body: createReadStream(file), size: s.size, contentType: mime.lookup(file) || 'application/octet-stream' };
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }

  async openTarball(version: RegistryVersion): Promise<Readable> {
    const mine = await this.version(version.slug, version.version);
    if (!mine || mine.url !== version.url) throw new NotFound(`the local registry ${this.base} has no version ${version.slug}@${version.version}`);
    return createReadStream(this.tarballPath(version.slug, version.version));
  }
}
