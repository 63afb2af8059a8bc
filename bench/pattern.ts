/**
 * The bytes that the files benchmark sends and expects back: a 16 MiB pseudo-random block (a fixed
 * xorshift32 sequence, so that every process builds the same one without sharing it) repeated as
 * often as needed. Imported by the client (files.bench.ts) and by loopback-server.ts; no side effects.
 */
export const PATTERN_BYTES = 16 * 2 ** 20;

let cached: Buffer | null = null;

export function pattern(): Buffer {
  if (cached) return cached;
  const words = new Uint32Array(PATTERN_BYTES / 4);
  let x = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  cached = Buffer.from(words.buffer, words.byteOffset, words.byteLength);
  return cached;
}

/** Byte `offset` of the stream, as a view of `len` bytes (at most up to the end of the block). */
export function patternSlice(offset: number, len: number): Buffer {
  const p = pattern();
  const at = offset % PATTERN_BYTES;
  return p.subarray(at, Math.min(PATTERN_BYTES, at + len));
}
