/**
 * An image's `metadata`, as cozy-stack's extractors shape it (model/vfs/metadata.go):
 * `{extractor_version: 2, datetime, width, height, orientation?, gps?: {lat, long}}`, read from the
 * first bytes of the content only (the upload keeps streaming: a JPEG's EXIF block is in its first
 * 64 KiB). `datetime` is the EXIF DateTimeOriginal (else CreateDate), with its OffsetTimeOriginal
 * when the camera wrote one and as UTC otherwise; without EXIF it is the file's creation date.
 * Nothing here ever fails: an unreadable head gives only what could be read.
 */
import { loadExifr, loadSharp } from '../../common/lazy-libs.js';
import type { Doc } from '../../data/store.js';

export const METADATA_EXTRACTOR_VERSION = 2;
/** How much of an image's content is kept during its upload to read its metadata. */
export const EXIF_HEAD_BYTES = 128 * 1024;

const PICK = [
  'DateTimeOriginal', 'CreateDate', 'OffsetTimeOriginal', 'OffsetTime', 'Orientation', 'ExifImageWidth', 'ExifImageHeight',
  'GPSLatitude', 'GPSLatitudeRef', 'GPSLongitude', 'GPSLongitudeRef',
];

export interface ImageFacts {
  metadata: Doc;
  /** The date the picture was taken (EXIF), ISO 8601 in UTC, when known. */
  takenAt?: string;
}

/** "2021:06:15 10:30:00" (+ "+02:00") → an ISO date in UTC, or undefined if it is not a date. */
export function exifDate(raw: unknown, offset?: unknown): string | undefined {
  const m = typeof raw === 'string' ? /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(raw) : null;
  if (!m) return undefined;
  const off = typeof offset === 'string' && /^[+-]\d{2}:\d{2}$/.test(offset) ? offset : 'Z';
  const t = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${off}`);
  return Number.isNaN(t) || m[1] === '0000' ? undefined : new Date(t).toISOString();
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

async function dimensions(head: Buffer): Promise<{ width?: number; height?: number; orientation?: number }> {
  try {
    const m = await (await loadSharp())(head).metadata();
    return { width: m.width, height: m.height, ...(m.orientation ? { orientation: m.orientation } : {}) };
  } catch {
    return {};
  }
}

async function exifOf(head: Buffer): Promise<Record<string, unknown>> {
  try {
    return ((await (await loadExifr()).parse(head, { pick: PICK, translateValues: false, reviveValues: false, gps: true })) as Record<string, unknown> | undefined) ?? {};
  } catch {
    return {};
  }
}

/** What the content's first bytes tell of an image (no `datetime` without an EXIF date: the caller puts the file's creation date). */
export async function imageFacts(head: Buffer): Promise<ImageFacts> {
  const [dims, x] = await Promise.all([dimensions(head), exifOf(head)]);
  const takenAt = exifDate(x.DateTimeOriginal, x.OffsetTimeOriginal) ?? exifDate(x.CreateDate, x.OffsetTime);
  const metadata: Doc = { extractor_version: METADATA_EXTRACTOR_VERSION, ...(takenAt ? { datetime: takenAt } : {}) };
  const width = dims.width ?? num(x.ExifImageWidth);
  const height = dims.height ?? num(x.ExifImageHeight);
  if (width !== undefined && height !== undefined) Object.assign(metadata, { width, height });
  const orientation = num(x.Orientation) ?? dims.orientation;
  if (orientation !== undefined) metadata.orientation = orientation;
  const lat = num(x.latitude);
  const long = num(x.longitude);
  if (lat !== undefined && long !== undefined) metadata.gps = { lat, long };
  return { metadata, ...(takenAt ? { takenAt } : {}) };
}

/** The keys of `metadata` that describe an image's content (the others, from clients, are kept on a new content). */
const IMAGE_KEYS = ['extractor_version', 'datetime', 'width', 'height', 'orientation', 'gps'];

/** A file's `metadata` for a new image content: the old one without the previous content's facts, then the new facts. */
export function refreshedMetadata(old: Doc | undefined, facts: ImageFacts, createdAt: string): Doc {
  const kept = Object.fromEntries(Object.entries(old ?? {}).filter(([k]) => !IMAGE_KEYS.includes(k)));
  return { ...kept, datetime: createdAt, ...facts.metadata };
}
