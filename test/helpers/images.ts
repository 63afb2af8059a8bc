/**
 * Real images for the thumbnail tests, made with sharp: a JPEG with EXIF (date taken, its offset,
 * an orientation, GPS), a PNG with transparency, a WebP, and bytes that only look like a JPEG; and
 * a JobContext to run a worker directly (silent logger, its own AbortController, events collected).
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import sharp, { type Sharp } from 'sharp';
import type { Instance } from '../../src/instances/types.js';
import type { JobContext } from '../../src/jobs/types.js';

/** A noisy picture (so that the JPEG has a realistic size), `width`×`height` as stored. */
function noise(width: number, height: number, channels: 3 | 4 = 3): Sharp {
  const px = Buffer.alloc(width * height * channels);
  for (let i = 0; i < px.length; i++) px[i] = (i * 7919 + (i >> 7)) % 251;
  return sharp(px, { raw: { width, height, channels } });
}

export interface ExifOptions {
  orientation?: number;
  /** "YYYY:MM:DD HH:MM:SS" */
  taken?: string;
  offset?: string;
  gps?: boolean;
}

export function jpegWithExif(width: number, height: number, o: ExifOptions = {}): Promise<Buffer> {
  const ifd2: Record<string, string> = {};
  if (o.taken) ifd2.DateTimeOriginal = o.taken;
  if (o.offset) ifd2.OffsetTimeOriginal = o.offset;
  const ifd3 = o.gps ? { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 0/1' } : undefined;
  let img = noise(width, height).jpeg({ quality: 85 });
  if (o.orientation) img = img.withMetadata({ orientation: o.orientation });
  return img.withExifMerge({ IFD0: { Make: 'Hearth tests' }, IFD2: ifd2, ...(ifd3 ? { IFD3: ifd3 } : {}) }).toBuffer();
}

export const png = (width: number, height: number): Promise<Buffer> => noise(width, height, 4).png().toBuffer();
export const webp = (width: number, height: number): Promise<Buffer> => noise(width, height).webp().toBuffer();

/** A JPEG's first bytes, then garbage: no decoder makes an image of it. */
export const corruptJpeg = (): Buffer => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0'), randomBytes(20_000)]);

export async function sizeOf(image: Buffer): Promise<{ width: number; height: number; format: string }> {
  const m = await sharp(image).metadata();
  return { width: m.width, height: m.height, format: m.format };
}

export interface TestJob {
  ctx: JobContext;
  events: Record<string, unknown>[];
  abort: AbortController;
}

export function jobContext(instance: Instance, worker: string, message: unknown, event?: JobContext['job']['event']): TestJob {
  const abort = new AbortController();
  const events: Record<string, unknown>[] = [];
  const at = new Date().toISOString();
  const ctx: JobContext = {
    instance, signal: abort.signal, log: pino({ level: 'silent' }), emit: (e) => events.push(e),
    job: { _id: randomBytes(16).toString('hex'), domain: instance.domain, worker, message, options: {}, state: 'running', queued_at: at, started_at: at, ...(event ? { event } : {}) },
  };
  return { ctx, events, abort };
}
