/**
 * Metadata objects sent before an upload (cozy-stack's POST /files/upload/metadata): kept as `_local`
 * documents of io.cozy.files in the instance's DocStore, named by a random MetadataID valid 10 minutes;
 * an upload with `MetadataID=` puts the object in the file's `metadata`. An unknown, malformed or expired
 * id is refused (422, as cozy-stack's ErrInvalidMetadataID); an expired one is removed when it is met.
 */
import { randomBytes } from 'node:crypto';
import { NotFound, UnprocessableEntity } from '../common/errors.js';
import type { Doc } from '../data/store.js';
import type { Instance } from '../instances/types.js';
import type { FileSystem } from './fs.js';
import { FILES_DOCTYPE } from './types.js';

export const METADATA_TTL_MS = 10 * 60_000;
const PREFIX = 'upload-metadata-';
const ID = /^[0-9a-f]{32}$/;

const invalid = () => new UnprocessableEntity('Invalid metadata ID: it is unknown or expired (it is valid 10 minutes)', 'invalid_parameter');

/** Keeps `metadata` for 10 minutes; returns its MetadataID. */
export async function saveUploadMetadata(fs: FileSystem, instance: Instance, metadata: Doc): Promise<string> {
  await fs.init(instance);
  const id = randomBytes(16).toString('hex');
  const expiresAt = fs.clock().getTime() + METADATA_TTL_MS;
  await fs.store(instance).putLocal(FILES_DOCTYPE, PREFIX + id, { metadata, expires_at: new Date(expiresAt).toISOString() });
  return id;
}

/** The metadata object named by `id`, if it has not expired; 422 otherwise. */
export async function uploadMetadata(fs: FileSystem, instance: Instance, id: string): Promise<Doc> {
  if (!ID.test(id)) throw invalid();
  let doc: Doc;
  try {
    doc = await fs.store(instance).getLocal(FILES_DOCTYPE, PREFIX + id);
  } catch (err) {
    if (err instanceof NotFound) throw invalid();
    throw err;
  }
  if (!(Date.parse(String(doc.expires_at)) > fs.clock().getTime())) {
    await fs.store(instance).deleteLocal(FILES_DOCTYPE, PREFIX + id, doc._rev as string).catch(() => undefined);
    throw invalid();
  }
  return doc.metadata as Doc;
}
