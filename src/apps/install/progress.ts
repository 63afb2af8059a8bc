/**
 * The synchronous variant of POST/PUT /apps/:slug (`Accept: text/event-stream`): `event: state` with the
 * JSON-API doc at each state change, `event: error` with the message when it fails, a `: still working`
 * comment every 10 s, and the end of the stream at the operation's end. Refusals that come before anything
 * is written (422, 409, 403) are ordinary HTTP errors.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppDoc } from '../types.js';
import type { Operation } from './installer.js';
import type { OnState } from './types.js';

export const STILL_WORKING_MS = 10_000;

export function wantsProgress(req: FastifyRequest): boolean {
  return String(req.headers.accept ?? '').includes('text/event-stream');
}

export async function streamProgress(reply: FastifyReply, start: (onState: OnState) => Promise<Operation>, resource: (doc: AppDoc) => unknown): Promise<void> {
  const pending: string[] = [];
  let write = (chunk: string) => void pending.push(chunk);
  const op = await start((doc) => write(`event: state\r\ndata: ${JSON.stringify({ data: resource(doc) })}\r\n\r\n`));
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
  write = (chunk) => void res.write(chunk);
  for (const chunk of pending) write(chunk);
  const timer = setInterval(() => write(': still working\r\n\r\n'), STILL_WORKING_MS);
  try {
    const outcome = await op.done;
    if (outcome.error) write(`event: error\r\ndata: ${JSON.stringify(outcome.error.message)}\r\n\r\n`);
  } finally {
    clearInterval(timer);
    res.end();
  }
}
