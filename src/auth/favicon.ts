/**
 * The built-in favicon: a flame on the pages' blue, drawn once as SVG and served (apps/assets/routes.ts, at /favicon.ico
 * unless the instance's context has its own) as an ICO holding 16, 32 and 48 pixel PNGs (the format every browser asks
 * /favicon.ico for). The pages link it with ICON_LINK (login-page.ts). Built on the first request (sharp, loaded then: not at start-up), then kept in memory.
 */
import { loadSharp } from '../common/lazy-libs.js';

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#1d4ed8"/>
<path d="M32 8c4 10 16 18 16 32a16 16 0 0 1-32 0c0-8 4-13 8-17 0 6 2 10 6 11-2-10 0-18 2-26z" fill="#f59e0b"/>
<path d="M32 30c3 5 8 8 8 14a8 8 0 0 1-16 0c0-5 3-8 8-14z" fill="#fde68a"/></svg>`;

const SIZES = [16, 32, 48];

/** An ICO file (ICONDIR, one ICONDIRENTRY per image, then the images) whose images are PNGs. */
export function icoOf(images: Array<{ size: number; png: Buffer }>): Buffer {
  const head = Buffer.alloc(6 + 16 * images.length);
  head.writeUInt16LE(0, 0);
  head.writeUInt16LE(1, 2); // 1: icon
  head.writeUInt16LE(images.length, 4);
  let offset = head.length;
  images.forEach(({ size, png }, i) => {
    const at = 6 + 16 * i;
    head.writeUInt8(size >= 256 ? 0 : size, at);
    head.writeUInt8(size >= 256 ? 0 : size, at + 1);
    head.writeUInt16LE(1, at + 4); // colour planes
    head.writeUInt16LE(32, at + 6); // bits per pixel
    head.writeUInt32LE(png.length, at + 8);
    head.writeUInt32LE(offset, at + 12);
    offset += png.length;
  });
  return Buffer.concat([head, ...images.map((i) => i.png)]);
}

let icon: Promise<Buffer> | null = null;
const build = async () => {
  const sharp = await loadSharp(); // not at start-up: libvips costs ~27 MB of RSS
  return icoOf(await Promise.all(SIZES.map(async (size) => ({ size, png: await sharp(Buffer.from(FAVICON_SVG)).resize(size, size).png().toBuffer() }))));
};

/** The ICO, built once (a failed build is tried again on the next call). */
export function faviconIco(): Promise<Buffer> {
  icon ??= build().catch((err: unknown) => {
    icon = null;
    throw err;
  });
  return icon;
}
