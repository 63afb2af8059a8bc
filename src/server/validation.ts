/**
 * The one place where route schemas become validators and serializers, for the public and the admin
 * apps alike: each route declares its params, querystring, headers, body and response schemas where it
 * is registered (common/schemas.ts has the shared pieces), and this module compiles them.
 *
 * - Validation: one Ajv for bodies (no type coercion: a JSON body says what it means) and one for the
 *   URL and headers (strings coerced to the declared types, as Fastify does). A refusal is a 400
 *   BadRequest in the usual error shape (server/http-errors.ts). Its message is the `errorMessage` of
 *   the innermost schema on the failing path that has one (what the users saw before the schemas, kept
 *   word for word), else a sentence built from Ajv's error that names the field and where it was sent.
 * - Serialization: fast-json-stringify from each response schema, unless the schema says
 *   `'x-serialize': false` (documentation only) or `server.serializeResponses` is off (the bench
 *   compares both).
 */
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fastJson from 'fast-json-stringify';
import type { FastifyInstance } from 'fastify';
import { BadRequest } from '../common/errors.js';
import { SCHEMA_KEYWORDS, declaresSchemas, isBinary, type JsonSchema } from '../common/schemas.js';

type Part = 'body' | 'querystring' | 'params' | 'headers';

let zones: Set<string> | null = null;

/** An IANA time zone as Intl knows it (canonical names and aliases such as UTC or Asia/Calcutta); '' means "none". */
function isTimeZone(v: string): boolean {
  if (v === '') return true;
  if (v.length > 64 || !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(v)) return false;
  zones ??= new Set(Intl.supportedValuesOf('timeZone').map((z) => z.toLowerCase()));
  if (zones.has(v.toLowerCase())) return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: v }); // throws RangeError for what is not a zone (offsets such as +02:00 included)
    return true;
  } catch {
    return false;
  }
}

/** CouchDB's JSON-encoded query values (keys, startkey, open_revs…). */
function isJson(v: string): boolean {
  try {
    JSON.parse(v);
    return true;
  } catch {
    return false;
  }
}

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true, allErrors: false, ...options });
  addFormats.default(ajv);
  ajv.addFormat('time-zone', { type: 'string', validate: isTimeZone });
  ajv.addFormat('json', { type: 'string', validate: isJson });
  // documentation keywords (OpenAPI) and Hearth's own, which validate nothing
  for (const keyword of SCHEMA_KEYWORDS) ajv.addKeyword({ keyword });
  return ajv;
}

const PART_NAMES: Record<Part, (field: string) => string> = {
  body: (field) => (field ? `"${field}"` : 'the body'),
  querystring: (field) => (field ? `the query parameter "${field}"` : 'the query string'),
  params: (field) => (field ? `the path parameter "${field}"` : 'the path'),
  headers: (field) => (field ? `the header "${field}"` : 'the headers'),
};

/** Ajv's words made into a sentence's end: "must be string" → "must be a string". */
function phrase(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type': {
      const types = [p.type].flat().map((t) => ({ object: 'a JSON object', array: 'an array', string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', null: 'null' })[String(t)] ?? String(t));
      return `must be ${types.join(' or ')}`;
    }
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'format':
      return `must be ${p.format === 'time-zone' ? 'an IANA time zone such as Europe/Paris' : `a valid ${String(p.format)}`}`;
    default:
      return e.message ?? 'is invalid';
  }
}

/** The schema nodes along an error's schemaPath (`#/properties/data/properties/id/type`), outermost first. */
function nodesAlong(root: JsonSchema, schemaPath: string): JsonSchema[] {
  const nodes: JsonSchema[] = [root];
  let node: unknown = root;
  for (const seg of schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    // Ajv writes a property's name URI-encoded in the path (page[limit] → page%5Blimit%5D)
    node = (node as Record<string, unknown> | undefined)?.[decodeURIComponent(seg).replace(/~1/g, '/').replace(/~0/g, '~')];
    if (node && typeof node === 'object' && !Array.isArray(node)) nodes.push(node as JsonSchema);
  }
  return nodes;
}

/** The refusal of the first error Ajv found in `part`, validated against `root`: its message, and its code (`errorCode`). */
export function validationError(root: JsonSchema, part: Part, errors: ErrorObject[]): BadRequest {
  const nodes = nodesAlong(root, errors[0]!.schemaPath);
  const code = [...nodes].reverse().find((n) => typeof n.errorCode === 'string')?.errorCode;
  return new BadRequest(validationMessage(nodes, part, errors[0]!), typeof code === 'string' ? code : 'bad_request');
}

function validationMessage(nodes: JsonSchema[], part: Part, e: ErrorObject): string {
  const missing = e.keyword === 'required' ? String((e.params as { missingProperty: string }).missingProperty) : null;
  const ownMessage = missing ? ((nodes.at(-1)?.properties as Record<string, JsonSchema> | undefined)?.[missing]?.errorMessage) : undefined;
  const own = typeof ownMessage === 'string' ? ownMessage : undefined;
  // an object errorMessage ({type: '…', maxItems: '…'}) speaks only for its own keywords
  const byKeyword = (nodes.at(-1)?.errorMessage as Record<string, unknown> | undefined)?.[e.keyword];
  const custom = own ?? byKeyword ?? [...nodes].reverse().find((n) => typeof n.errorMessage === 'string')?.errorMessage;
  if (typeof custom === 'string') return custom;
  const field = e.instancePath.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');
  if (missing) return `${PART_NAMES[part](field ? `${field}.${missing}` : missing)} is missing`;
  if (e.keyword === 'additionalProperties') {
    const extra = String((e.params as { additionalProperty: string }).additionalProperty);
    return `${PART_NAMES[part](field ? `${field}.${extra}` : extra)} is not accepted here`;
  }
  return `${PART_NAMES[part](field)} ${phrase(e)}`;
}

export interface SchemaOptions {
  /** Serialize responses with fast-json-stringify from their schemas (true), or with JSON.stringify (the bench's baseline). */
  serializeResponses: boolean;
}

/** A route of an app, and whether it declares its schemas (the "no route without a schema" test reads them). */
export interface SchemaRoute {
  method: string;
  url: string;
  declared: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    schemaRoutes: SchemaRoute[];
    /** Compiles every validator and serializer now (they are compiled on first use: start-up stays short); throws on a bad schema. */
    compileSchemas(): void;
  }
}

/** `make()` on the first call of the returned function (Ajv and fast-json-stringify cost ~1 ms a schema; most routes are rare). */
function lazy<A extends unknown[], R>(make: () => (...args: A) => R, pending: Array<() => void>): (...args: A) => R {
  let fn: ((...args: A) => R) | null = null;
  const get = () => (fn ??= make());
  pending.push(get);
  return (...args: A) => get()(...args);
}

/** Installs the validator and serializer compilers on an app, before its routes, and records whether each route declares its schemas. */
export function installSchemaCompilers(app: FastifyInstance, options: SchemaOptions): void {
  const routes: SchemaRoute[] = [];
  const pending: Array<() => void> = [];
  app.decorate('schemaRoutes', routes);
  app.decorate('compileSchemas', () => pending.forEach((compile) => compile()));
  app.addHook('onRoute', (route) => {
    if (route.schema?.hide) return; // plugins' own routes (CORS preflight, Swagger UI's files)
    for (const method of [route.method].flat()) routes.push({ method: method.toUpperCase(), url: route.url, declared: declaresSchemas(route.url, route.schema) });
  });
  const bodies = makeAjv({ coerceTypes: false });
  const urls = makeAjv({ coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const part = (httpPart ?? 'body') as Part;
    if (part === 'body' && isBinary(schema as JsonSchema)) return () => true; // a raw body, read by its route as a stream
    return lazy(() => {
      const validate: ValidateFunction = (part === 'body' ? bodies : urls).compile(schema as JsonSchema);
      return (data: unknown) => (validate(data) ? true : { error: validationError(schema as JsonSchema, part, validate.errors ?? []) });
    }, pending);
  });
  app.setSerializerCompiler(({ schema }) => {
    const s = schema as JsonSchema;
    if (!options.serializeResponses || s['x-serialize'] === false || isBinary(s)) return (data: unknown) => JSON.stringify(data);
    return lazy(() => fastJson(s as unknown as Parameters<typeof fastJson>[0]), pending);
  });
}

let fields: Ajv | null = null;

/**
 * One value checked against a field's schema by the same compiler and sentences as the routes' bodies, for the
 * checks made outside a route (the CLI's options): the value, or a BadRequest with the field's errorMessage.
 */
export function checkField<T>(schema: JsonSchema, value: unknown): T {
  fields ??= makeAjv({ coerceTypes: false });
  const validate = fields.compile(schema); // Ajv keeps what it compiled, by schema
  if (validate(value)) return value as T;
  throw validationError(schema, 'body', validate.errors ?? []);
}
