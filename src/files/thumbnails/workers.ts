/**
 * The thumbnail workers, as cozy-stack's worker/thumbnail: `thumbnail` makes the four thumbnails
 * of one image, `thumbnailck` back-fills those missing for every image of an instance. Both are
 * internal (only the stack queues them). `thumbnailJobFor` tells, from an io.cozy.files bus event,
 * whether a new or changed image needs a `thumbnail` job; the composition root pushes it.
 *
 * The `thumbnail` message is `{file_id}`, or cozy-stack's `{file: <file document>, format?}`; a
 * job fired by an @event trigger takes the file of its event. An image that cannot be decoded
 * fails the job at once (PermanentJobError, no retry) and the file is left untouched.
 */
import type { DocEvent } from '../../common/bus.js';
import type { Doc } from '../../data/store.js';
import { PermanentJobError, type JobContext, type WorkerDef } from '../../jobs/types.js';
import { FILES_DOCTYPE, type FileDoc } from '../types.js';
import { makeThumbnails, thumbnailable, type ThumbnailDeps } from './generate.js';
import { UnreadableImage } from './render.js';
import { currentThumbs, isThumbFormat } from './state.js';

export type { ThumbnailDeps };

const PAGE = 500;

/** The file a `thumbnail` job is about. */
function fileIdOf(ctx: JobContext): string {
  const m = (ctx.job.message ?? {}) as { file_id?: unknown; file?: { _id?: unknown; id?: unknown }; format?: unknown };
  if (m.format !== undefined && !(typeof m.format === 'string' && isThumbFormat(m.format))) {
    throw new PermanentJobError(`unknown thumbnail format ${JSON.stringify(m.format)}: tiny, small, medium or large`);
  }
  const id = m.file_id ?? m.file?._id ?? m.file?.id ?? ctx.job.event?.doc._id;
  if (typeof id !== 'string' || id === '') throw new PermanentJobError('a thumbnail job names its file: {"file_id": "<id>"} (or cozy-stack\'s {"file": {...}})');
  return id;
}

async function one(deps: ThumbnailDeps, ctx: JobContext, id: string): Promise<void> {
  try {
    const outcome = await makeThumbnails(deps, ctx.instance, id, ctx.signal);
    ctx.log.debug({ file_id: id, outcome }, 'thumbnails');
  } catch (err) {
    if (err instanceof UnreadableImage) throw new PermanentJobError(`no thumbnails for file ${id}: ${err.message}`);
    throw err;
  }
}

export function createThumbnailWorker(deps: ThumbnailDeps): WorkerDef {
  return {
    name: 'thumbnail',
    internal: true,
    maxExecCount: 2,
    timeoutSeconds: 60,
    concurrency: 2,
    run: async (ctx) => one(deps, ctx, fileIdOf(ctx)),
  };
}

/** Every image of the instance that is not in the trash, page after page. */
async function* images(deps: ThumbnailDeps, ctx: JobContext): AsyncIterable<FileDoc> {
  const store = deps.vfs.fs.store(ctx.instance);
  await deps.vfs.fs.init(ctx.instance);
  let bookmark: string | undefined;
  for (;;) {
    const page = await store.find(FILES_DOCTYPE, { selector: { type: 'file', class: 'image', trashed: false }, limit: PAGE, skip: 0, ...(bookmark ? { bookmark } : {}) });
    for (const d of page.docs) yield d as FileDoc;
    if (page.docs.length < PAGE) return;
    bookmark = page.bookmark;
  }
}

export function createThumbnailCheckWorker(deps: ThumbnailDeps): WorkerDef {
  return {
    name: 'thumbnailck',
    internal: true,
    maxExecCount: 1,
    timeoutSeconds: 24 * 3600,
    concurrency: 1,
    async run(ctx) {
      const failed: string[] = [];
      let made = 0;
      for await (const doc of images(deps, ctx)) {
        ctx.signal.throwIfAborted();
        if (!thumbnailable(doc)) continue;
        try {
          if ((await makeThumbnails(deps, ctx.instance, doc._id, ctx.signal)) === 'made') made++;
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          failed.push(`${doc._id} (${doc.name}): ${(err as Error).message}`);
        }
      }
      ctx.log.info({ made, failed: failed.length }, 'thumbnails checked');
      if (failed.length) throw new Error(`thumbnails of ${failed.length} image(s) could not be made: ${failed.slice(0, 10).join('; ')}`);
    },
  };
}

/** The `thumbnail` job a change of io.cozy.files calls for: a created image, or an image with a new content. */
export function thumbnailJobFor(event: DocEvent): { worker: 'thumbnail'; message: { file_id: string } } | null {
  if (event.doctype !== FILES_DOCTYPE || event.verb === 'DELETED') return null;
  const doc = event.doc as Doc;
  if (doc._deleted === true || doc.trashed === true || !thumbnailable(doc) || currentThumbs(doc)) return null;
  if (event.verb === 'UPDATED' && event.old && event.old.md5sum === doc.md5sum) return null;
  return { worker: 'thumbnail', message: { file_id: event.id } };
}
