/**
 * The blob stores of the `blobs` setting: the files' contents and their thumbnails, two areas of one engine (the local
 * disk under `<dataDir>/instances`, one Swift container per instance, or one S3 bucket for the server).
 */
import type { HearthConfig } from '../../config/types.js';
import { LocalBlobStore } from './local.js';
import { S3BlobStore } from './s3.js';
import type { BlobStore } from './store.js';
import { SwiftBlobStore } from './swift.js';

export function createBlobStores(config: HearthConfig['blobs'], instancesDir: string): { blobs: BlobStore; thumbs: BlobStore } {
  return { blobs: blobStoreArea(config, instancesDir, 'files'), thumbs: blobStoreArea(config, instancesDir, 'thumbs') };
}

/** One area of the configured engine (`files`, `thumbs`, or `apps-code` for the code of installed apps: apps/code/shared-store.ts). */
export function blobStoreArea(config: HearthConfig['blobs'], instancesDir: string, name: string): BlobStore {
  if (config.engine === 'swift') {
    const { authUrl, user, key, containerPrefix } = config.swift;
    if (!authUrl || !user || !key) throw new Error('blobs.engine is swift but blobs.swift.authUrl, user and key are not all set');
    return new SwiftBlobStore({ authUrl, user, key, containerPrefix, area: name });
  }
  if (config.engine === 's3') {
    const { bucket, ...s3 } = config.s3;
    if (!bucket) throw new Error('blobs.engine is s3 but blobs.s3.bucket is not set');
    return new S3BlobStore({ ...s3, bucket, area: name });
  }
  return new LocalBlobStore(instancesDir, name);
}

/** Whether the settings of an object store are all given (blobs.swift.* or blobs.s3.*), whatever blobs.engine says. */
export function objectStoreConfigured(config: HearthConfig['blobs'], engine: 'swift' | 's3'): boolean {
  if (engine === 'swift') return Boolean(config.swift.authUrl && config.swift.user && config.swift.key);
  return Boolean(config.s3.endpoint && config.s3.bucket && config.s3.accessKeyId && config.s3.secretAccessKey);
}
