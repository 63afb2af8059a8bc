/**
 * The one JSON body parser of both servers, for every content type that carries JSON
 * (application/json, application/vnd.api+json, webhook bodies): the bytes are decoded as strict
 * UTF-8 (an invalid sequence is refused with 400, never stored as U+FFFD), then parsed by Fastify's
 * secure parser (`__proto__` and `constructor.prototype` keys are refused). Where `allowEmpty`, an
 * empty body is `undefined` (PouchDB sends `PUT /db/` with a JSON type and nothing else).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequest } from './errors.js';

const strict = new TextDecoder('utf-8', { fatal: true });

export const INVALID_UTF8 = 'invalid JSON: the body is not valid UTF-8';

/** The body's text; a BadRequest when it is not UTF-8. */
export function utf8Body(body: Buffer): string {
  try {
    return strict.decode(body);
  } catch {
    throw new BadRequest(INVALID_UTF8);
  }
}

type Done = (err: Error | null, body?: unknown) => void;
export type JsonBodyParser = (req: FastifyRequest, body: Buffer, done: Done) => void;

/** The parser function (for a `parseAs: 'buffer'` content-type parser) of this Fastify scope. */
export function jsonBodyParser(scope: FastifyInstance, allowEmpty = false): JsonBodyParser {
  const parse = scope.getDefaultJsonParser('error', 'error');
  return (req, body, done) => {
    let text: string;
    try {
      text = utf8Body(body);
    } catch (err) {
      done(err as Error, undefined);
      return;
    }
    if (text === '' && allowEmpty) done(null, undefined);
    else parse(req, text, done);
  };
}

/** Registers the JSON parser for `contentType` in this scope (replacing Fastify's for application/json). */
export function addJsonParser(scope: FastifyInstance, contentType: string, opts: { bodyLimit?: number; allowEmpty?: boolean } = {}): void {
  if (scope.hasContentTypeParser(contentType)) scope.removeContentTypeParser(contentType);
  const limit = opts.bodyLimit === undefined ? {} : { bodyLimit: opts.bodyLimit };
  scope.addContentTypeParser(contentType, { parseAs: 'buffer', ...limit }, jsonBodyParser(scope, opts.allowEmpty));
}
