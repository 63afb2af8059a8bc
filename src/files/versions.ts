/**
 * Old versions of a file's content (cozy-stack's io.cozy.files.versions, id `<file id>/<version id>`).
 * When a file is overwritten, its previous content becomes a candidate version; as cozy-stack
 * (model/vfs/version.go) it is kept unless it has no tags and the last kept version is younger than
 * `minDelayMs`, and the oldest untagged versions go beyond `max` (the current content counts as one).
 */
import { randomBytes } from 'node:crypto';
import type { Doc } from '../data/store.js';
import type { Instance } from '../instances/types.js';
import type { FileSystem } from './fs.js';
import type { FileDoc } from './types.js';

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
