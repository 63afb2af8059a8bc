/** The schema compilers on a real Fastify app: the messages of refusals, coercion of the URL, serialization by schema. */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from './http-errors.js';
import { installSchemaCompilers } from './validation.js';
import { params, query, rawBody } from '../common/schemas.js';

let app: FastifyInstance;
let raw: FastifyInstance;
beforeAll(async () => {
  const build = (serializeResponses: boolean) => {
    const a = Fastify();
    a.setErrorHandler(errorHandler);
    installSchemaCompilers(a, { serializeResponses });
    a.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    a.post<{ Params: { id: string }; Querystring: { Limit?: number } }>('/things/:id', {
      schema: {
        summary: 's', tags: ['t'], params: params(['id']), querystring: query({ Limit: { type: 'integer', minimum: 1 } }),
        body: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, tz: { type: 'string', format: 'time-zone' }, size: { type: 'number', errorMessage: '"size" is a number of bytes' } }, additionalProperties: false },
        response: { 200: { type: 'object', properties: { id: { type: 'string' }, limit: { type: 'number' } }, additionalProperties: true } },
      },
    }, async (req) => ({ id: req.params.id, limit: req.query.Limit, extra: { kept: true }, body: req.body }));
    a.put('/blob', { schema: { summary: 's', tags: ['t'], body: rawBody('bytes'), response: { 204: { type: 'null' } } } }, async (_req, reply) => reply.code(204).send());
    return a;
  };
  app = build(true);
  raw = build(false);
});
afterAll(async () => {
  await app.close();
  await raw.close();
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
    for (const [url, body, detail] of cases) {
      const res = await post(app, url, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toEqual({ errors: [{ status: '400', title: 'bad_request', detail: expect.stringContaining(detail.replace(/^the body: /, '')) }] });
    }
  });

  it('coerces the URL\'s strings to the declared types, never a JSON body\'s', async () => {
    expect((await post(app, '/things/a?Limit=5', { name: 'x', tz: 'europe/paris' })).json()).toMatchObject({ id: 'a', limit: 5 });
    expect((await post(app, '/things/a', { name: 'x', size: '12' })).statusCode).toBe(400);
  });

  it('lets a raw body through unvalidated (documented as binary)', async () => {
    const res = await app.inject({ method: 'PUT', url: '/blob', headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.from('bytes') });
    expect(res.statusCode).toBe(204);
  });
});

describe('serialization by the response schemas', () => {
  it('keeps the fields a schema does not list when it lets them through, with or without serialization by schema', async () => {
    for (const a of [app, raw]) {
      const res = await post(a, '/things/a?Limit=2', { name: 'n' });
      expect(res.json()).toEqual({ id: 'a', limit: 2, extra: { kept: true }, body: { name: 'n' } });
    }
  });
});
