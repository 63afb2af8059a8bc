/**
 * Libraries that cost start-up time and idle memory but serve rare requests (images, two-factor
 * set-up), loaded on first use: sharp (libvips) alone adds about 27 MB of RSS and a third of a
 * second to a start, exifr and qrcode several MB more. Each is imported once, then shared.
 */
function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | null = null;
  return () => (loaded ??= load());
}

export const loadSharp = lazy(async () => (await import('sharp')).default);
export const loadExifr = lazy(async () => (await import('exifr')).default);
export const loadQrCode = lazy(async () => (await import('qrcode')).default);
