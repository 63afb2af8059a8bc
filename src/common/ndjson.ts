/**
 * A long admin operation's answer as NDJSON lines (the migrations, the imports): `{"type":"progress",…}` at each step,
 * then `{"type":"done","data":…}` or `{"type":"error","error":"…"}` (with the HTTP `status` of a known error), and `{"type":"working"}` after 10 s of silence.
 * A slow reader slows the operation down (the progress waits for the socket to drain), never the other way round.
 */
import type { FastifyReply } from 'fastify';
import { HearthError } from './errors.js';

export const STILL_WORKING_MS = 10_000;

export async function streamNdjson(reply: FastifyReply, run: (progress: (p: object) => Promise<void> | void) => Promise<unknown>): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { ...(reply.getHeaders() as Record<string, string>), 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
  const line = (value: unknown): Promise<void> | void => {
    if (res.write(`${JSON.stringify(value)}\n`) || res.destroyed) return;
    return new Promise((resolve) => {
      const done = () => {
        res.off('drain', done).off('close', done);
        resolve();
      };
      res.on('drain', done).on('close', done);
    });
  };
  let lastLine = Date.now();
  const timer = setInterval(() => {
    if (Date.now() - lastLine >= STILL_WORKING_MS) void line({ type: 'working' });
  }, STILL_WORKING_MS / 2);
  try {
    const data = await run((p) => {
      lastLine = Date.now();
      return line({ type: 'progress', ...p });
    });
    void line({ type: 'done', data });
  } catch (e) {
    const report = (e as { report?: unknown }).report;
    const status = e instanceof HearthError ? { status: e.status } : {};
    void line({ type: 'error', ...status, error: e instanceof Error ? e.message : String(e), ...(report === undefined ? {} : { data: report }) });
  } finally {
    clearInterval(timer);
    res.end();
  }
}
