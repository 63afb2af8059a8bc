/**
 * The blob store behind /files: file contents, streamed in and out, never held in memory.
 * One namespace per instance. A blob is written under a fresh key and becomes durable before
 * `write` resolves, but nothing shows it until the file system commits a document that names
 * its key: a crash before that commit leaves an orphan blob (found by `keys()` for fsck), never
 * a visible half file. The local-disk engine is in ./local.ts; object storage comes with the
 * scale-out work and implements the same interface.
 */
import type { Readable } from 'node:stream';
import { PayloadTooLarge, PreconditionFailed } from '../../common/errors.js';

export interface BlobInfo {
  /** The blob's key in its namespace: 32 lowercase hex characters. */
  key: string;
  size: number;
  /** MD5 of the content, base64 (cozy's `md5sum`). */
  md5: string;
}

export interface WriteOptions {
  /** Refuse (PayloadTooLarge, 413) as soon as more bytes than this arrive. */
  maxBytes: number;
  /** If given, the exact size the body must have (a Content-Length): 412 otherwise. */
  expectedSize?: number;
  /** If given, the MD5 (base64) the content must have (Content-MD5): 412 otherwise. */
  expectedMd5?: string;
  /** If given, filled with the content's first bytes (about 4 KiB: enough to recognise a MIME type). */
  head?: Buffer[];
  /** How many first bytes go in `head` (by default about 4 KiB; an image's EXIF needs more). */
  headBytes?: number;
  /**
   * The key to write the blob under, instead of a fresh one: only for moving an instance between blob engines
   * (instances/migrate.ts), whose file documents name their blobs' keys. An engine that cannot honour it returns
   * another key, and the move stops there.
   */
  key?: string;
  /**
   * Skip this blob's own fsyncs: the caller makes the whole namespace durable once with `sync` before it relies on
   * the blob (an import, restarted from scratch after a crash). A hint: an engine whose writes are durable anyway ignores it.
   */
  deferSync?: boolean;
  /**
   * About the most bytes of the body the engine may hold at once (its batches gathered and in flight), for a writer
   * that is not bound by a network (an import reads its archive from the disk as fast as the engine takes it). A hint:
   * by default the engine's own (local disk: 20 MiB), and an engine with its own part size keeps it.
   */
  memoryBytes?: number;
}

/** Inclusive byte range, as HTTP's Range. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobStore {
  /** Streams `body` into a new durable blob; on any failure nothing is left behind. */
  write(ns: string, body: Readable, opts: WriteOptions): Promise<BlobInfo>;
  /** The blob's bytes (or a range of them). */
  read(ns: string, key: string, range?: ByteRange): Promise<Readable>;
  /** The blob's size, or null when there is no such blob. */
  size(ns: string, key: string): Promise<number | null>;
  /** Removes a blob (no error if it is already gone). */
  remove(ns: string, key: string): Promise<void>;
  /** Every blob key of a namespace, for fsck. */
  keys(ns: string): AsyncIterable<string>;
  /** Removes what interrupted writes left (temporary files); returns how many. */
  cleanTemporary(ns: string): Promise<number>;
  /** Makes every blob of the namespace written with `deferSync` durable. */
  sync(ns: string): Promise<void>;
  /** Removes a whole namespace (an instance being destroyed). */
  drop(ns: string): Promise<void>;
  /** Releases what the engine keeps open (at shutdown). */
  close(): Promise<void>;
}

export const BLOB_KEY_RE = /^[0-9a-f]{32}$/;

/** The body is bigger than allowed (quota, or the file's announced size). */
export class BlobTooLarge extends PayloadTooLarge {}

/** The content does not match its announced MD5 or size: cozy-stack answers 412. */
export class BlobMismatch extends PreconditionFailed {}

/** The disk (or the object store) is full: 507 (common/errors.ts). */
export { InsufficientStorage } from '../../common/errors.js';
