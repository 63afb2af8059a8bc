/**
 * What every blob engine checks while a body streams in and once it has ended (the limits of WriteOptions), and the
 * keys it draws: one implementation for the local disk and the object stores, so that they refuse alike.
 */
import { randomUUID } from 'node:crypto';
import { BLOB_KEY_RE, BlobMismatch, BlobTooLarge, type WriteOptions } from './store.js';

/** Bytes of the content's head kept for the caller (opts.head) by default, enough to sniff a MIME type. */
const HEAD_BYTES = 4100;

/** A new blob key, 32 hex characters (randomUUID draws from Node's cached entropy; randomBytes per key showed in profiles). */
export const newKey = (): string => randomUUID().replace(/-/g, '');

/** The key of a new blob: the caller's (a move between engines keeps the keys: WriteOptions.key), checked, or a fresh one. */
export function keyToWrite(opts: WriteOptions): string {
  if (opts.key !== undefined && !BLOB_KEY_RE.test(opts.key)) throw new Error(`invalid blob key ${opts.key.slice(0, 40)}`);
  return opts.key ?? newKey();
}

/** Checks one more chunk against the limits: the size so far is `n`. */
export function checkSize(opts: WriteOptions, n: number): void {
  if (opts.expectedSize !== undefined && n > opts.expectedSize) {
    throw new BlobMismatch(`the body is longer than its announced ${opts.expectedSize} bytes`, 'size_mismatch');
  }
  if (n > opts.maxBytes) throw new BlobTooLarge(`the file is larger than the ${opts.maxBytes} bytes allowed (quota or size limit)`);
}

/** The check of each chunk (`n`: the total so far, this chunk included): the limits, then the head for the caller. */
export function chunkChecker(opts: WriteOptions): (chunk: Buffer, n: number) => void {
  let headBytes = 0;
  const headMax = opts.headBytes ?? HEAD_BYTES;
  return (chunk, n) => {
    checkSize(opts, n);
    if (opts.head && headBytes < headMax) {
      // a copy: the chunk itself may move to another thread (./file-sink.ts), which empties it here
      opts.head.push(Buffer.from(chunk.subarray(0, headMax - headBytes)));
      headBytes += Math.min(chunk.length, headMax - headBytes);
    }
  };
}

/** The whole body has arrived: its size and MD5 (base64) against what was announced. */
export function verifyBlob(opts: WriteOptions, size: number, md5: string): void {
  if (opts.expectedSize !== undefined && size !== opts.expectedSize) {
    throw new BlobMismatch(`the body has ${size} bytes, not the ${opts.expectedSize} announced`, 'size_mismatch');
  }
  if (opts.expectedMd5 !== undefined && md5 !== opts.expectedMd5) {
    throw new BlobMismatch(`the content's MD5 is ${md5}, not the ${opts.expectedMd5} given in Content-MD5`, 'invalid_checksum');
  }
}
