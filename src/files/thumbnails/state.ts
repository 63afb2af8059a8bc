/**
 * Thumbnails as the file documents record them. A file whose thumbnails were made carries
 * `internal_thumbnails: {md5sum, secret, keys}`: the content (md5sum) they were made from, the
 * secret of their links, and their blob keys in the thumbnail area of the blob store (one key per
 * format, never shown by /files). They count only while `md5sum` is the file's: a new content
 * (overwrite, revert) makes them stale at once — never served, never linked — and the file system
 * removes them on that change and when the file is destroyed (fs.ts, tree.ts); fsck finds what a
 * crash left (fsck.ts).
 *
 * The secret is HMAC-SHA256(file id, md5sum) under a key derived from the instance's session secret,
 * 128 bits: unguessable, stable for a content (so the links can be cached for good), and changed
 * by a new content. This module imports no image library: the core and the serializer use it.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Doc } from '../../data/store.js';

export const THUMB_FORMATS = ['tiny', 'small', 'medium', 'large'] as const;
export type ThumbFormat = (typeof THUMB_FORMATS)[number];

export const isThumbFormat = (s: string): s is ThumbFormat => (THUMB_FORMATS as readonly string[]).includes(s);

export interface ThumbState {
  md5sum: string;
  secret: string;
  keys: Record<ThumbFormat, string>;
}

/** The recorded thumbnails of a document, whatever content they were made from (null if none). */
export function thumbStateOf(doc: Doc): ThumbState | null {
  const t = doc.internal_thumbnails as Partial<ThumbState> | undefined;
  if (!t || typeof t !== 'object' || typeof t.md5sum !== 'string' || typeof t.secret !== 'string' || !t.keys) return null;
  return THUMB_FORMATS.every((f) => typeof t.keys?.[f] === 'string') ? (t as ThumbState) : null;
}

/** The thumbnails of the document's current content, or null (none, or stale). */
export function currentThumbs(doc: Doc): ThumbState | null {
  const t = thumbStateOf(doc);
  return t && doc.type === 'file' && t.md5sum === doc.md5sum ? t : null;
}

/** Every thumbnail blob key the document names (stale ones included): what to remove with it. */
export function thumbKeysOf(doc: Doc): string[] {
  const t = thumbStateOf(doc);
  return t ? THUMB_FORMATS.map((f) => t.keys[f]) : [];
}

const keyOf = (instanceSecret: Uint8Array) => Buffer.from(hkdfSync('sha256', instanceSecret, 'hearth/thumbnails', 'hearth/files/thumbnails/v1', 32));

/** The secret of a file's thumbnail links for one content. */
export function thumbSecret(instanceSecret: Uint8Array, instanceId: string, fileId: string, md5sum: string): string {
  return createHmac('sha256', keyOf(instanceSecret)).update(`${instanceId}|${fileId}|${md5sum}`).digest().subarray(0, 16).toString('hex');
}

/** Whether `given` is the secret of the document's current content (in constant time). */
export function secretMatches(instanceSecret: Uint8Array, instanceId: string, doc: Doc, given: string): boolean {
  const want = Buffer.from(thumbSecret(instanceSecret, instanceId, String(doc._id), String(doc.md5sum)));
  const got = Buffer.from(given);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** `links.tiny|small|medium|large` of a file resource, when it has thumbnails of its content. */
export function thumbLinks(doc: Doc): Partial<Record<ThumbFormat, string>> {
  const t = currentThumbs(doc);
  if (!t) return {};
  const out: Partial<Record<ThumbFormat, string>> = {};
  for (const f of THUMB_FORMATS) out[f] = `/files/${String(doc._id)}/thumbnails/${t.secret}/${f}`;
  return out;
}
