/** What the workers share: argument checks, the mapping of domain errors to permanent job failures, defaults. */
import { availableParallelism } from 'node:os';
import { HearthError } from '../../common/errors.js';
import type { Doc } from '../../data/store.js';
import type { FileSystem } from '../../files/fs.js';
import { FileRights } from '../../files/rights.js';
import { TRASH_PATH, isDir, type FileDoc } from '../../files/types.js';
import type { Vfs } from '../../files/vfs.js';
import type { Instance } from '../../instances/types.js';
import type { PermissionSet } from '../../permissions/rules.js';
import { PermanentJobError, type JobContext } from '../types.js';

/** cozy-stack's runtime.NumCPU(), the default concurrency of most of its workers. */
export const CPUS = Math.max(1, availableParallelism());

/** The job's arguments as an object, or a PermanentJobError naming the worker. */
export function argsObject(worker: string, message: unknown): Record<string, unknown> {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new PermanentJobError(`${worker}: the arguments must be a JSON object`);
  }
  return message as Record<string, unknown>;
}

export function argString(worker: string, args: Record<string, unknown>, key: string): string {
  const v = args[key];
  if (typeof v !== 'string' || v === '') throw new PermanentJobError(`${worker}: "${key}" must be a non-empty string`);
  return v;
}

/**
 * A client error of the domain (bad id, name taken, quota, refused name: 4xx but 408/429) cannot be fixed by
 * retrying: it becomes a PermanentJobError with `what` before its reason. Anything else is returned as it is
 * (retryable: a rate limit, an SMTP server down, a disk error).
 */
export function permanentIfClientError(err: unknown, what: string): unknown {
  if (err instanceof PermanentJobError) return err;
  if (err instanceof HearthError && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429) {
    return Object.assign(new PermanentJobError(`${what}: ${err.reason}`), { cause: err });
  }
  return err;
}

/** Whether a file or directory is in the trash (trashed flag, or its path). */
export async function isTrashed(fs: FileSystem, instance: Instance, doc: FileDoc): Promise<boolean> {
  if (doc.trashed === true) return true;
  const path = isDir(doc) ? String(doc.path) : await fs.pathOf(instance, doc);
  return path === TRASH_PATH || path.startsWith(`${TRASH_PATH}/`);
}

/** The rights a stored permission set carries now (PermissionResolver.current): a revoked source keeps none. */
export type RightsNow = (instance: Instance, set: PermissionSet) => Promise<PermissionSet>;

/**
 * The file rights a job acts with: those of the token that queued it (or created its trigger) as they are at run
 * time (`now`; without it, as they were when it was queued), checked by the one rights module of the file system;
 * null for the stack's own jobs and the CLI's, which may touch every file.
 */
export async function jobFileRights(vfs: Vfs, ctx: JobContext, now?: RightsNow): Promise<FileRights | null> {
  const stored = ctx.job.rights;
  if (!stored) return null;
  return new FileRights(vfs, ctx.instance, now ? await now(ctx.instance, stored) : stored);
}

/** Throws a PermanentJobError if `rights` (see jobFileRights) do not allow creating `draft` in `dir`. */
export async function assertJobCreate(rights: FileRights | null, dir: FileDoc, draft: Doc, what: string): Promise<void> {
  await rights?.assertCreate(dir, draft).catch((err: unknown) => {
    throw permanentIfClientError(err, what);
  });
}

/**
 * A file (not a directory) that exists and is not in the trash, and that `rights` (see jobFileRights) may read,
 * or a PermanentJobError saying why not.
 */
export async function liveFile(fs: FileSystem, instance: Instance, id: string, what: string, rights: FileRights | null = null): Promise<FileDoc> {
  let doc: FileDoc;
  try {
    doc = await fs.stat(instance, id);
    await rights?.assert('GET', doc);
  } catch (err) {
    throw permanentIfClientError(err, what);
  }
  if (isDir(doc)) throw new PermanentJobError(`${what}: ${id} is a directory, not a file`);
  if (await isTrashed(fs, instance, doc)) throw new PermanentJobError(`${what}: the file ${id} ("${doc.name}") is in the trash`);
  return doc;
}

/** Throws the abort reason if the run was aborted (timeout, shutdown). */
export function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('the job was aborted');
}
