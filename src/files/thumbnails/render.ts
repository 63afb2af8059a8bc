/**
 * Rendering thumbnails with sharp (libvips), in cozy-stack's four formats: `tiny` 96×96 cropped to
 * fill the square, `small` 640×480, `medium` 1280×720 and `large` 1920×1080 fitted inside the box
 * and never enlarged. The EXIF orientation is applied first (a portrait photo stays upright).
 * The output is JPEG (quality 80, transparency flattened on white): it is what cozy-stack
 * serves (`image/jpeg`) and what every client decodes, and WebP would save little at these sizes.
 */
import type { Readable } from 'node:stream';
import type { Metadata } from 'sharp';
import { loadSharp } from '../../common/lazy-libs.js';
import type { ThumbFormat } from './state.js';

export const SIZES: Record<ThumbFormat, { width: number; height: number; fit: 'cover' | 'inside' }> = {
  tiny: { width: 96, height: 96, fit: 'cover' },
  small: { width: 640, height: 480, fit: 'inside' },
  medium: { width: 1280, height: 720, fit: 'inside' },
  large: { width: 1920, height: 1080, fit: 'inside' },
};

/** Image types sharp decodes here (its prebuilt libvips has no HEVC: iPhone HEIC files are not among them). */
export const THUMBNAILABLE = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif', 'image/tiff']);

/** Bigger images get no thumbnails (cozy-stack's bound). */
export const MAX_SOURCE_BYTES = 100 * 1024 * 1024;

export interface Rendered {
  thumbs: Record<ThumbFormat, Buffer>;
  /** The source image's own size (as stored, before orientation) and its EXIF orientation. */
  width: number;
  height: number;
  orientation?: number;
}

/** The source could not be decoded (corrupt, truncated, or a type sharp does not read). */
export class UnreadableImage extends Error {
  constructor(reason: string) {
    super(`the image cannot be decoded (${reason})`);
    this.name = 'UnreadableImage';
  }
}

/** Renders the four formats from one read of `source`; stops when `signal` aborts. */
export async function renderThumbnails(source: Readable, signal?: AbortSignal): Promise<Rendered> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    signal?.throwIfAborted();
    n += chunk.length;
    if (n > MAX_SOURCE_BYTES) throw new UnreadableImage(`larger than ${MAX_SOURCE_BYTES} bytes`);
    chunks.push(chunk);
  }
  const input = Buffer.concat(chunks, n);
  const sharp = await loadSharp();
  let meta: Metadata;
  try {
    meta = await sharp(input, { failOn: 'error' }).metadata();
  } catch (err) {
    throw new UnreadableImage((err as Error).message);
  }
  const thumbs = {} as Record<ThumbFormat, Buffer>;
  for (const [format, box] of Object.entries(SIZES) as [ThumbFormat, (typeof SIZES)[ThumbFormat]][]) {
    signal?.throwIfAborted();
    try {
      thumbs[format] = await sharp(input, { failOn: 'error', animated: false })
        .rotate()
        .resize(box.width, box.height, { fit: box.fit, withoutEnlargement: box.fit === 'inside' })
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: 80 })
        .toBuffer();
    } catch (err) {
      throw new UnreadableImage((err as Error).message);
    }
  }
  return { thumbs, width: meta.width, height: meta.height, ...(meta.orientation ? { orientation: meta.orientation } : {}) };
}
