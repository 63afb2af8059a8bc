/**
 * Old versions of a file's content (cozy-stack's io.cozy.files.versions, id `<file id>/<version id>`).
 * When a file is overwritten, its previous content becomes a candidate version; as cozy-stack
 * (model/vfs/version.go) it is kept unless it has no tags and the last kept version is younger than
 * `minDelayMs`, and the oldest untagged versions go beyond `max` (the current content counts as one).
 * Tagging and deleting versions run under the instance's lock; a deleted version's blob is removed
 * after the commit, and its bytes leave the disk usage.
 */
import { randomBytes } from 'node:crypto';
import { BadRequest, NotFound } from '../common/errors.js';
import type { Doc } from '../data/store.js';
import type { Instance } from '../instances/types.js';
import type { FileSystem } from './fs.js';
import { isDir, type FileDoc } from './types.js';

export const VERSIONS_DOCTYPE = 'io.cozy.files.versions';

export interface VersioningPolicy {
  max: number;
  minDelayMs: number;
}

export interface VersionDoc extends Doc {
  _id: string;
  _rev: string;
  file_id: string;
  updated_at: string;
  md5sum: string;
  size: string;
  tags: string[];
  internal_vfs_id: string;
}

const createdAt = (v: Doc): number => Date.parse(String((v.cozyMetadata as Doc | undefined)?.createdAt ?? v.updated_at ?? 0));

/** The versions of a file, oldest first. */
export async function versionsOf(fs: FileSystem, instance: Instance, fileId: string): Promise<VersionDoc[]> {
  const res = await fs.store(instance).allDocs(VERSIONS_DOCTYPE, { startkey: `${fileId}/`, endkey: `${fileId}/\uffff`, include_docs: true });
  return (res.rows.flatMap((r) => (r.doc && !r.doc._deleted ? [r.doc] : [])) as VersionDoc[]).sort((a, b) => createdAt(a) - createdAt(b));
}

/** What to do with the content being replaced (`keep` it as a version or not) and which old versions to drop. */
export function plan(candidate: Doc, olds: VersionDoc[], policy: VersioningPolicy): { keep: boolean; drop: VersionDoc[] } {
  if (policy.max <= 1) return { keep: false, drop: olds.filter((v) => v.tags.length === 0) };
  let keep = true;
  const last = olds.at(-1);
  if (last && ((candidate.tags as string[] | undefined) ?? []).length === 0 && createdAt(last) + policy.minDelayMs > createdAt(candidate)) keep = false;
  let excess = olds.length + 1 + (keep ? 1 : 0) - policy.max;
  const drop: VersionDoc[] = [];
  for (const v of olds) {
    if (excess <= 0) break;
    if (v.tags.length > 0) continue;
    drop.push(v);
    excess--;
  }
  return { keep, drop };
}

/** The version document for the content `file` has now (before it is replaced). */
export function versionFrom(file: FileDoc): Doc {
  const cm = (file.cozyMetadata ?? {}) as Doc;
  const at = String(cm.uploadedAt ?? file.updated_at);
  return {
    _id: `${file._id}/${randomBytes(8).toString('hex')}`,
    file_id: file._id, updated_at: file.updated_at, md5sum: String(file.md5sum), size: String(file.size), tags: [],
    internal_vfs_id: String(file.internal_vfs_id),
    cozyMetadata: { ...cm, createdAt: at, updatedAt: at },
  };
}

/** The version `versionId` of the file `fileId` (`<file id>/<version id>` or the version id alone), or 404. */
export async function findVersion(fs: FileSystem, instance: Instance, fileId: string, versionId: string): Promise<VersionDoc> {
  const id = versionId.includes('/') ? versionId : `${fileId}/${versionId}`;
  const missing = () => new NotFound(`no version ${versionId.slice(0, 100)} of this file`);
  if (!id.startsWith(`${fileId}/`)) throw missing();
  try {
    const doc = await fs.store(instance).get(VERSIONS_DOCTYPE, id);
    if (doc._deleted) throw missing();
    return doc as VersionDoc;
  } catch (err) {
    if (err instanceof NotFound) throw missing();
    throw err;
  }
}

/** Sets the tags of an old version (PATCH /files/:file-id/:version-id). */
export function tagVersion(fs: FileSystem, instance: Instance, fileId: string, versionId: string, tags: string[]): Promise<VersionDoc> {
  return fs.lock(instance, async () => {
    const v = await findVersion(fs, instance, fileId, versionId);
    const at = fs.clock().toISOString();
    const next: Doc = { ...v, tags, cozyMetadata: { ...((v.cozyMetadata as Doc | undefined) ?? {}), updatedAt: at } };
    return (await fs.store(instance).put(VERSIONS_DOCTYPE, next)).doc as VersionDoc;
  });
}

/** Deletes old versions in one transaction, frees their bytes, then removes their blobs. */
async function drop(fs: FileSystem, instance: Instance, pick: () => Promise<VersionDoc[]>): Promise<number> {
  const gone = await fs.lock(instance, async () => {
    const versions = await pick();
    if (versions.length === 0) return [];
    await fs.store(instance).putAll(VERSIONS_DOCTYPE, versions.map((v) => ({ _id: v._id, _rev: v._rev, _deleted: true })));
    fs.addUsage(instance, -versions.reduce((n, v) => n + Number(v.size), 0));
    return versions;
  });
  for (const v of gone) await fs.blobs.remove(instance.id, v.internal_vfs_id);
  return gone.length;
}

/** Deletes one old version of a file and its blob (DELETE /files/:file-id/:version-id). */
export async function deleteVersion(fs: FileSystem, instance: Instance, fileId: string, versionId: string): Promise<void> {
  await drop(fs, instance, async () => [await findVersion(fs, instance, fileId, versionId)]);
}

/** Deletes every old version of every file of the instance (DELETE /files/versions); returns how many went. */
export function clearVersions(fs: FileSystem, instance: Instance): Promise<number> {
  return drop(fs, instance, async () => {
    const res = await fs.store(instance).allDocs(VERSIONS_DOCTYPE, { include_docs: true });
    return res.rows.flatMap((r) => (r.doc && !r.doc._deleted ? [r.doc as VersionDoc] : []));
  });
}

/**
 * A new version of a file with the same content and new `metadata` and `tags` (POST
 * /files/:file-id/versions): the content is copied to a new blob and committed as an overwrite, so
 * the current content becomes an old version by the usual rules; 412 if the file changes meanwhile.
 */
export async function copyVersion(fs: FileSystem, instance: Instance, fileId: string, o: { metadata: Doc; tags: string[]; app?: string }): Promise<FileDoc> {
  const file = await fs.stat(instance, fileId);
  if (isDir(file)) throw new BadRequest('cannot create versions for directories', 'not_a_file');
  return fs.overwrite(instance, file._id, {
    body: await fs.open(instance, file), size: Number(file.size), md5: String(file.md5sum), mime: String(file.mime),
    tags: o.tags, metadata: o.metadata, ifMatch: file._rev, ...(o.app ? { app: o.app } : {}),
  });
}
