/**
 * The raw body of an upload, as a stream the file system reads at its own pace (never buffered).
 * The request itself is not handed over: when the file system stops reading early (a quota reached
 * mid-stream) it destroys the stream it reads, and destroying the request would destroy the socket
 * before the 413 is sent. A client that goes away mid-upload fails the stream, so the partial blob
 * is removed.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { BadRequest } from '../../common/errors.js';
import { markFreshChunks } from '../blobs/file-sink.js';

export function uploadBody(raw: IncomingMessage): Readable {
  // a large buffer lets the socket keep filling it while the blob store writes a batch to disk
  // the parser makes a new buffer for each chunk, which nothing else keeps: the blob store may take them as they are
  const body = markFreshChunks(new PassThrough({ highWaterMark: 1024 * 1024 }));
  // the reader (the blob store) gets the error through its iterator; without a reader yet, it must not crash the process
  body.on('error', () => undefined);
  const interrupted = () => {
    if (!raw.complete) body.destroy(new BadRequest('the upload was interrupted before the end of its body', 'upload_interrupted'));
  };
  raw.once('aborted', interrupted);
  raw.once('close', interrupted);
  raw.once('error', (err) => body.destroy(err));
  raw.pipe(body);
  return body;
}

/**
 * In `scope`: every content type is accepted and left unread (the handlers stream `req.raw`); an
 * answer sent before the whole body was read closes the connection, so that what is left of the body
 * is never read as the next request.
 */
export function rawBodies(scope: FastifyInstance): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
  closeOnUnreadBody(scope);
}

/** In `scope`, an answer sent before the whole body was read closes the connection. */
export function closeOnUnreadBody(scope: FastifyInstance): void {
  scope.addHook('onSend', async (req, reply, payload) => {
    if (!req.raw.complete) reply.header('connection', 'close');
    return payload;
  });
}
