/**
 * Per-context stack assets (cozy-stack's `config insert-asset --context`): a context replaces a stack asset (a logo, the
 * favicon, `styles/theme.css`, fonts…) for its instances. The bytes are blobs of the blob store (area `assets`, one
 * reserved namespace: local disk, Swift or S3 alike), the index is with the server's state (./context-index.ts).
 * `/assets/<name>` serves the instance's context's version first, then the `default` context's, then the built-in one.
 * Every process keeps the (small) index in memory, reloaded when any process changes it (the invalidation topic).
 */
import type { Readable } from 'node:stream';
import { lookup } from 'mime-types';
import { BadRequest, NotFound } from '../../common/errors.js';
import type { Invalidation } from '../../common/invalidation.js';
import type { BlobStore } from '../../files/blobs/store.js';
import { checkContextName, DEFAULT_CONTEXT } from '../../instances/context.js';
import type { ContextAsset, ContextAssetIndex } from './context-index.js';

/** The blob namespace of the assets: 32 hex characters as an instance id's, never one (ids are random, never this). */
export const ASSETS_NS = `${'0'.repeat(31)}a`;
export const ASSETS_TOPIC = 'context-assets';
/** An asset is a logo, a stylesheet or a font: 20 MB is plenty. */
export const MAX_ASSET_BYTES = 20 * 1024 * 1024;
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

/** `/images/logo.svg` → `images/logo.svg`; anything that could leave /assets/ (`..`, `\`, `%`, empty segments…) is a 400. */
export function assetName(raw: string): string {
  const name = raw.startsWith('/') ? raw.slice(1) : raw;
  const segs = name.split('/');
  if (name.length > 200 || segs.length > 6 || !segs.every((s) => SEGMENT.test(s) && !s.includes('..'))) {
    throw new BadRequest(`invalid asset name ${JSON.stringify(raw.slice(0, 100))}: path segments of letters, digits, _ - . (no ..), e.g. /images/logo.svg`);
  }
  return name;
}

const hex16 = (md5: string) => Buffer.from(md5, 'base64').toString('hex').slice(0, 16);
/** `images/logo.svg` → `images/logo.<16 hex of its md5>.svg`: a name served as immutable (apps/assets/routes.ts). */
export const hashedAssetName = (a: Pick<ContextAsset, 'name' | 'md5'>): string => {
  const dot = a.name.lastIndexOf('.');
  return dot > a.name.lastIndexOf('/') ? `${a.name.slice(0, dot)}.${hex16(a.md5)}${a.name.slice(dot)}` : `${a.name}.${hex16(a.md5)}`;
};
export const assetEtag = (a: Pick<ContextAsset, 'md5'>): string => `"${Buffer.from(a.md5, 'base64').toString('hex')}"`;

interface Loaded {
  /** `<context>\n<name or hashed name>` → the asset (hashed: served immutable). */
  byName: Map<string, { asset: ContextAsset; hashed: boolean }>;
}

export class ContextAssets {
  private loaded: Promise<Loaded> | null = null;
  /** Changes whenever the index is reloaded: part of the key of what caches asset URLs (apps/serve/params.ts). */
  generation = 0;
  private readonly unlisten: () => void;

  constructor(private readonly blobs: BlobStore, private readonly index: ContextAssetIndex, private readonly invalidation: Invalidation) {
    this.unlisten = invalidation.listen(ASSETS_TOPIC, () => this.reload());
  }

  private readonly hashedCache = new Map<string, Map<string, string>>();

  private reload(): void {
    this.loaded = null;
    this.hashedCache.clear();
    this.generation += 1;
  }

  private load(): Promise<Loaded> {
    if (!this.loaded) {
      const p = this.index.list().then((all) => {
        const byName = new Map<string, { asset: ContextAsset; hashed: boolean }>();
        for (const a of all) {
          byName.set(`${a.context}\n${a.name}`, { asset: a, hashed: false });
          byName.set(`${a.context}\n${hashedAssetName(a)}`, { asset: a, hashed: true });
        }
        return { byName };
      });
      p.catch(() => { if (this.loaded === p) this.loaded = null; });
      this.loaded = p;
    }
    return this.loaded;
  }

  /** The override `/assets/<name>` serves for an instance of `context`: its context's, else the default context's. */
  async find(context: string, name: string): Promise<{ asset: ContextAsset; hashed: boolean } | null> {
    const { byName } = await this.load();
    return byName.get(`${context}\n${name}`) ?? byName.get(`${DEFAULT_CONTEXT}\n${name}`) ?? null;
  }

  /** The hashed names of the overrides an instance of `context` sees (plain name → hashed name), for the pages' links. */
  async hashedNames(context: string): Promise<Map<string, string>> {
    const { byName } = await this.load();
    const hit = this.hashedCache.get(context);
    if (hit) return hit;
    const out = new Map<string, string>();
    for (const ctx of [DEFAULT_CONTEXT, context]) {
      for (const [k, v] of byName) if (!v.hashed && k.startsWith(`${ctx}\n`)) out.set(v.asset.name, hashedAssetName(v.asset));
    }
    if (this.hashedCache.size >= 1000) this.hashedCache.clear();
    this.hashedCache.set(context, out);
    return out;
  }

  open(asset: ContextAsset): Promise<Readable> {
    return this.blobs.read(ASSETS_NS, asset.key);
  }

  async list(context?: string): Promise<ContextAsset[]> {
    const all = await this.index.list();
    return context === undefined ? all : all.filter((a) => a.context === context);
  }

  /** Stores `body` as `name` for `context` (replacing any), then tells every process. */
  async add(context: string, rawName: string, body: Readable): Promise<ContextAsset> {
    checkContextName(context);
    const name = assetName(rawName);
    const info = await this.blobs.write(ASSETS_NS, body, { maxBytes: MAX_ASSET_BYTES });
    const type = lookup(name) || 'application/octet-stream';
    const asset: ContextAsset = { context, name, key: info.key, size: info.size, md5: info.md5, type, created_at: new Date().toISOString() };
    let old: string | null;
    try {
      old = await this.index.put(asset);
    } catch (e) {
      await this.blobs.remove(ASSETS_NS, info.key);
      throw e;
    }
    if (old && old !== info.key) await this.blobs.remove(ASSETS_NS, old);
    this.changed();
    return asset;
  }

  async remove(context: string, rawName: string): Promise<void> {
    checkContextName(context);
    const key = await this.index.remove(context, assetName(rawName));
    if (!key) throw new NotFound(`no asset ${rawName.slice(0, 100)} in the context ${context}`);
    await this.blobs.remove(ASSETS_NS, key);
    this.changed();
  }

  private changed(): void {
    this.reload();
    this.invalidation.invalidate(ASSETS_TOPIC, 'all');
  }

  async close(): Promise<void> {
    this.unlisten();
    await this.index.close();
    await this.blobs.close();
  }
}
