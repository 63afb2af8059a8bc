/**
 * Errors of the WebDAV routes: the typed errors of the core and of the permission layer, mapped
 * once here to what WebDAV clients expect, answered as RFC 4918 `<D:error>` bodies (with the
 * precondition element when there is one).
 *
 * - no or bad credentials: 401 with `WWW-Authenticate: Basic realm="Hearth"` (the client asks
 *   again for the password, where the token goes), also for an expired or foreign token;
 * - quota exceeded: 507 Insufficient Storage (RFC 4918 §11.5), not /files' 413;
 * - a refused name: 400; "nothing can be created in the trash": 403; a parent that is a file: 409.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HearthError, InvalidToken, PayloadTooLarge, Unauthorized, UnprocessableEntity } from '../../common/errors.js';
import { toHearthError } from '../../server/http-errors.js';
import { XML_TYPE, dav, errorBody, esc } from './xml.js';

export const BASIC_CHALLENGE = 'Basic realm="Hearth"';

/** An error with an RFC 4918 precondition or postcondition code (`condition` is XML in the D: namespace). */
export class DavError extends HearthError {
  constructor(status: number, error: string, reason: string, readonly condition?: string, headers: Record<string, string> = {}) {
    super(status, error, reason, headers);
  }
}

/** 423: a lock protects this resource and its token was not submitted. */
export class Locked extends DavError {
  constructor(lockRootHref: string, reason = 'the resource is locked: submit the lock token in an If header') {
    super(423, 'locked', reason, dav('lock-token-submitted', dav('href', esc(lockRootHref))));
  }
}

/** A WebDAV request body larger than the limit (not the quota: that is 507). */
export class BodyTooLarge extends DavError {
  constructor(limit: number) {
    super(413, 'too_large', `the XML body is larger than ${limit} bytes`);
  }
}

export const insufficientStorage = (reason: string) => new DavError(507, 'insufficient_storage', reason);

export function toDavError(err: unknown): HearthError | null {
  if (err instanceof DavError) return err;
  if (err instanceof InvalidToken || err instanceof Unauthorized) {
    return new HearthError(401, err.error, err.reason === new Unauthorized().reason ? 'send the token as the password (Basic auth, any user name) or as a Bearer token' : err.reason, { 'WWW-Authenticate': BASIC_CHALLENGE });
  }
  if (err instanceof PayloadTooLarge) return insufficientStorage(err.reason);
  if ((err as { code?: unknown } | null)?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new HearthError(415, 'bad_content_type', 'the Content-Type header is not a valid media type');
  if (err instanceof UnprocessableEntity) {
    if (err.error === 'in_trash') return new HearthError(403, 'forbidden', err.reason);
    if (err.error === 'not_a_directory') return new HearthError(409, 'conflict', err.reason);
    if (err.error === 'invalid_move') return new HearthError(403, 'forbidden', err.reason);
    return new HearthError(400, err.error, err.reason);
  }
  return toHearthError(err);
}

/** The error handler of the /dav scope. */
export function davErrorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  const known = toDavError(err);
  if (!known) {
    req.log.error({ err }, 'unexpected error');
    void reply.code(500).type(XML_TYPE).send(errorBody(undefined, `an unexpected error happened; the server log has the details (request id ${req.id})`));
    return;
  }
  for (const [k, v] of Object.entries(known.headers)) void reply.header(k, v);
  void reply.code(known.status).type(XML_TYPE).send(errorBody(known instanceof DavError ? known.condition : undefined, known.reason));
}
