/**
 * A directory copy that tells its progress (Hearth's, beside cozy-stack's POST /files/:id/copy, which copies files
 * only): asked with `Accept: application/x-ndjson`, the answer is NDJSON lines, `{"type":"progress","files":n,
 * "bytes":b,"total_files":N,"total_bytes":B}` as files are copied (at most 5 a second), then `{"type":"done","data":
 * <the copy's JSON-API resource>}` or `{"type":"error","status":413,"error":"…"}`. Every refusal known before the copy
 * starts (rights, quota, name) is a plain HTTP error instead. A client that goes away (a cancel) stops the copy, and
 * what it had copied is removed.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { streamNdjson } from '../../common/ndjson.js';
import type { DirCopy } from '../copy.js';
import { resource } from './serialize.js';

const EVERY_MS = 200;

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
    let last = Date.now();
    const copy = await plan.run({
      signal: gone.signal,
      onProgress: (p) => {
        if (Date.now() - last < EVERY_MS && p.files < plan.totals.files) return undefined;
        last = Date.now();
        return progress({ ...p, ...total });
      },
    });
    req.log.debug({ copy: copy._id }, 'directory copied');
    return resource(copy);
  });
}
