/**
 * `clean-upload-sessions`: removes an instance's expired resumable uploads and their chunks (files/upload-sessions.ts).
 * Queued by the housekeeping (server/housekeeping.ts) at the expiry of each session opened, so that a session left
 * behind goes even if the instance is never used again by this process.
 */
import type { Vfs } from '../../files/vfs.js';
import { UploadSessions } from '../../files/upload-sessions.js';
import type { WorkerDef } from '../types.js';

export const CLEAN_UPLOAD_SESSIONS = 'clean-upload-sessions';

export function cleanUploadSessionsWorker(deps: { vfs: Vfs }): WorkerDef {
  return {
    name: CLEAN_UPLOAD_SESSIONS, internal: true, concurrency: 2, maxExecCount: 2, timeoutSeconds: 600,
    async run(ctx) {
      const removed = await new UploadSessions(deps.vfs.fs).sweep(ctx.instance);
      if (removed > 0) ctx.log.info({ removed }, 'clean-upload-sessions: expired upload sessions removed');
    },
  };
}
