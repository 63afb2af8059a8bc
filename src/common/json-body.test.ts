/** The one JSON body parser: invalid UTF-8 is refused (never stored as U+FFFD), malformed JSON is "invalid JSON". */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(() => h.close());

/** `{"name":"caf\xC3"}`: a lone lead byte, not UTF-8. */
const badUtf8 = (json: string) => Buffer.concat([Buffer.from(json.slice(0, json.indexOf('@'))), Buffer.from([0xc3, 0x28]), Buffer.from(json.slice(json.indexOf('@') + 1))]);
const JSONAPI = { 'content-type': 'application/vnd.api+json' };
const reasonOf = (body: { reason?: string; errors?: Array<{ detail: string }> }) => body.reason ?? body.errors?.[0]?.detail;

describe('JSON bodies', () => {
  it('refuses invalid UTF-8 on /data with 400 and stores nothing', async () => {
    const token = await h.cliToken('io.cozy.notes');
    const res = await h.req('POST', '/data/io.cozy.notes/', { token, raw: badUtf8('{"title":"caf@"}'), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(res.body.reason).toBe('invalid JSON: the body is not valid UTF-8');
    const all = await h.req('GET', '/data/io.cozy.notes/_all_docs', { token });
    expect(all.body.rows ?? []).toEqual([]);
    const put = await h.req('PUT', '/data/io.cozy.notes/n1', { token, raw: badUtf8('{"title":"@"}'), headers: { 'content-type': 'application/json' } });
    expect(put.status).toBe(400);
    expect((await h.req('GET', '/data/io.cozy.notes/n1', { token })).status).toBe(404);
  });

  it('keeps valid multi-byte UTF-8 intact', async () => {
    const token = await h.cliToken('io.cozy.notes');
    const res = await h.req('POST', '/data/io.cozy.notes/', { token, raw: Buffer.from('{"title":"café ☕ 𝄞"}'), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(201);
    expect(res.body.data.title).toBe('café ☕ 𝄞');
  });

  it('says "invalid JSON" for a syntax error, on /data and on JSON-API routes', async () => {
    const token = await h.cliToken('io.cozy.notes io.cozy.files');
    const data = await h.req('POST', '/data/io.cozy.notes/', { token, raw: '{"title":', headers: { 'content-type': 'application/json' } });
    expect(data.status).toBe(400);
    expect(data.body.reason).toBe('invalid JSON');
    const files = await h.req('PATCH', '/files/io.cozy.files.root-dir', { token, raw: '{oops}', headers: JSONAPI });
    expect(files.status).toBe(400);
    expect(files.body.errors[0].detail).toBe('invalid JSON');
  });

  it('refuses invalid UTF-8 on /files, /permissions, /jobs and the webhooks', async () => {
    const token = await h.cliToken('io.cozy.files io.cozy.notes io.cozy.triggers:ALL:log:worker');
    const dir = await h.req('POST', '/files/io.cozy.files.root-dir?Type=directory&Name=docs', { token });
    expect(dir.status).toBe(201);
    const patch = await h.req('PATCH', `/files/${dir.body.data.id}`, { token, raw: badUtf8('{"data":{"attributes":{"name":"d@"}}}'), headers: JSONAPI });
    expect(patch.status).toBe(400);
    expect(patch.body.errors[0].detail).toBe('invalid JSON: the body is not valid UTF-8');
    expect((await h.req('GET', `/files/${dir.body.data.id}`, { token })).body.data.attributes.name).toBe('docs');
    const perms = await h.req('POST', '/permissions?codes=x', { token, raw: badUtf8('{"data":{"attributes":{"permissions":{"n":{"type":"io.cozy.notes@"}}}}}'), headers: JSONAPI });
    expect(perms.status).toBe(400);
    expect(reasonOf(perms.body)).toBe('invalid JSON: the body is not valid UTF-8');
    const trigger = { data: { attributes: { type: '@webhook', worker: 'log', message: 'x' } } };
    const hook = await h.req('POST', '/jobs/triggers', { token, raw: JSON.stringify(trigger), headers: JSONAPI });
    expect(hook.status).toBe(201);
    const bad = await h.req('POST', `/jobs/webhooks/${hook.body.data.id}`, { raw: badUtf8('{"a":"@"}'), headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(reasonOf(bad.body)).toBe('invalid JSON: the body is not valid UTF-8');
    const jobs = await h.req('GET', `/jobs/triggers/${hook.body.data.id}/jobs`, { token });
    expect(jobs.body.data).toEqual([]);
  });

  it('refuses invalid UTF-8 on the admin API', async () => {
    const res = await h.hearth.adminApp.inject({
      method: 'POST', url: '/instances', headers: { authorization: `Basic ${Buffer.from(':admin-secret').toString('base64')}`, 'content-type': 'application/json' },
      payload: badUtf8('{"domain":"x@.example.org"}'),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().reason).toBe('invalid JSON: the body is not valid UTF-8');
    expect(await h.hearth.registry.findByHost('x\ufffd(.example.org')).toBeNull();
  });
});
