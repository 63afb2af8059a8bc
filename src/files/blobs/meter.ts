/**
 * The body of an upload to an object store, measured on its way: each chunk checked against the limits (./checks.ts),
 * hashed (MD5), and passed on; at its end, before the last byte leaves, the size and MD5 are checked against what was
 * announced, so that a wrong body fails the stream and the store never completes the object.
 *
 * The MD5 runs on the event loop here (createHash, about 800 MB/s on one core): an object store is reached over the
 * network, whose throughput is well below that; the local engine's off-thread hashing (./md5-thread.ts) pays for
 * itself only where the disk is faster than the hash.
 */
import { createHash, type Hash } from 'node:crypto';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { chunkChecker, verifyBlob } from './checks.js';
import type { WriteOptions } from './store.js';

export class BlobMeter extends Transform {
  private readonly hash: Hash = createHash('md5');
  private readonly check: (chunk: Buffer, n: number) => void;
  private total = 0;
  private md5: string | null = null;

  constructor(private readonly opts: WriteOptions) {
    super();
    this.check = chunkChecker(opts);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.total += chunk.length;
      this.check(chunk, this.total);
      this.hash.update(chunk);
      done(null, chunk);
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      const md5 = this.hash.digest('base64');
      verifyBlob(this.opts, this.total, md5);
      this.md5 = md5;
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  /** The size and MD5 (base64), once the body has ended and passed every check. */
  result(): { size: number; md5: string } {
    if (this.md5 === null) throw new Error('the body has not ended yet');
    return { size: this.total, md5: this.md5 };
  }
}

/** `body` through a meter: an error of either destroys both; the meter is what the store reads. */
export function metered(body: Readable, opts: WriteOptions): BlobMeter {
  const meter = new BlobMeter(opts);
  if (body.destroyed) {
    meter.destroy((body.errored as Error | null) ?? new Error('the upload stream closed before its end'));
    return meter;
  }
  pipeline(body, meter, () => undefined);
  return meter;
}

/** base64 MD5 → hex (Swift's and S3's ETags). */
export const md5Hex = (b64: string): string => Buffer.from(b64, 'base64').toString('hex');
