/** A pass-through stream that hashes and counts what flows through it (a step of a pipeline that writes a file). */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

export interface HashTap {
  stream: Transform;
  /** The digest (hex) and the byte count, once the stream has ended. */
  result(): { hash: string; size: number };
}

export function hashTap(algorithm: 'sha256' | 'md5'): HashTap {
  const hash = createHash(algorithm);
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  return { stream, result: () => ({ hash: hash.digest('hex'), size }) };
}
