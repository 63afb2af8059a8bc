/**
 * The owner's avatar. An upload is never kept as sent: its first bytes must be a PNG, JPEG, GIF or
 * WebP signature (so SVG, HTML or anything librsvg would parse never reaches the decoder), sharp
 * decodes it (at most MAX_PIXELS, corrupt files refused), applies the EXIF orientation, fits it in
 * SIZE×SIZE and encodes it again without metadata: what is served is always an image Hearth made.
 *
 * On disk: `instances/<id>/avatar/avatar` (one file, its type read back from its signature), written
 * to a temporary file in the same folder, fsynced, renamed over the old one and the folder fsynced:
 * a reader sees the old avatar or the new one, never a part. Destroying the instance removes it. With docs.engine
 * postgres, in PostgreSQL instead (./avatar-pg.ts), where every process finds it.
 *
 * Without an avatar, GET /public/avatar draws an SVG of the initials of the public name (cozy-stack's
 * rules: the first letter of the first and last words, a colour from the sum of the name's bytes).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSharp } from '../common/lazy-libs.js';
import { BadRequest, PayloadTooLarge, UnsupportedMediaType } from '../common/errors.js';

export const AVATAR_MAX_BYTES = 5 * 1024 * 1024;
/** The stored avatar fits in SIZE×SIZE pixels. */
export const AVATAR_SIZE = 512;
/** Decompression bombs: images with more pixels than this are refused before they are decoded. */
export const MAX_PIXELS = 25_000_000;
export const AVATAR_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const;

type Kind = 'png' | 'jpeg' | 'gif' | 'webp';
const MIME: Record<Kind, string> = { png: 'image/png', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };

/** The format the bytes start with, or null. */
export function sniff(b: Buffer): Kind | null {
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 6 && (b.subarray(0, 6).toString('latin1') === 'GIF87a' || b.subarray(0, 6).toString('latin1') === 'GIF89a')) return 'gif';
  if (b.length >= 12 && b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') return 'webp';
  return null;
}

/** Refuses a declared type that is not one of the four, before the body is read. */
export function checkAvatarType(contentType: string | undefined): void {
  const t = String(contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!(AVATAR_TYPES as readonly string[]).includes(t)) {
    throw new UnsupportedMediaType(`send the avatar as the raw image with Content-Type ${AVATAR_TYPES.join(', ')} (not ${t.slice(0, 60) || 'none'})`);
  }
}

/** An image the owner sends (the avatar, the wallpaper): how large it may be sent, and how large it is kept. */
export interface ImageLimits { what: string; maxBytes: number; size: number }
export const AVATAR_LIMITS: ImageLimits = { what: 'avatar', maxBytes: AVATAR_MAX_BYTES, size: AVATAR_SIZE };
/** Home's wallpaper (wallpaper-routes.ts), kept as the avatar is: larger, fitted in 2560×2560. */
export const WALLPAPER_LIMITS: ImageLimits = { what: 'wallpaper', maxBytes: 16 * 1024 * 1024, size: 2560 };

/** Reads the body up to the limit (the announced length is checked first, the bytes as they come). */
export async function readAvatarBody(body: AsyncIterable<Buffer>, contentLength: string | undefined, limits: ImageLimits = AVATAR_LIMITS): Promise<Buffer> {
  const tooBig = () => new PayloadTooLarge(`the ${limits.what} is larger than ${limits.maxBytes / 1024 / 1024} MB: send a smaller image (it is resized to ${limits.size}×${limits.size} anyway)`);
  if (contentLength !== undefined && Number(contentLength) > limits.maxBytes) throw tooBig();
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    n += chunk.length;
    if (n > limits.maxBytes) throw tooBig();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, n);
}

/** Decodes and re-encodes the upload (PNG and GIF → PNG, JPEG → JPEG, WebP → WebP; a GIF's first frame). */
export async function processAvatar(input: Buffer, size = AVATAR_SIZE): Promise<{ data: Buffer; type: string; width: number; height: number }> {
  const kind = sniff(input);
  if (!kind) throw new BadRequest('the body is not a PNG, JPEG, GIF or WebP image: send the image file itself');
  const img = (await loadSharp())(input, { failOn: 'error', limitInputPixels: MAX_PIXELS, animated: false });
  try {
    const meta = await img.metadata();
    if (meta.format !== kind) throw new Error(`its content is ${meta.format}`);
    const out = img.rotate().resize(size, size, { fit: 'inside', withoutEnlargement: true });
    const encoded = kind === 'jpeg' ? out.jpeg({ quality: 85, mozjpeg: true }) : kind === 'webp' ? out.webp({ quality: 85 }) : out.png({ compressionLevel: 9 });
    const { data, info } = await encoded.toBuffer({ resolveWithObject: true });
    return { data, type: MIME[kind === 'gif' ? 'png' : kind], width: info.width, height: info.height };
  } catch (err) {
    const msg = (err as Error).message;
    if (/pixel limit/i.test(msg)) throw new BadRequest(`the image has more than ${MAX_PIXELS / 1_000_000} million pixels: send a smaller one`);
    throw new BadRequest(`the image cannot be decoded (${msg.slice(0, 200)}): send a valid PNG, JPEG, GIF or WebP file`);
  }
}

export interface StoredAvatar {
  data: Buffer;
  type: string;
  etag: string;
}

/** Where the avatars are kept: on disk (AvatarStore), or in PostgreSQL with docs.engine postgres (./avatar-pg.ts). */
export interface Avatars {
  /** Replaces the avatar, durably: a reader sees the old one or the new one. */
  write(instanceId: string, data: Buffer): Promise<void>;
  read(instanceId: string): Promise<StoredAvatar | null>;
  /** Removes it (nothing if there is none): DELETE /settings/avatar, and the instance destroyed. */
  remove(instanceId: string): Promise<void>;
}

/** The stored bytes as served (their type read back from their signature), or null if they are no image. */
export function storedAvatar(data: Buffer): StoredAvatar | null {
  const kind = sniff(data);
  if (!kind) return null;
  return { data, type: MIME[kind], etag: `"${createHash('sha256').update(data).digest('hex').slice(0, 32)}"` };
}

export class AvatarStore implements Avatars {
  /** `root`: the folder of the instances' folders (`<dataDir>/instances`); `name`: the image's folder and file there (`avatar`, `wallpaper`). */
  constructor(private readonly root: string, private readonly name: 'avatar' | 'wallpaper' = 'avatar') {}

  private dir(instanceId: string): string {
    if (!/^[0-9a-f]{32}$/.test(instanceId)) throw new Error(`invalid instance id ${instanceId.slice(0, 40)}`);
    return join(this.root, instanceId, this.name);
  }

  async write(instanceId: string, data: Buffer): Promise<void> {
    const dir = this.dir(instanceId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = join(dir, `.${this.name}-${randomBytes(8).toString('hex')}.tmp`);
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } catch (err) {
      await fh.close();
      await rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    await rename(tmp, join(dir, this.name));
    await syncDir(dir);
  }

  async read(instanceId: string): Promise<StoredAvatar | null> {
    let data: Buffer;
    try {
      data = await readFile(join(this.dir(instanceId), this.name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return storedAvatar(data);
  }

  async remove(instanceId: string): Promise<void> {
    const dir = this.dir(instanceId);
    await rm(join(dir, this.name), { force: true });
    await syncDir(dir).catch(() => undefined);
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** cozy-stack's initials palette (cozy-ui's avatar colours). */
const COLORS = ['#1FA8F1', '#FD7461', '#FC6D00', '#F52D2D', '#FF962F', '#FF7F1B', '#6984CE', '#7F6BEE', '#B449E7', '#40DE8E', '#0DCBCF', '#35CE68', '#3DA67E', '#C2ADF4', '#FFC644', '#FC4C83'];
const GREY = '#32363F';

/** The initials (first letter of the first and of the last word) and the colour of a name. */
export function initialsOf(name: string): { initials: string; color: string } {
  const trimmed = name.trim();
  const letters = trimmed.split(' ').map((w) => [...w][0]).filter((c): c is string => c !== undefined && /\p{L}/u.test(c));
  const initials = letters.length === 0 ? '' : letters.length === 1 ? letters[0]! : letters[0]! + letters[letters.length - 1]!;
  const sum = [...Buffer.from(trimmed, 'utf8')].reduce((a, b) => a + b, 0);
  return { initials: initials.toUpperCase(), color: COLORS[sum % COLORS.length]! };
}

const XML_ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const xmlEsc = (s: string): string => s.replace(/[&<>"']/g, (c) => XML_ESC[c]!);

/** The SVG fallback: a disc with the initials (a person's outline for an empty name); `grey` and `translucent` as cozy-stack's `as`/`fx`. */
export function initialsSvg(name: string, opts: { grey?: boolean; translucent?: boolean } = {}): string {
  const { initials, color } = initialsOf(name);
  const fill = opts.grey ? GREY : color;
  const opacity = opts.translucent ? ' fill-opacity="0.5"' : '';
  const inner = initials
    ? `<text x="16" y="21.5" text-anchor="middle" font-family="Lato, system-ui, sans-serif" font-size="14" font-weight="600" fill="#ffffff">${xmlEsc(initials)}</text>`
    : '<path transform="translate(4 4)" fill="#ffffff" d="M12 12c2.21 0 4-1.79 4-4s-1.79-4-4-4-4 1.79-4 4 1.79 4 4 4zm0 2c-2.67 0-8 1.34-8 4v2h16v-2c0-2.66-5.33-4-8-4z"/>';
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="128" height="128"><circle cx="16" cy="16" r="16" fill="${fill}"${opacity}/>${inner}</svg>`;
}
