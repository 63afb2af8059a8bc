/**
 * Blobs kept for the snapshots of exports (move/export/snapshot.ts): the file system removes a blob once no document
 * names it any more; while an export of the instance holds its snapshot, `holds.keep` records the blob for that export
 * instead (one atomic step with the holds it reads), and the blob is removed when no export holds it any more. Nothing
 * is copied: on local disk as on Swift or S3, keeping a blob is not removing it yet.
 */
import type { Readable } from 'node:stream';
import type { BlobInfo, BlobStore, ByteRange, WriteOptions } from './store.js';

/** A blob kept for an export: which export, and until when (epoch ms) at the latest. */
export interface HeldKey { key: string; exportId: string; expiresAt: number }

export interface BlobHolds {
  /** True when an export holds the namespace's blobs now (the blob is then recorded for it and must stay). */
  keep(ns: string, key: string): Promise<boolean>;
  /** The namespace's blobs kept for exports that hold them now (one row per export that keeps a blob). */
  held(ns: string): Promise<HeldKey[]>;
}

export class HeldBlobStore implements BlobStore {
  constructor(private readonly inner: BlobStore, private readonly holds: BlobHolds) {}

  write(ns: string, body: Readable, opts: WriteOptions): Promise<BlobInfo> {
    return this.inner.write(ns, body, opts);
  }

  read(ns: string, key: string, range?: ByteRange): Promise<Readable> {
    return this.inner.read(ns, key, range);
  }

  size(ns: string, key: string): Promise<number | null> {
    return this.inner.size(ns, key);
  }

  /** The blobs no document names that exports keep (fsck reports them as such, never as orphans). */
  held(ns: string): Promise<HeldKey[]> {
    return this.holds.held(ns);
  }

  async remove(ns: string, key: string): Promise<void> {
    if (await this.holds.keep(ns, key)) return;
    await this.inner.remove(ns, key);
  }

  keys(ns: string): AsyncIterable<string> {
    return this.inner.keys(ns);
  }

  cleanTemporary(ns: string): Promise<number> {
    return this.inner.cleanTemporary(ns);
  }

  sync(ns: string): Promise<void> {
    return this.inner.sync(ns);
  }

  drop(ns: string): Promise<void> {
    return this.inner.drop(ns);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
