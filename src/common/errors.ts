/**
 * Typed domain errors. Domain code throws these; the HTTP layer maps them to a
 * response in one place (server/http-errors.ts). `error` and `reason` follow
 * CouchDB's vocabulary so that /data clients (PouchDB, cozy-client) recognise them.
 */
export class HearthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(reason);
    this.name = new.target.name;
  }
}

export class BadRequest extends HearthError {
  constructor(reason: string, error = 'bad_request') {
    super(400, error, reason);
  }
}
export class Unauthorized extends HearthError {
  constructor(reason = 'no token was given: send it as "Authorization: Bearer <token>"') {
    super(401, 'unauthorized', reason);
  }
}
/** A token that cannot be trusted: cozy-stack answers 400 with these exact messages. */
export class InvalidToken extends HearthError {
  constructor(reason: 'Invalid JWT token' | 'Expired token' | 'Invalid token') {
    super(400, reason, reason, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  }
}
/** A password-protected share link used without the cookie its password sets (permissions/share-password.ts). */
export class PasswordRequired extends HearthError {
  constructor(permId: string) {
    super(401, 'password_required', `this link is protected by a password: give it first (POST /auth/share-by-link/password with perm_id=${permId} and password), then use the link again`);
  }
}
export class Forbidden extends HearthError {
  constructor(reason = 'the token does not grant this right') {
    super(403, 'forbidden', reason);
  }
}
export class NotFound extends HearthError {
  constructor(reason = 'missing', error = 'not_found') {
    super(404, error, reason);
  }
}
export class Conflict extends HearthError {
  constructor(reason = 'Document update conflict.') {
    super(409, 'conflict', reason);
  }
}
export class PreconditionFailed extends HearthError {
  constructor(reason: string, error = 'precondition_failed') {
    super(412, error, reason);
  }
}
export class PayloadTooLarge extends HearthError {
  constructor(reason: string) {
    super(413, 'too_large', reason);
  }
}
/** Well-formed but refused parameters (a forbidden file name…): cozy-stack answers 422. */
export class UnprocessableEntity extends HearthError {
  /** `parameter`: the query parameter at fault, named in JSON-API answers (`source.parameter`) as cozy-stack does. */
  constructor(reason: string, error = 'unprocessable_entity', readonly parameter?: string) {
    super(422, error, reason);
  }
}
export class UnsupportedMediaType extends HearthError {
  constructor(reason: string) {
    super(415, 'bad_content_type', reason);
  }
}
/** A rate limit was reached; `retryAfter` (seconds) becomes a Retry-After header. */
export class TooManyRequests extends HearthError {
  constructor(reason: string, retryAfter?: number) {
    super(429, 'too_many_requests', reason, retryAfter === undefined ? {} : { 'Retry-After': String(Math.max(1, Math.ceil(retryAfter))) });
  }
}
export class NotImplemented extends HearthError {
  constructor(reason: string) {
    super(501, 'not_implemented', reason);
  }
}
/** A server this one depends on (an app registry…) answered wrongly or not at all. */
export class BadGateway extends HearthError {
  constructor(reason: string) {
    super(502, 'bad_gateway', reason);
  }
}
export class ServiceUnavailable extends HearthError {
  constructor(reason: string) {
    super(503, 'service_unavailable', reason);
  }
}

/** The disk (or the object store) is full: 507 Insufficient Storage, and nothing was written. */
export class InsufficientStorage extends HearthError {
  constructor(reason = 'the server has no room left to store this: free some disk space, then retry') {
    super(507, 'insufficient_storage', reason);
  }
}

/** The error codes of a full disk: the system's (write, fsync) and SQLite's. */
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'SQLITE_FULL']);

/** Whether `error` says the disk (or the user's disk quota) is full. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && DISK_FULL.has(code);
}
