/**
 * The shared pieces of the route schemas (JSON Schema, as Fastify takes them). Each route declares its
 * own schemas where it is registered (`schema: { summary, tags, params, querystring, headers, body, response }`);
 * server/validation.ts compiles them into validators and serializers, and ops/openapi.ts makes the
 * OpenAPI document from them (README, "Operations: status, metrics, OpenAPI").
 *
 * Hearth's keywords: `errorMessage` (the sentence a refused value gets, on the field's schema or on an
 * object's, the innermost wins; an object `{type: '…', maxItems: '…'}` speaks only for those keywords of
 * its node), `errorCode` (the error's code, `bad_request` by default; the innermost wins), `example`
 * (OpenAPI), `'x-serialize': false` (an answer documented but serialized with JSON.stringify).
 *
 * Rules: declare the success answers only (an error answer would be serialized by its schema: the document
 * adds the error shapes); a serialized answer drops the fields its schema does not list unless
 * `additionalProperties: true`, writes "" for a null `type: 'string'`, truncates `integer`s, so open
 * documents use `openObject`/`passThrough`; bodies accept the fields real clients add; a raw body is
 * `rawBody` (binary, never validated).
 */
import type { FastifySchema } from 'fastify';

export type JsonSchema = Record<string, unknown>;

/** The keywords that validate nothing, known to the validators (Ajv is strict about unknown ones). */
export const SCHEMA_KEYWORDS = ['errorMessage', 'errorCode', 'example', 'x-serialize'] as const;

/** A route's schema, as Hearth declares them (Fastify's FastifySchema plus the documentation fields). */
export interface RouteSchema extends FastifySchema {
  summary: string;
  description?: string;
  tags: string[];
  response: Record<string, JsonSchema>;
}

/** Whether a route declares its schemas: a summary, tags, its responses, and its path parameters if it has any. */
export function declaresSchemas(url: string, schema: FastifySchema | undefined): boolean {
  const s = schema as Partial<RouteSchema> | undefined;
  if (!s?.summary || !s.tags?.length || !s.response || Object.keys(s.response).length === 0) return false;
  return !/[:*]/.test(url) || !!s.params;
}

// ---- requests -------------------------------------------------------------------------------------

export const str = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', description, ...extra });

/** Descriptions of the usual path parameters. */
export const PARAM_DOCS: Record<string, string> = {
  doctype: 'A doctype, e.g. io.cozy.contacts',
  docid: 'The document id',
  att: 'The attachment name',
  ddoc: 'The design document name (without _design/)',
  view: 'The view name',
  name: 'A name (the index name, or the file name shown in the link)',
  id: 'The id of the resource',
  dirId: 'The id of the parent directory',
  version: 'The id of an old version of the file',
  secret: 'The secret of the link (it is the credential)',
  format: 'The thumbnail format: tiny, small, medium or large',
  worker: 'The worker name, e.g. sendmail',
  '*': 'The rest of the path',
};

/** The path parameters of a route, all strings: a list of usual names (PARAM_DOCS), or name → description. */
export function params(spec: string[] | Record<string, string | JsonSchema>): JsonSchema {
  const entries = Array.isArray(spec) ? spec.map((n) => [n, PARAM_DOCS[n] ?? n] as const) : Object.entries(spec);
  const properties = Object.fromEntries(entries.map(([n, d]) => [n, typeof d === 'string' ? str(d) : d]));
  return { type: 'object', properties, required: entries.map(([n]) => n) };
}

/** A query string of optional parameters (name → schema or description); unknown parameters are let through. */
export function query(spec: Record<string, string | JsonSchema>): JsonSchema {
  return { type: 'object', properties: Object.fromEntries(Object.entries(spec).map(([n, d]) => [n, typeof d === 'string' ? str(d) : d])) };
}

/** A body that is not parsed: the route reads it as a stream. Documented as binary, never validated. */
export const BINARY: JsonSchema = { type: 'string', format: 'binary' };
export const isBinary = (s: JsonSchema | undefined): boolean => s?.type === 'string' && s.format === 'binary';
export function rawBody(description: string, types: string[] = ['application/octet-stream']): JsonSchema {
  return { description, content: Object.fromEntries(types.map((t) => [t, { schema: BINARY }])) };
}

/** A JSON object with any fields (CouchDB documents, JSON-API attributes clients may extend). */
export const openObject = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'object', description, additionalProperties: true, ...extra });

// ---- responses ------------------------------------------------------------------------------------

export const JSONAPI = 'application/vnd.api+json';

/** A JSON-API answer: `{data: resource}` (or a list), in application/vnd.api+json. */
export function jsonApi(description: string, data: JsonSchema, extra: JsonSchema = {}): JsonSchema {
  return { description, content: { [JSONAPI]: { schema: { type: 'object', properties: { data, ...extra }, additionalProperties: true } } } };
}

/** A JSON-API resource: type, id, attributes, and meta/links/relationships as they come. */
export function resource(type: string, attributes: JsonSchema, id: JsonSchema = { type: 'string' }): JsonSchema {
  return {
    type: 'object',
    properties: { type: { type: 'string', example: type }, id, attributes, meta: openObject('Revision and other metadata'), links: openObject('Links'), relationships: openObject('Relationships') },
    additionalProperties: true,
  };
}

export const noContent = (description = 'Done, nothing to answer'): JsonSchema => ({ description, type: 'null' });

/** An answer that is not JSON (HTML, CSS, a file): documented by its media type, never serialized. */
export function content(description: string, types: string[], schema: JsonSchema = { type: 'string' }): JsonSchema {
  return { description, content: Object.fromEntries(types.map((t) => [t, { schema: { ...schema, 'x-serialize': false } }])) };
}

/** A JSON answer serialized with JSON.stringify: for bodies that must pass through untouched. */
export const passThrough = (description: string): JsonSchema => ({ description, type: 'object', additionalProperties: true, 'x-serialize': false });

/** The error shapes (server/http-errors.ts), for the document. */
export const JSONAPI_ERROR: JsonSchema = {
  type: 'object',
  properties: {
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { status: str('The HTTP status, as a string'), title: str('The error code'), detail: str('What went wrong and what to do'), source: openObject('The parameter at fault') },
      },
    },
  },
  example: { errors: [{ status: '400', title: 'bad_request', detail: 'the query parameter "Type" must be one of "file", "directory"' }] },
};
export const COUCH_ERROR: JsonSchema = {
  type: 'object',
  properties: { error: str('The error code'), reason: str('What went wrong and what to do'), ok: { type: 'boolean' }, status: str('The HTTP status (not found only)') },
  example: { error: 'bad_request', reason: 'invalid JSON' },
};
