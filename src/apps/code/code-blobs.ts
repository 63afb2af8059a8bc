/**
 * Where the shared app code store (./shared-store.ts) keeps the bytes of the files: each stored file (raw, or one of
 * its compressed copies) is one blob under a fresh key, named by the version's index. Two engines:
 * - the object store of blobs.engine swift or s3 (the BlobStore of src/files/blobs, area `apps-code`, in a reserved
 *   namespace no instance id can be: its own container on Swift, its own key prefix on S3);
 * - PostgreSQL (a bytea table of the schema `hearth`) when the blobs are on the local disk but docs.engine is
 *   postgres: app code is a few MB a version, and every process must read it.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { NotFound } from '../../common/errors.js';
import type { PgPool } from '../../engines/postgres.js';
import { PgSchema } from '../../engines/pg-schema.js';
import type { BlobStore } from '../../files/blobs/store.js';

export interface CodeBlobs {
  /** Stores the bytes of a local file; returns its key. */
  put(file: string): Promise<string>;
  /** The bytes of a blob (null: no such blob). */
  get(key: string): Promise<Buffer | Readable | null>;
  remove(keys: string[]): Promise<void>;
  /** Every stored key (the orphan sweep of ./shared-store.ts compares them with the versions' keys). */
  keys(): AsyncIterable<string>;
  close(): Promise<void>;
}

/** The namespace of app code in the object store: 32 hex characters, as the instances' ids, but never one of them (they are random, never all zeros). */
export const APPS_CODE_NS = '0'.repeat(32);
/** Blobs removed at once. */
const PARALLEL = 8;

export class ObjectCodeBlobs implements CodeBlobs {
  /** `store`: an area of the object store given to app code alone (files/blobs/engine.ts blobStoreArea 'apps-code'). */
  constructor(private readonly store: BlobStore) {}

  async put(file: string): Promise<string> {
    return (await this.store.write(APPS_CODE_NS, createReadStream(file), { maxBytes: Number.MAX_SAFE_INTEGER })).key;
  }

  async get(key: string): Promise<Readable | null> {
    try {
      return await this.store.read(APPS_CODE_NS, key);
    } catch (err) {
      if (err instanceof NotFound) return null;
      throw err;
    }
  }

  async remove(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += PARALLEL) await Promise.all(keys.slice(i, i + PARALLEL).map((k) => this.store.remove(APPS_CODE_NS, k)));
  }

  keys(): AsyncIterable<string> {
    return this.store.keys(APPS_CODE_NS);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

const DDL = 'CREATE TABLE IF NOT EXISTS hearth.app_code_blobs (key text PRIMARY KEY, data bytea NOT NULL)';

export class PgCodeBlobs implements CodeBlobs {
  private readonly schema: PgSchema;

  constructor(private readonly pool: PgPool) {
    this.schema = new PgSchema(pool, DDL);
  }

  async put(file: string): Promise<string> {
    await this.schema.ready();
    const key = randomUUID().replace(/-/g, '');
    await this.pool.query('INSERT INTO hearth.app_code_blobs (key, data) VALUES ($1, $2)', [key, await readFile(file)]);
    return key;
  }

  async get(key: string): Promise<Buffer | null> {
    await this.schema.ready();
    const { rows } = await this.pool.query<{ data: Buffer }>('SELECT data FROM hearth.app_code_blobs WHERE key = $1', [key]);
    return rows[0]?.data ?? null;
  }

  async remove(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.schema.ready();
    await this.pool.query('DELETE FROM hearth.app_code_blobs WHERE key = ANY($1)', [keys]);
  }

  async *keys(): AsyncIterable<string> {
    await this.schema.ready();
    const { rows } = await this.pool.query<{ key: string }>('SELECT key FROM hearth.app_code_blobs');
    for (const { key } of rows) yield key;
  }

  /** The pool belongs to the composition root. */
  async close(): Promise<void> {}
}

/** The bytes of a blob, in memory. */
export async function bytesOf(body: Buffer | Readable): Promise<Buffer> {
  return Buffer.isBuffer(body) ? body : buffer(body);
}
