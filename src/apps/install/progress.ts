/**
 * The progress of an install or update, streamed until it ends. The public API's variant of POST/PUT
 * /apps/:slug (`Accept: text/event-stream`): `event: state` with the JSON-API doc at each state change,
 * `event: error` with the message when it fails, a `: still working` comment every 10 s. The admin API's
 * (the CLI's) is NDJSON: `{"type":"state","data":…}` and `{"type":"error","error":"…"}` lines. Refusals that
 * come before anything is written (422, 409, 403) are ordinary HTTP errors.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppDoc } from '../types.js';
import type { Operation } from './installer.js';
import type { OnState } from './types.js';

export const STILL_WORKING_MS = 10_000;

export interface ProgressFormat {
  contentType: string;
  state(resource: unknown): string;
  error(message: string): string;
  keepAlive: string;
}

export const SSE: ProgressFormat = {
  contentType: 'text/event-stream',
  state: (r) => `event: state\r\ndata: ${JSON.stringify({ data: r })}\r\n\r\n`,
  error: (m) => `event: error\r\ndata: ${JSON.stringify(m)}\r\n\r\n`,
  keepAlive: ': still working\r\n\r\n',
};

export const NDJSON: ProgressFormat = {
  contentType: 'application/x-ndjson',
  state: (r) => `${JSON.stringify({ type: 'state', data: r })}\n`,
  error: (m) => `${JSON.stringify({ type: 'error', error: m })}\n`,
  keepAlive: `${JSON.stringify({ type: 'working' })}\n`,
};

export function wantsProgress(req: FastifyRequest, format: ProgressFormat = SSE): boolean {
  return String(req.headers.accept ?? '').includes(format.contentType);
}

export async function streamProgress(reply: FastifyReply, format: ProgressFormat, start: (onState: OnState) => Promise<Operation>, resource: (doc: AppDoc) => unknown): Promise<void> {
  const pending: string[] = [];
  let write = (chunk: string) => void pending.push(chunk);
  const op = await start((doc) => write(format.state(resource(doc))));
  reply.hijack();
  const res = reply.raw;
  // the headers hooks set on the reply (CORS for the web apps' hosts…) are written too: hijacking skips onSend
  res.writeHead(200, { ...(reply.getHeaders() as Record<string, string>), 'Content-Type': format.contentType, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
  write = (chunk) => void res.write(chunk);
  for (const chunk of pending) write(chunk);
  const timer = setInterval(() => write(format.keepAlive), STILL_WORKING_MS);
  try {
    const outcome = await op.done;
    if (outcome.error) write(format.error(outcome.error.message));
  } finally {
    clearInterval(timer);
    res.end();
  }
}
