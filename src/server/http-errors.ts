/** The one place where errors become HTTP answers, in cozy-stack's shapes. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HearthError, ServiceUnavailable } from '../common/errors.js';
import { unavailableDependency } from '../engines/unavailable.js';
import { sendErrorPage, type ErrorPageDeps } from './error-pages.js';

/** CouchDB-shaped body, as /data answers: {error, reason} (plus ok/status for not_found, as cozy-stack). */
export function couchError(err: HearthError): Record<string, unknown> {
  if (err.status === 404) return { ok: false, status: '404', error: err.error, reason: err.reason };
  return { error: err.error, reason: err.reason };
}

/** JSON-API errors, as the rest of cozy-stack's API answers. */
export function jsonApiError(err: HearthError): Record<string, unknown> {
  // an error about one query parameter names it, as cozy-stack's do (`source.parameter`: `Source`, `slug`…)
  const parameter = (err as { parameter?: unknown }).parameter;
  const source = typeof parameter === 'string' ? { source: { parameter } } : {};
  return { errors: [{ status: String(err.status), title: err.error, detail: err.reason, ...source }] };
}

const UNAVAILABLE = {
  database: 'the database server is unreachable right now: retry in a moment (the operator is told by /status)',
  coordination: 'the coordination server (Redis) is unreachable right now: retry in a moment (the operator is told by /status)',
  objectStorage: 'the object store (Swift or S3) is unreachable right now: retry in a moment (the operator is told by /status)',
};

export function toHearthError(err: unknown): HearthError | null {
  if (err instanceof HearthError) return err;
  const down = unavailableDependency(err);
  if (down) return Object.assign(new ServiceUnavailable(UNAVAILABLE[down]), { headers: { 'Retry-After': '5' } });
  const fe = err as FastifyError;
  if (fe && typeof fe === 'object' && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    switch (fe.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return new HearthError(413, 'too_large', 'the request body is larger than the limit');
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return new HearthError(415, 'bad_content_type', `unsupported content type: send application/json`);
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return new HearthError(400, 'bad_request', 'the request body is empty: send a JSON document');
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return new HearthError(400, 'bad_request', 'invalid JSON');
      default:
        if (fe.validation) return new HearthError(400, 'bad_request', fe.message);
        if (err instanceof SyntaxError) return new HearthError(400, 'bad_request', 'invalid JSON');
        return new HearthError(fe.statusCode, fe.statusCode === 404 ? 'not_found' : 'bad_request', fe.message);
    }
  }
  return null;
}

export function errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  const known = toHearthError(err);
  if (!known) {
    req.log.error({ err }, 'unexpected error');
    void reply.code(500).send({ error: 'internal_server_error', reason: 'an unexpected error happened; the server log has the details (request id ' + req.id + ')' });
    return;
  }
  for (const [k, v] of Object.entries(known.headers)) void reply.header(k, v);
  const jsonApi = !req.url.startsWith('/data') && !req.url.startsWith('/instances');
  void reply.code(known.status).send(jsonApi ? jsonApiError(known) : couchError(known));
}

/** The public server's handler: an HTML page for a person's browser where there is one (error-pages.ts), cozy's JSON otherwise. */
export function publicErrorHandler(pages: ErrorPageDeps): (err: unknown, req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (err, req, reply) => {
    const known = toHearthError(err);
    if (known && (await sendErrorPage(known, req, reply, pages))) return reply;
    errorHandler(err, req, reply);
    return reply;
  };
}
