/**
 * The object store (Swift or S3) cannot be reached: refused or cut connections, or the store itself answering 503.
 * The blob engines throw ObjectStoreUnavailable for these, and the routes answer 503 with Retry-After (unavailable.ts).
 */

/** Socket-level codes that mean the store's server is down or unreachable, not that the request was wrong. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
]);

export class ObjectStoreUnavailable extends Error {
  override name = 'ObjectStoreUnavailable';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`the object store is unreachable: ${reason}`, options);
  }
}

export function isObjectStoreUnavailable(err: unknown): boolean {
  return err instanceof ObjectStoreUnavailable;
}

/** Whether `err` (from an HTTP client talking to the store) is a connection failure; its code may sit on its cause. */
export function isUnreachable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  }
  return false;
}
