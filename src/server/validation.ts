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
 * - Both are made on a route's first use, from the code `npm run build` compiled for its schemas
 *   (server/schema-code.ts, server/schema-precompile.ts), or compiled here when the build has none.
 */
import { _, Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fastJson from 'fast-json-stringify';
import type { FastifyInstance } from 'fastify';
import { BadRequest } from '../common/errors.js';
import { SCHEMA_KEYWORDS, declaresSchemas, isBinary, type JsonSchema } from '../common/schemas.js';
import { FORMATS, FORMATS_MODULE, compiledCode, defaultCodeDir, type CodeKind, type CompiledCode } from './schema-code.js';

type Part = 'body' | 'querystring' | 'params' | 'headers';

/** The validators' Ajv; `source` keeps the generated code, for the build's standalone modules (server/schema-code.ts). */
export function makeAjv(options: Options, source = false): Ajv {
  const ajv = new Ajv({
    strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true, allErrors: false, ...options,
    code: { source, formats: _`require(${FORMATS_MODULE})` },
  });
  addFormats.default(ajv, { formats: [], keywords: true }); // formatMinimum… (the formats are FORMATS)
  for (const [name, format] of Object.entries(FORMATS)) ajv.addFormat(name, format);
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
  /** The build's compiled schemas (server/schema-code.ts; dist/schemas by default), or null: every schema compiled here. */
  code?: CompiledCode | null;
}

/** A route of an app, and whether it declares its schemas (the "no route without a schema" test reads them). */
export interface SchemaRoute {
  method: string;
  url: string;
  declared: boolean;
}

/** A schema an app compiles (what the build compiles ahead of time), and `compile()`, which makes its function now. */
export interface AppSchema {
  kind: CodeKind;
  schema: JsonSchema;
  compile(): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    schemaRoutes: SchemaRoute[];
    /** Every validator and serializer schema of the app's routes, in registration order (raw bodies and JSON.stringify answers left out). */
    appSchemas: AppSchema[];
    /** How the functions made so far were obtained: loaded from the build's code, or compiled here. */
    schemaStats: { loaded: number; compiled: number };
    /** Makes every validator and serializer now (they are made on first use: start-up stays short); throws on a bad schema. */
    compileSchemas(): void;
  }
}

/** The options of a server's apps: `server.serializeResponses`, and the build's code (or `code`) unless `server.precompiledSchemas` is off. */
export const schemaOptions = (server: { serializeResponses: boolean; precompiledSchemas: boolean }, code?: CompiledCode): SchemaOptions =>
  ({ serializeResponses: server.serializeResponses, code: server.precompiledSchemas ? (code ?? builtSchemaCode()) : null });

let buildCode: CompiledCode | null = null;
/** The code `npm run build` compiled (dist/schemas), shared by the apps of a process. */
export const builtSchemaCode = (): CompiledCode => (buildCode ??= compiledCode(defaultCodeDir()));

/** The generated code of a schema, from the build's Ajv options (`source`: the build keeps it to write it out). */
const ajvs = new Map<string, Ajv>();
export function ajvFor(kind: 'body' | 'url', source = false): Ajv {
  const key = `${kind}:${source}`;
  let ajv = ajvs.get(key);
  if (!ajv) ajvs.set(key, (ajv = makeAjv({ coerceTypes: kind === 'body' ? false : 'array' }, source)));
  return ajv;
}

/** Installs the validator and serializer compilers on an app, before its routes, and records whether each route declares its schemas. */
export function installSchemaCompilers(app: FastifyInstance, options: SchemaOptions): void {
  const routes: SchemaRoute[] = [];
  const schemas: AppSchema[] = [];
  const stats = { loaded: 0, compiled: 0 };
  const code = options.code === undefined ? builtSchemaCode() : options.code;
  app.decorate('schemaRoutes', routes);
  app.decorate('appSchemas', schemas);
  app.decorate('schemaStats', stats);
  app.decorate('compileSchemas', () => schemas.forEach((s) => s.compile()));
  app.addHook('onRoute', (route) => {
    if (route.schema?.hide) return; // plugins' own routes (CORS preflight, Swagger UI's files)
    for (const method of [route.method].flat()) routes.push({ method: method.toUpperCase(), url: route.url, declared: declaresSchemas(route.url, route.schema) });
  });
  /**
   * A function made on its first call (most routes are rare): loaded from the build's code when it has this schema,
   * else compiled here (Ajv and fast-json-stringify: ~1 ms a schema once warm, tens of ms for the first ones).
   */
  function lazy<A extends unknown[], R>(kind: CodeKind, schema: JsonSchema, make: (built: unknown) => (...args: A) => R): (...args: A) => R {
    let fn: ((...args: A) => R) | null = null;
    const get = () => {
      if (fn) return fn;
      const built = code?.load(kind, schema) ?? null;
      stats[built ? 'loaded' : 'compiled']++;
      return (fn = make(built));
    };
    schemas.push({ kind, schema, compile: get });
    return (...args: A) => get()(...args);
  }
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const part = (httpPart ?? 'body') as Part;
    const s = schema as JsonSchema;
    if (part === 'body' && isBinary(s)) return () => true; // a raw body, read by its route as a stream
    const kind = part === 'body' ? 'body' : 'url';
    return lazy(kind, s, (built) => {
      const validate = (built as ValidateFunction | null) ?? ajvFor(kind).compile(s);
      return (data: unknown) => (validate(data) ? true : { error: validationError(s, part, validate.errors ?? []) });
    });
  });
  app.setSerializerCompiler(({ schema }) => {
    const s = schema as JsonSchema;
    if (!options.serializeResponses || s['x-serialize'] === false || isBinary(s)) return (data: unknown) => JSON.stringify(data);
    return lazy('serializer', s, (built) => (built as ((data: unknown) => string) | null) ?? fastJson(s as unknown as Parameters<typeof fastJson>[0]));
  });
}

/**
 * One value checked against a field's schema by the same compiler and sentences as the routes' bodies, for the
 * checks made outside a route (the CLI's options): the value, or a BadRequest with the field's errorMessage.
 */
export function checkField<T>(schema: JsonSchema, value: unknown): T {
  const validate = ajvFor('body').compile(schema); // Ajv keeps what it compiled, by schema
  if (validate(value)) return value as T;
  throw validationError(schema, 'body', validate.errors ?? []);
}
