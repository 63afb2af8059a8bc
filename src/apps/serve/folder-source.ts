/**
 * Apps served straight from folders (`apps.devDirs`, cozy-stack's `--appdir slug:/path`): an AppFileSource over
 * directories by slug, and the manifest read from the folder standing for the installed-app document.
 * A file is sent as it is on disk, or as its `.br` or `.gz` sibling (what the build of the built-in apps writes beside
 * their bundles) when the client accepts that encoding and the sibling is not older than the file. The ETag is the
 * sha256 of the content (suffixed by the encoding sent), kept per (path, size, mtime) so that an unchanged file is
 * hashed once.
 */
import { negotiate } from '@fastify/accept-negotiator';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { AppDoc, AppFileSource, AppKind, Manifest, OpenedAppFile } from '../types.js';
import { SLUG_RE } from '../types.js';

/** `slug:/path[,slug:/path…]` → slug → absolute folder. A malformed entry is a configuration error. */
export function parseDevDirs(value: string | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of (value ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const colon = entry.indexOf(':');
    const slug = entry.slice(0, colon);
    if (colon <= 0 || !SLUG_RE.test(slug) || entry.length === colon + 1) throw new Error(`apps.devDirs: "${entry}" is not slug:/path`);
    out.set(slug, resolve(entry.slice(colon + 1)));
  }
  return out;
}

export class FolderFileSource implements AppFileSource {
  private readonly hashes = new Map<string, { key: string; etag: string }>();
  private readonly docs = new Map<string, { key: string; doc: AppDoc }>();

  constructor(private readonly dirs: ReadonlyMap<string, string>) {}

  has(slug: string): boolean {
    return this.dirs.has(slug);
  }

  /** The folder's manifest as a ready app document (cozy-stack's FromAppsDir), or null when the slug has no folder; read again when it changes. */
  async appDoc(slug: string): Promise<AppDoc | null> {
    const dir = this.dirs.get(slug);
    if (!dir) return null;
    const file = join(dir, 'manifest.webapp');
    const st = await stat(file);
    const key = `${st.size}:${st.mtimeMs}`;
    const known = this.docs.get(slug);
    if (known?.key === key) return known.doc;
    const manifest = JSON.parse(await readFile(file, 'utf8')) as Manifest;
    const now = new Date(st.mtimeMs).toISOString();
    const doc: AppDoc = {
      ...manifest, _id: `io.cozy.apps/${slug}`, slug, source: `file://${dir}`, state: 'ready',
      version: typeof manifest.version === 'string' ? manifest.version : '0.0.0-dev', checksum: '',
      routes: manifest.routes ?? { '/': { folder: '/', index: 'index.html', public: false } }, created_at: now, updated_at: now,
    };
    this.docs.set(slug, { key, doc });
    return doc;
  }

  async open(app: Pick<AppDoc, 'slug'>, _kind: AppKind, path: string, acceptEncoding?: string): Promise<OpenedAppFile | null> {
    const dir = this.dirs.get(app.slug);
    if (!dir) return null;
    const file = resolve(dir, path);
    if (file !== dir && !file.startsWith(dir + sep)) return null;
    const st = await stat(file).catch(() => null);
    if (!st?.isFile()) return null;
    const key = `${st.size}:${st.mtimeMs}`;
    let known = this.hashes.get(file);
    if (known?.key !== key) {
      const hash = createHash('sha256').update(await readFile(file)).digest('hex');
      known = { key, etag: `"${hash.slice(0, 32)}"` };
      this.hashes.set(file, known);
    }
    const sibling = acceptEncoding ? await precompressed(file, st, acceptEncoding) : null;
    if (sibling) return { body: createReadStream(sibling.path), size: sibling.size, etag: `${known.etag.slice(0, -1)}-${ENCODED[sibling.encoding]}"`, contentEncoding: sibling.encoding };
    return { body: createReadStream(file), size: st.size, etag: known.etag, contentEncoding: null };
  }
}

const ENCODED = { br: 'br', gzip: 'gz' } as const;

/** The `.br` or `.gz` sibling of `file` the client accepts (brotli first), when it exists and is not older than the file. */
async function precompressed(file: string, st: Stats, acceptEncoding: string): Promise<{ path: string; size: number; encoding: 'br' | 'gzip' } | null> {
  const found = new Map<'br' | 'gzip', { path: string; size: number }>();
  for (const encoding of ['br', 'gzip'] as const) {
    const path = `${file}.${ENCODED[encoding]}`;
    const s = await stat(path).catch(() => null);
    if (s?.isFile() && s.mtimeMs >= st.mtimeMs) found.set(encoding, { path, size: s.size });
  }
  if (found.size === 0) return null;
  const chosen = negotiate(acceptEncoding, [...found.keys(), 'identity']);
  if (chosen !== 'br' && chosen !== 'gzip') return null;
  return { ...found.get(chosen)!, encoding: chosen };
}

/** Serves through `first` the apps it has, and through `rest` the others (the dev folders in front of the code store). */
export function firstOf(first: FolderFileSource, rest: AppFileSource | null): AppFileSource {
  return {
    open: (app, kind, path, enc) => (first.has(app.slug) || !rest ? first.open(app, kind, path) : rest.open(app, kind, path, enc)),
  };
}
