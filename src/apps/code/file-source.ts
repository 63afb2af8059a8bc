/**
 * The AppFileSource of installed apps: their files read from the code store by the app's checksum. A file
 * stored compressed is sent as is when the client accepts it (brotli first, else gzip, both written once at
 * install), else the raw bytes. The strong ETag comes from the file's content hash and names its encoding.
 */
import { negotiate } from '@fastify/accept-negotiator';
import type { AppDoc, AppFileSource, AppKind, OpenedAppFile } from '../types.js';
import { SHA256_RE, type AppCodeStore } from './store.js';
import { cleanEntryName } from './tarball.js';

const SUFFIX = { br: '-br', gzip: '-gz' } as const;

/** `path` exactly as a normalised relative path (`a/b.js`), else null. */
function normalised(path: string): string | null {
  try {
    const clean = cleanEntryName(path);
    return clean !== '' && clean === path ? clean : null;
  } catch {
    return null;
  }
}

export class StoredAppFiles implements AppFileSource {
  constructor(private readonly store: AppCodeStore) {}

  async open(app: Pick<AppDoc, 'slug' | 'version' | 'checksum' | 'source'>, _kind: AppKind, path: string, acceptEncoding: string | undefined): Promise<OpenedAppFile | null> {
    const name = normalised(path);
    if (name === null || !SHA256_RE.test(app.checksum)) return null;
    const file = (await this.store.index(app.checksum))?.get(name);
    if (!file) return null;
    const offered = (['br', 'gzip'] as const).filter((enc) => file[enc] !== null);
    const chosen = offered.length > 0 && acceptEncoding ? negotiate(acceptEncoding, [...offered, 'identity']) : null;
    const encoding = chosen === 'br' || chosen === 'gzip' ? chosen : null;
    const body = await this.store.read(app.checksum, name, encoding);
    if (!body) return null;
    const tag = file.hash.slice(0, 32) + (encoding ? SUFFIX[encoding] : '');
    return { body, size: encoding ? (file[encoding] ?? 0) : file.size, etag: `"${tag}"`, contentEncoding: encoding };
  }
}
