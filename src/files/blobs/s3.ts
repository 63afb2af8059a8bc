/**
 * The blob store on S3 (any S3-compatible store: AWS, MinIO, Ceph, Swift's s3api…), with @aws-sdk/client-s3 and
 * @aws-sdk/lib-storage. One bucket for the whole server (created if missing); a blob is the object
 * `<ns>/<area>/<key>` (`area`: files or thumbs, as the local engine's folders).
 *
 * A write streams through the meter (./meter.ts: limits, MD5 computed on the way, checked when the body ends, before
 * the upload completes) into lib-storage's Upload: one PutObject for a body smaller than a part, else a multipart
 * upload (parts of `partSize`, a few in flight), completed only once the whole body passed its checks; a failure
 * aborts it. A process killed in the middle leaves an incomplete multipart upload, invisible to listings and reads,
 * that `cleanTemporary` aborts (ListMultipartUploads).
 */
import type { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { NotFound } from '../../common/errors.js';
import { requireS3, requireS3Storage } from '../../common/lazy-libs.js';
import { isUnreachable, ObjectStoreUnavailable } from '../../engines/object-store.js';
import { keyToWrite } from './checks.js';
import { md5Hex, metered } from './meter.js';
import { BLOB_KEY_RE, InsufficientStorage, type BlobInfo, type BlobStore, type ByteRange, type WriteOptions } from './store.js';

const NS_RE = /^[0-9a-f]{32}$/;
/** S3's smallest part (but the last) and lib-storage's default; tests keep it, larger bodies have more parts. */
const PART_BYTES = 8 * 1024 * 1024;
/** Parts uploaded at once: memory held per upload is at most this many parts. */
const QUEUE = 2;
const STALE_MS = 60 * 60 * 1000;

export interface S3StoreOptions {
  endpoint: string | null;
  region: string;
  bucket: string;
  accessKeyId: string | null;
  secretAccessKey: string | null;
  forcePathStyle: boolean;
  /** `files` for file contents, `thumbs` for thumbnails. */
  area?: string;
  /** Bytes per part of a multipart upload (at least 5 MiB, S3's minimum). */
  partBytes?: number;
  /** `cleanTemporary` aborts multipart uploads untouched for this long (1 hour): younger ones may be another process's. */
  staleMs?: number;
}

/** The S3 error as the engine's: unreachable (or the store's 503) → ObjectStoreUnavailable; a full store → 507. */
function mapError(err: unknown): unknown {
  if (isUnreachable(err)) return new ObjectStoreUnavailable((err as Error).message, { cause: err });
  const status = (err as S3ServiceException)?.$metadata?.httpStatusCode;
  if (status === 503 || status === 502 || status === 504) return new ObjectStoreUnavailable(`S3 answered ${status}`, { cause: err });
  if (status === 507 || (err as Error)?.name === 'EntityTooLarge') return new InsufficientStorage();
  return err;
}

const notFound = (err: unknown) => {
  const e = err as S3ServiceException;
  return e?.$metadata?.httpStatusCode === 404 || e?.name === 'NoSuchKey' || e?.name === 'NotFound';
};

export class S3BlobStore implements BlobStore {
  private readonly s3: S3Client;
  private readonly area: string;
  private bucketReady: Promise<void> | null = null;
  /** The SDK, loaded with the first S3 store (blobs.engine s3 only: ~20 MB that a server without S3 does not hold). */
  private readonly sdk = requireS3();

  constructor(private readonly opts: S3StoreOptions) {
    this.area = opts.area ?? 'files';
    this.s3 = new this.sdk.S3Client({
      region: opts.region,
      endpoint: opts.endpoint ?? undefined,
      forcePathStyle: opts.forcePathStyle,
      credentials: opts.accessKeyId && opts.secretAccessKey ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } : undefined,
      // the SDK's default CRC32 checksums are unknown to many S3-compatible stores: only where S3 requires one
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // an unreachable store fails fast (503 at the routes) rather than after the SDK's three attempts
      maxAttempts: 2,
    });
    // DeleteObjects must carry a checksum: Content-MD5, the one every S3-compatible store knows (the SDK now sends CRC32)
    this.s3.middlewareStack.add((next, context) => async (args) => {
      const req = args.request as { headers?: Record<string, string>; body?: unknown };
      if (context.commandName === 'DeleteObjectsCommand' && req.headers && typeof req.body === 'string') {
        req.headers['content-md5'] = createHash('md5').update(req.body).digest('base64');
      }
      return next(args);
    }, { step: 'build', name: 'hearthContentMd5' });
  }

  private prefix(ns: string): string {
    if (!NS_RE.test(ns)) throw new Error(`invalid blob namespace ${ns.slice(0, 40)}`);
    return `${ns}/${this.area}/`;
  }

  private object(ns: string, key: string): string {
    if (!BLOB_KEY_RE.test(key)) throw new NotFound(`no blob ${key.slice(0, 40)}`);
    return this.prefix(ns) + key;
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    return fn().catch((err: unknown) => {
      throw mapError(err);
    });
  }

  /** The bucket, created on first use if missing. */
  private bucket(): Promise<void> {
    this.bucketReady ??= this.run(async () => {
      const Bucket = this.opts.bucket;
      try {
        await this.s3.send(new this.sdk.HeadBucketCommand({ Bucket }));
      } catch (err) {
        if (!notFound(err)) throw err;
        await this.s3.send(new this.sdk.CreateBucketCommand({ Bucket })).catch((e: unknown) => {
          if ((e as Error).name !== 'BucketAlreadyOwnedByYou') throw e;
        });
      }
    }).catch((err: unknown) => {
      this.bucketReady = null;
      throw err;
    });
    return this.bucketReady;
  }

  async write(ns: string, body: Readable, opts: WriteOptions): Promise<BlobInfo> {
    const key = keyToWrite(opts);
    const Key = this.prefix(ns) + key;
    const meter = metered(body, opts);
    try {
      await this.bucket();
      const upload = new (requireS3Storage().Upload)({
        client: this.s3,
        params: { Bucket: this.opts.bucket, Key, Body: meter },
        partSize: this.opts.partBytes ?? PART_BYTES,
        queueSize: QUEUE,
        leavePartsOnError: false,
      });
      const out = await this.run(() => upload.done());
      const { size, md5 } = meter.result();
      // a single PutObject's ETag is the content's MD5 (a multipart one is not: its parts' were checked by the store)
      const etag = String(out.ETag ?? '').replace(/"/g, '');
      if (!etag.includes('-') && etag !== md5Hex(md5)) {
        await this.remove(ns, key);
        throw new Error(`S3 stored ${Key} with ETag ${etag}, not the MD5 of what was sent (${md5Hex(md5)})`);
      }
      return { key, size, md5 };
    } catch (err) {
      meter.destroy();
      // the body's own error (the client gone, a limit) rather than the SDK's wrapping of it
      throw meter.errored ?? body.errored ?? err;
    }
  }

  async read(ns: string, key: string, range?: ByteRange): Promise<Readable> {
    const Key = this.object(ns, key);
    try {
      const res = await this.run(() => this.s3.send(new this.sdk.GetObjectCommand({ Bucket: this.opts.bucket, Key, Range: range ? `bytes=${range.start}-${range.end}` : undefined })));
      return res.Body as Readable;
    } catch (err) {
      if (notFound(err)) throw new NotFound(`no blob ${key}`);
      // a range of an empty blob: nothing to read
      if (range && (err as S3ServiceException)?.$metadata?.httpStatusCode === 416) return Readable.from([]);
      throw err;
    }
  }

  async size(ns: string, key: string): Promise<number | null> {
    if (!BLOB_KEY_RE.test(key)) return null;
    try {
      const res = await this.run(() => this.s3.send(new this.sdk.HeadObjectCommand({ Bucket: this.opts.bucket, Key: this.object(ns, key) })));
      return res.ContentLength ?? 0;
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  }

  async remove(ns: string, key: string): Promise<void> {
    await this.run(() => this.s3.send(new this.sdk.DeleteObjectCommand({ Bucket: this.opts.bucket, Key: this.object(ns, key) })));
  }

  /** Every object name under `prefix`, page after page (ListObjectsV2). */
  private async *list(prefix: string): AsyncIterable<string> {
    let ContinuationToken: string | undefined;
    do {
      const page = await this.run(() => this.s3.send(new this.sdk.ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: prefix, ContinuationToken })));
      for (const o of page.Contents ?? []) if (o.Key) yield o.Key;
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async *keys(ns: string): AsyncIterable<string> {
    const prefix = this.prefix(ns);
    await this.bucket();
    for await (const name of this.list(prefix)) {
      const key = name.slice(prefix.length);
      if (BLOB_KEY_RE.test(key)) yield key;
    }
  }

  /**
   * Multipart uploads never completed, with no part for `staleMs`, are writes that died (several processes share the
   * store: a younger one may be an upload in progress elsewhere). `drop` aborts them all (staleMs 0).
   */
  async cleanTemporary(ns: string, staleMs = this.opts.staleMs ?? STALE_MS): Promise<number> {
    const Prefix = this.prefix(ns);
    const before = Date.now() - staleMs;
    const Bucket = this.opts.bucket;
    await this.bucket();
    let removed = 0;
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.run(() => this.s3.send(new this.sdk.ListMultipartUploadsCommand({ Bucket: this.opts.bucket, Prefix, KeyMarker, UploadIdMarker })));
      for (const { Key, UploadId, Initiated } of page.Uploads ?? []) {
        if (staleMs > 0) {
          if ((Initiated?.getTime() ?? 0) > before) continue;
          const parts = await this.run(() => this.s3.send(new this.sdk.ListPartsCommand({ Bucket, Key, UploadId })));
          if ((parts.Parts ?? []).some((p) => (p.LastModified?.getTime() ?? 0) > before)) continue;
        }
        await this.run(() => this.s3.send(new this.sdk.AbortMultipartUploadCommand({ Bucket, Key, UploadId })));
        removed++;
      }
      if (!page.IsTruncated) return removed;
      KeyMarker = page.NextKeyMarker;
      UploadIdMarker = page.NextUploadIdMarker;
    }
  }

  /** Objects are durable once stored: nothing deferred. */
  async sync(): Promise<void> {}

  async drop(ns: string): Promise<void> {
    await this.cleanTemporary(ns, 0);
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const Objects = batch.map((Key) => ({ Key }));
      batch = [];
      const out = await this.run(() => this.s3.send(new this.sdk.DeleteObjectsCommand({ Bucket: this.opts.bucket, Delete: { Objects, Quiet: true } })));
      if (out.Errors?.length) throw new Error(`S3 did not delete ${out.Errors.length} objects: ${out.Errors[0]?.Code} ${out.Errors[0]?.Message}`);
    };
    for await (const name of this.list(this.prefix(ns))) {
      batch.push(name);
      if (batch.length === 1000) await flush();
    }
    await flush();
  }

  async close(): Promise<void> {
    this.s3.destroy();
  }
}
