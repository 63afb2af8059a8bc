/**
 * A directory copy that tells its progress (Hearth's, beside cozy-stack's POST /files/:id/copy, which copies files
 * only): asked with `Accept: application/x-ndjson`, the answer is NDJSON lines, `{"type":"progress","files":n,
 * "bytes":b,"total_files":N,"total_bytes":B}` as the bytes are copied (at most 5 a second; `files` counts the files
 * whole, `bytes` includes those of the file under way, so that one large file shows its movement too), then `{"type":"done","data":
 * <the copy's JSON-API resource>}` or `{"type":"error","status":413,"error":"…"}`. Every refusal known before the copy
 * starts (rights, quota, name) is a plain HTTP error instead. A client that goes away (a cancel) stops the copy, and
 * what it had copied is removed.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { streamNdjson } from '../../common/ndjson.js';
import type { CopyProgress, DirCopy } from '../copy.js';
import { resource } from './serialize.js';

const EVERY_MS = 200;

/** Lets a progress line through at most every `everyMs` after the last one, and always the one of the last file. */
export function progressThrottle(totalFiles: number, everyMs = EVERY_MS, now: () => number = Date.now): (p: CopyProgress) => boolean {
  let last = now();
  return (p) => {
    if (now() - last < everyMs && p.files < totalFiles) return false;
    last = now();
    return true;
  };
}

export function wantsProgress(req: FastifyRequest): boolean {
  return String(req.headers.accept ?? '').includes('application/x-ndjson');
}

export function streamDirCopy(req: FastifyRequest, reply: FastifyReply, plan: DirCopy): Promise<void> {
  const gone = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableEnded) gone.abort(new Error('the client went away: the copy was cancelled'));
  });
  const total = { total_files: plan.totals.files, total_bytes: plan.totals.bytes };
  return streamNdjson(reply, async (progress) => {
    await progress({ files: 0, bytes: 0, ...total });
    const due = progressThrottle(plan.totals.files);
    const copy = await plan.run({ signal: gone.signal, onProgress: (p) => (due(p) ? progress({ ...p, ...total }) : undefined) });
    req.log.debug({ copy: copy._id }, 'directory copied');
    return resource(copy);
  });
}
