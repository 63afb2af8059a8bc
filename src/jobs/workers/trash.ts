/**
 * The trash workers (internal, queued by the stack):
 * - `trash-files` destroys, for good, the given trashed files and directories (`{file_ids}`), or empties the
 *   whole trash (no ids): so that emptying a large trash runs in the background, not in an HTTP request.
 * - `clean-old-trashed` destroys what was put in the trash more than `files.trashRetentionDays` days ago
 *   (cozy-stack's fs.auto_clean_trashed_after); 0 disables it.
 * Both stop between two items when the run is aborted; what was destroyed stays destroyed (a retry goes on).
 */
import { BadRequest, Forbidden, NotFound } from '../../common/errors.js';
import { pace } from '../../common/pace.js';
import type { HearthConfig } from '../../config/types.js';
import type { Vfs } from '../../files/vfs.js';
import { TRASH_DIR_ID, type FileDoc } from '../../files/types.js';
import { PermanentJobError, type JobContext, type WorkerDef } from '../types.js';
import { CPUS, checkAborted } from './common.js';

export interface TrashFilesDeps {
  vfs: Vfs;
}

export interface CleanOldTrashedDeps {
  vfs: Vfs;
  config: Pick<HearthConfig, 'files'>;
  now?: () => Date;
}

const PAGE = 200;
const DAY_MS = 86_400_000;

/** cozy-stack's settings for both: 4 × CPUs at a time, 2 runs, 2 hours. */
const TRASH_DEFAULTS = { internal: true, concurrency: 4 * CPUS, maxExecCount: 2, timeoutSeconds: 2 * 3600 } as const;

/** Destroys the item; false when it was already gone. */
async function destroy(vfs: Vfs, ctx: JobContext, id: string): Promise<boolean> {
  await pace(); // background work: in short slices of the event loop (common/pace.ts)
  try {
    await vfs.tree.destroy(ctx.instance, id);
    return true;
  } catch (err) {
    if (err instanceof NotFound) return false;
    throw err;
  }
}

export function trashFilesWorker(deps: TrashFilesDeps): WorkerDef {
  return {
    name: 'trash-files',
    ...TRASH_DEFAULTS,
    async run(ctx) {
      const msg = (ctx.job.message ?? {}) as { file_ids?: unknown };
      if (typeof msg !== 'object' || Array.isArray(msg)) throw new PermanentJobError('trash-files: the arguments must be an object {file_ids?}');
      const ids = msg.file_ids;
      if (ids === undefined || ids === null) {
        let n = 0;
        for (;;) {
          checkAborted(ctx.signal);
          const { docs } = await deps.vfs.fs.children(ctx.instance, TRASH_DIR_ID, { limit: PAGE });
          if (docs.length === 0) break;
          for (const d of docs) if (await destroy(deps.vfs, ctx, d._id)) n++;
        }
        ctx.log.info({ destroyed: n }, 'trash-files: the trash was emptied');
        return;
      }
      if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string' || id === '')) {
        throw new PermanentJobError('trash-files: "file_ids" must be an array of ids');
      }
      const refused: string[] = [];
      let n = 0;
      for (const id of new Set(ids as string[])) {
        checkAborted(ctx.signal);
        try {
          if (await destroy(deps.vfs, ctx, id)) n++;
        } catch (err) {
          // not in the trash (or the root, the trash itself): the others are still destroyed
          if (!(err instanceof BadRequest) && !(err instanceof Forbidden)) throw err;
          refused.push(`${id} (${(err as Error).message})`);
        }
      }
      ctx.log.info({ destroyed: n, refused: refused.length }, 'trash-files: destroyed trashed files');
      if (refused.length) throw new PermanentJobError(`trash-files: ${refused.length} item(s) were not destroyed: ${refused.slice(0, 10).join(', ')}`);
    },
  };
}

/** When the item went to the trash: cozyMetadata.trashedAt (tree.ts), else its updated_at (set when it was moved there). */
function trashedAt(doc: FileDoc): number {
  const cm = doc.cozyMetadata as { trashedAt?: unknown } | undefined;
  const at = typeof cm?.trashedAt === 'string' ? cm.trashedAt : doc.updated_at;
  const t = Date.parse(String(at));
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
}

export function cleanOldTrashedWorker(deps: CleanOldTrashedDeps): WorkerDef {
  const now = deps.now ?? deps.vfs.fs.clock;
  return {
    name: 'clean-old-trashed',
    ...TRASH_DEFAULTS,
    async run(ctx) {
      const days = deps.config.files.trashRetentionDays;
      if (!(days > 0)) return;
      const before = now().getTime() - days * DAY_MS;
      let destroyed = 0;
      // the trash's children by name; destroying one does not move the cursor
      for (let cursor: string | undefined; ;) {
        checkAborted(ctx.signal);
        const page = await deps.vfs.fs.children(ctx.instance, TRASH_DIR_ID, { limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
        for (const d of page.docs) if (trashedAt(d) < before && (await destroy(deps.vfs, ctx, d._id))) destroyed++;
        if (page.next === null) break;
        cursor = page.next;
      }
      if (destroyed > 0) ctx.log.info({ destroyed, days }, 'clean-old-trashed: destroyed items trashed too long ago');
    },
  };
}
