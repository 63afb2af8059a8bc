/**
 * Early refusals reach the client. An answer sent before the request body was read (a 401, a 404,
 * a 413 decided from the headers) followed by a close at once leaves the client's bytes unread, and
 * the kernel then resets the connection: a client still sending never reads the answer. So, as
 * mature servers do (RFC 9112 §9.6; nginx's `lingering_close`, Go's net/http):
 *
 * - an answer sent while more than DRAIN_BYTES of the body may still come says `Connection: close`
 *   (a smaller rest is read and discarded by Node and the connection is kept alive);
 * - such a connection is closed gracefully: a FIN after the answer, then what the client still
 *   sends is read and discarded, up to LINGER_BYTES or LINGER_MS, and only then is the socket closed.
 *
 * The same goes for the answers to malformed requests (431 headers too large, 400, 408), which
 * Node hands over as `clientError`: they say `Connection: close` and close the same way.
 */
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';

/** The most of an unread body Node may drain to keep a connection alive. */
export const DRAIN_BYTES = 1024 * 1024;
/** The most read and discarded after a refusal before the socket is closed anyway. */
export const LINGER_BYTES = 64 * 1024 * 1024;
export const LINGER_MS = 10_000;

/** The request whose answer is being sent on each socket, for the sockets whose close is deferred. */
const pending = new WeakMap<Socket, IncomingMessage>();

/**
 * Half-closes the socket (a FIN once the answer is written), discards what comes until the client is
 * done (`done`: its body ended, or it closed its side) or LINGER_BYTES came, then closes the socket once
 * the answer is flushed; LINGER_MS bounds the whole.
 */
function linger(socket: Socket, discard: (listener: (chunk: Buffer) => void, done: () => void) => void): void {
  let seen = 0;
  let closing = false;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  const done = () => {
    if (closing) return;
    closing = true;
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
  };
  socket.once('close', () => clearTimeout(timer));
  socket.once('end', done);
  discard((chunk) => {
    seen += chunk.length;
    if (seen > LINGER_BYTES) done();
  }, done);
  socket.end();
}

/** Defers the close of this socket (Node calls destroySoon once an answer with `Connection: close` is sent). */
function deferClose(socket: Socket, req: IncomingMessage): void {
  if (!pending.has(socket)) {
    const destroySoon = socket.destroySoon.bind(socket);
    socket.destroySoon = () => {
      const unread = pending.get(socket);
      if (!unread || unread.complete) return destroySoon();
      linger(socket, (listener, done) => {
        unread.on('data', listener);
        unread.once('end', done);
        unread.resume();
      });
    };
  }
  pending.set(socket, req);
}

function clientErrorBody(code: number): string {
  const detail = code === 431 ? 'the request headers are too large' : code === 408 ? 'the request took too long to arrive' : 'the request is malformed';
  return JSON.stringify({ errors: [{ status: String(code), title: STATUS_CODES[code] ?? 'Bad Request', detail }] });
}

const answered = new WeakSet<Socket>();

/** Fastify's `clientErrorHandler`: a complete answer with `Connection: close`, then a graceful close. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) return;
  answered.add(socket);
  // an answer already started on this socket (a pipelined request) cannot be followed by another one
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (inFlight?.headersSent) return void socket.destroy();
  const code = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = clientErrorBody(code);
  if (!socket.writable) return void socket.destroy();
  socket.write(`HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  // Node's parser stays in its error state: what else arrives is refused again (ignored above) and so discarded.
  linger(socket, (listener) => socket.on('data', listener));
}

/** Installs the graceful close on every answer of this server. */
export function lingerOnEarlyAnswers(app: FastifyInstance): void {
  app.addHook('onSend', async (req, reply, payload) => {
    const raw = req.raw;
    if (raw.complete) return payload;
    const length = Number(raw.headers['content-length']);
    if (!(length <= DRAIN_BYTES)) void reply.header('Connection', 'close');
    deferClose(raw.socket, raw);
    return payload;
  });
}
