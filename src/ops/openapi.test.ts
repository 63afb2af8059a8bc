/**
 * The OpenAPI document of a real server: valid OpenAPI 3.0 structure, one operation for every
 * registered route, a description for each, and Swagger UI on the admin port.
 */
import { Ajv } from 'ajv';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { DOCS_PREFIX } from './admin-routes.js';
import { docPath, OPENAPI_METHODS, pathShape } from './openapi.js';

/** The parts of the OpenAPI 3.0 schema a consumer relies on (the official schema is not vendored here). */
const operation = {
  type: 'object',
  required: ['responses'],
  properties: {
    summary: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
    parameters: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'in', 'schema'],
        properties: { name: { type: 'string' }, in: { enum: ['path', 'query', 'header', 'cookie'] }, required: { type: 'boolean' }, description: { type: 'string' } },
        if: { properties: { in: { const: 'path' } } },
        then: { required: ['required'], properties: { required: { const: true } } },
      },
    },
    responses: { type: 'object', minProperties: 1, propertyNames: { pattern: '^([1-5][0-9X]{2}|default)$' } },
  },
};
const OPENAPI_30 = {
  type: 'object',
  required: ['openapi', 'info', 'paths'],
  properties: {
    openapi: { type: 'string', pattern: '^3\\.0\\.\\d+$' },
    info: { type: 'object', required: ['title', 'version'], properties: { title: { type: 'string' }, version: { type: 'string' } } },
    tags: { type: 'array', items: { type: 'object', required: ['name'] } },
    components: { type: 'object' },
    paths: {
      type: 'object',
      propertyNames: { pattern: '^/' },
      additionalProperties: {
        type: 'object',
        patternProperties: { '^(get|put|post|delete|options|head|patch|trace)$': operation, '^x-additional-operations$': { type: 'object', additionalProperties: operation } },
        additionalProperties: false,
      },
    },
  },
};

let h: TestHearth;
let doc: { openapi: string; paths: Record<string, Record<string, { summary?: string; tags?: string[]; parameters?: Array<{ name: string; in: string }> }>> };
beforeAll(async () => {
  h = await startTestHearth();
  const res = await h.req('GET', '/openapi.json', { host: 'any.example.net' });
  expect(res.status).toBe(200);
  doc = res.body;
});
afterAll(() => h.close());

const documented = () => h.hearth.publicApp.apiRoutes.filter((r) => !r.autoHead && !r.hidden);

describe('GET /openapi.json', () => {
  it('is valid OpenAPI 3.0, answered on any host without a token', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(OPENAPI_30);
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
    expect(doc.openapi).toBe('3.0.3');
    // every {param} of a path is declared as a path parameter of each of its operations
    for (const [path, item] of Object.entries(doc.paths)) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const ops = { ...item, ...(item['x-additional-operations'] ?? {}) } as typeof item;
      for (const [method, op] of Object.entries(ops)) {
        if (method === 'x-additional-operations') continue;
        expect((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort(), `${method} ${path}`).toEqual([...names].sort());
      }
    }
  });

  it('lists every registered route, with its method, and nothing else', () => {
    const shapes = new Map(Object.entries(doc.paths).map(([path, item]) => [pathShape(path), item]));
    const absent: string[] = [];
    const expected = new Set<string>();
    for (const r of documented()) {
      const item = shapes.get(pathShape(docPath(r.url)));
      const method = r.method.toLowerCase();
      expected.add(`${method} ${pathShape(docPath(r.url))}`);
      const op = OPENAPI_METHODS.has(method) ? item?.[method] : (item?.['x-additional-operations'] as Record<string, unknown> | undefined)?.[r.method];
      if (!op) absent.push(`${r.method} ${r.url}`);
    }
    expect(absent, `registered but not in the document:\n${absent.join('\n')}`).toEqual([]);
    const listed = Object.entries(doc.paths).flatMap(([path, item]) => [
      ...Object.keys(item).filter((k) => OPENAPI_METHODS.has(k)).map((m) => `${m} ${pathShape(path)}`),
      ...Object.keys(item['x-additional-operations'] ?? {}).map((m) => `${m.toLowerCase()} ${pathShape(path)}`),
    ]);
    expect(listed.filter((op) => !expected.has(op))).toEqual([]);
  });

  it('hides only the CORS preflight; explicit HEAD routes are listed, automatic ones are not', () => {
    expect(h.hearth.publicApp.apiRoutes.filter((r) => r.hidden).map((r) => `${r.method} ${r.url}`)).toEqual(['OPTIONS *']);
    expect(doc.paths['/files/{id}']).toHaveProperty('head');
    expect(doc.paths['/files/download/{id}']).toHaveProperty('head');
    expect(doc.paths['/status']).toHaveProperty('get');
    expect(doc.paths['/status']).not.toHaveProperty('head');
    expect(Object.keys(doc.paths['/dav/files/{path}']!['x-additional-operations'] ?? {})).toEqual(expect.arrayContaining(['PROPFIND', 'MKCOL', 'LOCK']));
  });

  it('documents each declared route with its schemas and its error answers', () => {
    const put = doc.paths['/settings/instance']!.put as unknown as { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> }; responses: Record<string, { content?: Record<string, { schema: unknown }> }> };
    expect(put.requestBody.content['application/json']!.schema.properties).toHaveProperty('data');
    expect(Object.keys(put.responses)).toEqual(expect.arrayContaining(['200', '4XX', '5XX']));
    expect(put.responses['200']!.content).toHaveProperty(['application/vnd.api+json']);
    expect(JSON.stringify(put.responses['4XX'])).toContain('detail');
    const avatar = doc.paths['/public/avatar']!.get!;
    expect(avatar.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(expect.arrayContaining(['query:fallback', 'query:format']));
    const upload = doc.paths['/settings/avatar']!.put as unknown as { requestBody: { content: Record<string, { schema: unknown }> } };
    expect(upload.requestBody.content['image/png']!.schema).toEqual({ type: 'string', format: 'binary' });
  });
});

describe('one schema per route', () => {
  const undeclared = (routes: Array<{ method: string; url: string; declared: boolean }>) => {
    const gets = new Set(routes.filter((r) => r.method === 'GET').map((r) => r.url));
    // the HEAD Fastify adds for a GET has the GET's schema
    return routes.filter((r) => !r.declared && !(r.method === 'HEAD' && gets.has(r.url))).map((r) => `${r.method} ${r.url}`);
  };

  it('fails when a route of the public or the admin API has no schema (summary, tags, responses, path parameters)', () => {
    const missing = [...undeclared(h.hearth.publicApp.schemaRoutes), ...undeclared(h.hearth.adminApp.schemaRoutes)];
    expect(missing, 'routes without schemas: declare them where the route is registered (common/schemas.ts)').toEqual([]);
    expect(h.hearth.publicApp.schemaRoutes.length).toBeGreaterThan(150);
    // compiled on first use: every schema compiles (Ajv strict mode, fast-json-stringify)
    expect(() => h.hearth.publicApp.compileSchemas()).not.toThrow();
    expect(() => h.hearth.adminApp.compileSchemas()).not.toThrow();
  });

  it('refuses what a schema does not accept with a 400 in the cozy error shape, with the message of the field', async () => {
    const token = await h.cliToken('io.cozy.settings');
    const put = (attributes: unknown) => h.req('PUT', '/settings/instance', { token, body: { data: { type: 'io.cozy.settings', id: 'io.cozy.settings.instance', meta: { rev: '1-x' }, attributes } } });
    const res = await put({ locale: 'klingon' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ status: '400', title: 'bad_request', detail: expect.stringMatching(/^"locale" must be one of en, fr/) }] });
    expect((await put([1])).body.errors[0].detail).toMatch(/^send a JSON-API document: \{"data"/);
    // the query string: Ajv's coercion, then the field's own message
    const avatar = await h.req('GET', '/public/avatar?fx=sparkles');
    expect(avatar.status).toBe(400);
    expect(avatar.body.errors[0].detail).toBe('invalid "fx": use translucent');
  });
});

describe('Swagger UI (admin port)', () => {
  it('shows the public document behind the admin passphrase', async () => {
    await h.hearth.adminApp.listen({ host: '127.0.0.1', port: 0 });
    const port = (h.hearth.adminApp.server.address() as AddressInfo).port;
    const get = (path: string, headers: Record<string, string> = { authorization: 'Basic ' + Buffer.from('admin:admin-secret').toString('base64') }) =>
      rawRequest(port, 'GET', path, { host: `127.0.0.1:${port}`, headers });
    expect((await get(`${DOCS_PREFIX}/`, {})).status).toBe(401);
    const page = await get(`${DOCS_PREFIX}/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('swagger');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    const json = await get(`${DOCS_PREFIX}/json`);
    expect(json.status).toBe(200);
    expect(Object.keys(json.body.paths)).toEqual(Object.keys(doc.paths));
    // "Try it out" goes to an instance, not to the admin port
    expect(json.body.servers).toEqual([expect.objectContaining({ url: '{scheme}://{instance}' })]);
    expect(doc).not.toHaveProperty('servers');
    expect((await get(`${DOCS_PREFIX}/static/swagger-ui-bundle.js`)).status).toBe(200);
    // Swagger UI is built on the first request (ops/admin-routes.ts); a missing file is refused in the usual error shape
    const missing = await get(`${DOCS_PREFIX}/static/nothing-here.js`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ errors: [expect.objectContaining({ status: '404', detail: `no page or file of Swagger UI at ${DOCS_PREFIX}/static/nothing-here.js` })] });
  });
});
