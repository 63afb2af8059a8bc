/**
 * The schema compilers on a real Fastify app: the messages of refusals, coercion of the URL, serialization by schema;
 * each with the functions compiled at run time and with the same app's schemas compiled ahead of time as the build does.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from './http-errors.js';
import { installSchemaCompilers } from './validation.js';
import { compiledCode, type CompiledCode } from './schema-code.js';
import { schemaModules, writeSchemaModules } from './schema-modules.js';
import { params, query, rawBody } from '../common/schemas.js';

let app: FastifyInstance;
let raw: FastifyInstance;
/** `app`, its functions loaded from the code the build's functions wrote for its schemas. */
let built: FastifyInstance;
const codeDir = join(mkdtempSync(join(tmpdir(), 'hearth-validation-')), 'schemas');
beforeAll(async () => {
  const build = (serializeResponses: boolean, code: CompiledCode | null = null) => {
    const a = Fastify();
    a.setErrorHandler(errorHandler);
    installSchemaCompilers(a, { serializeResponses, code });
    a.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    a.post<{ Params: { id: string }; Querystring: { Limit?: number } }>('/things/:id', {
      schema: {
        summary: 's', tags: ['t'], params: params(['id']), querystring: query({ Limit: { type: 'integer', minimum: 1 } }),
        body: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, tz: { type: 'string', format: 'time-zone' }, size: { type: 'number', errorMessage: '"size" is a number of bytes' } }, additionalProperties: false },
        response: { 200: { type: 'object', properties: { id: { type: 'string' }, limit: { type: 'number' }, either: { anyOf: [{ type: 'integer' }, { type: 'string', format: 'date' }] } }, additionalProperties: true } },
      },
    }, async (req) => ({ id: req.params.id, limit: req.query.Limit, extra: { kept: true }, body: req.body, ...(req.query.Limit === 3 ? { either: '2026-12-07' } : {}) }));
    a.put('/blob', { schema: { summary: 's', tags: ['t'], body: rawBody('bytes'), response: { 204: { type: 'null' } } } }, async (_req, reply) => reply.code(204).send());
    return a;
  };
  app = build(true);
  raw = build(false);
  await app.ready();
  writeSchemaModules(codeDir, schemaModules(app.appSchemas));
  built = build(true, compiledCode(codeDir));
});
afterAll(async () => {
  await Promise.all([app.close(), raw.close(), built.close()]);
  rmSync(join(codeDir, '..'), { recursive: true, force: true });
});

const post = (a: FastifyInstance, url: string, body: unknown) => a.inject({ method: 'POST', url, payload: body as object });

describe('validation by the route schemas', () => {
  it('names the field and where it was sent, or gives the field\'s own message', async () => {
    const cases: Array<[string, unknown, string]> = [
      ['/things/a', {}, 'the body: "name" is missing'],
      ['/things/a', { name: 3 }, '"name" must be a string'],
      ['/things/a', { name: 'x', other: 1 }, '"other" is not accepted here'],
      ['/things/a', { name: 'x', tz: 'Mars/Olympus' }, '"tz" must be an IANA time zone such as Europe/Paris'],
      ['/things/a', { name: 'x', size: 'big' }, '"size" is a number of bytes'],
      ['/things/a?Limit=0', { name: 'x' }, 'the query parameter "Limit" must be >= 1'],
      ['/things/a?Limit=ten', { name: 'x' }, 'the query parameter "Limit" must be an integer'],
      ['/things/a', [], 'the body must be a JSON object'],
    ];
    for (const a of [app, built]) {
      for (const [url, body, detail] of cases) {
        const res = await post(a, url, body);
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        expect(res.json()).toEqual({ errors: [{ status: '400', title: 'bad_request', detail: expect.stringContaining(detail.replace(/^the body: /, '')) }] });
      }
    }
  });

  it('coerces the URL\'s strings to the declared types, never a JSON body\'s', async () => {
    for (const a of [app, built]) {
      expect((await post(a, '/things/a?Limit=5', { name: 'x', tz: 'europe/paris' })).json()).toMatchObject({ id: 'a', limit: 5 });
      expect((await post(a, '/things/a', { name: 'x', size: '12' })).statusCode).toBe(400);
    }
  });

  it('lets a raw body through unvalidated (documented as binary)', async () => {
    const res = await app.inject({ method: 'PUT', url: '/blob', headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.from('bytes') });
    expect(res.statusCode).toBe(204);
  });
});

describe('serialization by the response schemas', () => {
  it('keeps the fields a schema does not list when it lets them through, with or without serialization by schema', async () => {
    for (const a of [app, raw, built]) {
      const res = await post(a, '/things/a?Limit=2', { name: 'n' });
      expect(res.json()).toEqual({ id: 'a', limit: 2, extra: { kept: true }, body: { name: 'n' } });
      // a union, which fast-json-stringify checks with a validator (inlined in the build's code)
      expect((await post(a, '/things/a?Limit=3', { name: 'n' })).json()).toMatchObject({ either: '2026-12-07' });
    }
  });
});

describe('schemas compiled ahead of time', () => {
  it('makes every function of an app from the build\'s code, and only the schemas it lacks at run time', async () => {
    built.compileSchemas();
    expect(built.schemaStats).toEqual({ loaded: app.appSchemas.length, compiled: 0 });
    expect(app.appSchemas.map((s) => s.kind).sort()).toEqual(['body', 'serializer', 'serializer', 'url', 'url']); // body, params, query; two answers
    const late = Fastify();
    installSchemaCompilers(late, { serializeResponses: true, code: compiledCode(codeDir) });
    late.get('/late', { schema: { querystring: query({ n: { type: 'integer', maximum: 9 } }), response: { 200: { type: 'object', properties: { n: { type: 'integer' } } } } } }, async (req) => req.query);
    expect((await late.inject('/late?n=4')).json()).toEqual({ n: 4 });
    expect((await late.inject('/late?n=10')).statusCode).toBe(400);
    expect(late.schemaStats).toEqual({ loaded: 0, compiled: 2 });
    await late.close();
  });
});
