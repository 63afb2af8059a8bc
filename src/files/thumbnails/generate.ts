/**
 * Making the thumbnails of one file: its content is read from the blob store and rendered
 * (render.ts); each thumbnail is written as a durable blob of the thumbnail area (a .part file,
 * fsynced, renamed: never a half thumbnail), then, under the file system's lock, the file document
 * names them (`internal_thumbnails`, state.ts) and gets its exact `metadata.width|height` — only if
 * its content is still the one rendered. The thumbnails it named before are removed after the
 * commit; on any failure before the commit the new blobs are removed, and the file is left as it was. Once made, an
 * io.cozy.files.thumbnails CREATED event per format goes on the bus (cozy-stack's worker/thumbnail: `{_id, format}`,
 * large to tiny), for the realtime subscribers of that synthetic doctype.
 */
import { Readable } from 'node:stream';
import type { EventBus } from '../../common/bus.js';
import { NotFound } from '../../common/errors.js';
import type { Doc } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import type { FileSystem } from '../fs.js';
import type { Vfs } from '../vfs.js';
import { FILES_DOCTYPE, type FileDoc } from '../types.js';
import { METADATA_EXTRACTOR_VERSION } from './exif.js';
import { MAX_SOURCE_BYTES, THUMBNAILABLE, renderThumbnails } from './render.js';
import { THUMB_FORMATS, currentThumbs, thumbKeysOf, thumbSecret, type ThumbFormat, type ThumbState } from './state.js';

export interface ThumbnailDeps {
  vfs: Vfs;
  /** The instance's session secret, from which the thumbnails' link secret is derived (FilesDeps.linkSecret). */
  linkSecret(instance: Instance): Promise<Uint8Array>;
  /** Told when a file's thumbnails are made (io.cozy.files.thumbnails events); none without it. */
  bus?: EventBus;
}

export const THUMBNAILS_DOCTYPE = 'io.cozy.files.thumbnails';

export type ThumbOutcome = 'made' | 'fresh' | 'skipped';

/** Whether the file is an image whose thumbnails Hearth makes (a type sharp decodes, at most 100 MB). */
export function thumbnailable(doc: Doc): boolean {
  const mime = String(doc.mime ?? '').split(';')[0]!.trim().toLowerCase();
  return doc.type === 'file' && doc.class === 'image' && THUMBNAILABLE.has(mime) && Number(doc.size) <= MAX_SOURCE_BYTES;
}

async function find(fs: FileSystem, instance: Instance, id: string): Promise<FileDoc | null> {
  try {
    return await fs.stat(instance, id);
  } catch (err) {
    if (err instanceof NotFound) return null;
    throw err;
  }
}

/** The file has thumbnails of its content, under the current secret, and all their blobs are there. */
async function fresh(fs: FileSystem, instance: Instance, doc: FileDoc, secret: string): Promise<boolean> {
  const t = currentThumbs(doc);
  if (!t || t.secret !== secret || !fs.thumbs) return false;
  for (const f of THUMB_FORMATS) if ((await fs.thumbs.size(instance.id, t.keys[f])) === null) return false;
  return true;
}

/**
 * Makes the four thumbnails of a file, unless it has them already ('fresh') or is gone, not an
 * image, or changed while they were rendered ('skipped'). An undecodable image throws UnreadableImage.
 */
export async function makeThumbnails(deps: ThumbnailDeps, instance: Instance, fileId: string, signal?: AbortSignal): Promise<ThumbOutcome> {
  const fs = deps.vfs.fs;
  const area = fs.thumbs;
  if (!area) throw new Error('this file system has no thumbnail store (FileSystemDeps.thumbs)');
  const doc = await find(fs, instance, fileId);
  if (!doc || !thumbnailable(doc)) return 'skipped';
  const md5sum = String(doc.md5sum);
  const secret = thumbSecret(await deps.linkSecret(instance), instance.id, doc._id, md5sum);
  if (await fresh(fs, instance, doc, secret)) return 'fresh';
  const rendered = await renderThumbnails(await fs.open(instance, doc), signal);
  const keys: Partial<Record<ThumbFormat, string>> = {};
  const written = () => Object.values(keys);
  let committed = false;
  try {
    for (const f of THUMB_FORMATS) {
      const buf = rendered.thumbs[f];
      keys[f] = (await area.write(instance.id, Readable.from([buf]), { maxBytes: buf.length })).key;
    }
    const state: ThumbState = { md5sum, secret, keys: keys as Record<ThumbFormat, string> };
    const replaced = await fs.lock(instance, async () => {
      const now = await find(fs, instance, fileId);
      if (!now || now.md5sum !== md5sum) return null;
      const metadata: Doc = {
        extractor_version: METADATA_EXTRACTOR_VERSION, datetime: now.created_at, ...(now.metadata as Doc | undefined),
        width: rendered.width, height: rendered.height, ...(rendered.orientation ? { orientation: rendered.orientation } : {}),
      };
      await fs.store(instance).put(FILES_DOCTYPE, { ...now, internal_thumbnails: state as unknown as Doc, metadata }, () => (committed = true));
      return thumbKeysOf(now);
    });
    if (replaced === null) {
      await fs.dropThumbs(instance, written());
      return 'skipped';
    }
    await fs.dropThumbs(instance, replaced.filter((k) => !written().includes(k)));
    for (const format of [...THUMB_FORMATS].reverse()) {
      deps.bus?.publish({ domain: instance.domain, doctype: THUMBNAILS_DOCTYPE, id: fileId, verb: 'CREATED', doc: { _id: fileId, format } });
    }
    return 'made';
  } catch (err) {
    // once committed, the document names the new thumbnails (a failed fsync of the WAL after the commit): they stay
    if (!committed) await fs.dropThumbs(instance, written());
    throw err;
  }
}
