/**
 * Response compression of the public server: brotli or gzip, as the request's Accept-Encoding prefers, for the answers
 * that are built in memory (JSON, JSON-API, XML, text, HTML, CSS, JavaScript) once they reach `threshold` bytes.
 *
 * Only buffered payloads (a string or a Buffer) are compressed, after they are complete: what streams (file downloads,
 * WebDAV GET, zip archives, SSE, the `_changes` feeds, which write to the socket themselves) is never held back by a
 * compressor. A partial answer (206, `Content-Range`), a file's content (`Content-Disposition`), an answer already
 * encoded (the apps' stored `.br`/`.gz`) and a 204/304 are sent as they are. The compression runs in libuv's thread pool.
 * The ETag is kept (as nginx and @fastify/compress do), so that If-None-Match still meets the routes' own ETags.
 */
import { negotiate } from '@fastify/accept-negotiator';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** JSON (and +json), XML (and +xml), text/* but SSE, JavaScript. */
const COMPRESSIBLE = /^(?:application\/(?:json|javascript|xml|[\w.+-]+\+(?:json|xml))|text\/(?!event-stream)[\w.+-]+)\s*(?:;|$)/i;

export interface CompressionOptions {
  /** Smallest payload compressed, in bytes. */
  threshold: number;
}

/** Brotli quality 4: about gzip's speed for 10–20 % fewer bytes on JSON (the quality of nginx's and @fastify/compress's defaults). */
const BROTLI = { params: { [zlib.BROTLI_PARAM_QUALITY]: 4, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT } };

function addVary(reply: FastifyReply): void {
  const vary = reply.getHeader('Vary');
  const list = (Array.isArray(vary) ? vary.join(',') : String(vary ?? '')).split(',').map((s) => s.trim()).filter(Boolean);
  if (list.includes('*') || list.some((v) => v.toLowerCase() === 'accept-encoding')) return;
  void reply.header('Vary', [...list, 'Accept-Encoding'].join(', '));
}

/** Whether `payload`, as the reply stands, may be compressed (whatever the client accepts). */
function eligible(reply: FastifyReply, payload: unknown, threshold: number): payload is string | Buffer {
  if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return false;
  if (reply.statusCode === 204 || reply.statusCode === 206 || reply.statusCode === 304) return false;
  if (reply.hasHeader('Content-Encoding') || reply.hasHeader('Content-Range') || reply.hasHeader('Content-Disposition')) return false;
  const type = reply.getHeader('Content-Type');
  if (typeof type !== 'string' || !COMPRESSIBLE.test(type)) return false;
  return Buffer.byteLength(payload) >= threshold;
}

export function registerCompression(app: FastifyInstance, opts: CompressionOptions): void {
  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (!eligible(reply, payload, opts.threshold)) return payload;
    addVary(reply);
    const accept = req.headers['accept-encoding'];
    const encoding = typeof accept === 'string' && accept ? negotiate(accept, ['br', 'gzip', 'identity']) : null;
    if (encoding !== 'br' && encoding !== 'gzip') return payload;
    const body = encoding === 'br' ? await brotli(payload, BROTLI) : await gz(payload);
    void reply.header('Content-Encoding', encoding).header('Content-Length', String(body.length));
    return body;
  });
}
