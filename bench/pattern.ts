/**
 * The bytes that the files benchmark sends and expects back: a 16 MiB pseudo-random block (a fixed
 * xorshift32 sequence, so that every process builds the same one without sharing it) repeated as
 * often as needed. Imported by the client (files.bench.ts) and by loopback-server.ts; no side effects.
 */
import type { FileHandle } from 'node:fs/promises';

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

/** Writes the stream's first `size` bytes into `fh` in 1 MiB writes, paced to last `seconds` if given (0: at full speed). */
export async function writePattern(fh: FileHandle, size: number, seconds = 0): Promise<void> {
  const t0 = performance.now();
  for (let off = 0; off < size;) {
    const piece = patternSlice(off, Math.min(2 ** 20, size - off));
    await fh.write(piece, 0, piece.length, off);
    off += piece.length;
    const ahead = (off / size) * seconds * 1000 - (performance.now() - t0);
    if (ahead > 1) await new Promise((r) => setTimeout(r, ahead));
  }
}
