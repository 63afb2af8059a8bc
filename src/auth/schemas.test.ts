/**
 * The schemas of the auth, OAuth and settings routes of this folder: they document the routes (OpenAPI) and
 * refuse what they check before the handler runs, i.e. before the credentials are looked at, with the
 * messages the handlers gave.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';

let h: TestHearth;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let doc: { paths: Record<string, Record<string, any>> };
beforeAll(async () => {
  h = await startTestHearth();
  doc = (await h.req('GET', '/openapi.json')).body;
});
afterAll(() => h.close());

describe('auth route schemas', () => {
  it('document the bodies, queries and answers of the routes', () => {
    const create = doc.paths['/settings/app-passwords']!.post;
    expect(JSON.stringify(create.requestBody)).toContain('label');
    expect(create.responses['201'].content).toHaveProperty(['application/vnd.api+json']);
    expect(doc.paths['/auth/login']!.get.parameters.map((p: { name: string }) => p.name)).toEqual(['redirect']);
    expect(doc.paths['/auth/login']!.get.responses['200'].content).toHaveProperty(['text/html']);
    expect(doc.paths['/auth/register/{id}']!.put.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(JSON.stringify(doc.paths['/auth/register']!.post.requestBody)).toContain('redirect_uris');
    expect(doc.paths['/settings/passphrase']!.put.requestBody.content['application/json'].schema.required).toEqual(['new_passphrase']);
    expect(doc.paths['/auth/access_token']!.post.responses['200'].content['application/json'].schema.properties).toHaveProperty('access_token');
  });

  it('refuse an app password without a label, or with a blank scope, before the credentials are checked', async () => {
    const none = await h.req('POST', '/settings/app-passwords', { body: { scope: 'io.cozy.files' } });
    expect(none.status).toBe(400);
    expect(none.body.errors[0].detail).toBe('give the app password a "label" (what it is for, e.g. "rclone on my laptop")');
    const scope = await h.req('POST', '/settings/app-passwords', { body: { data: { attributes: { label: 'rclone', scope: '  ' } } } });
    expect(scope.status).toBe(400);
    expect(scope.body.errors[0].detail).toBe('"scope" is a permission scope such as "io.cozy.files" or "io.cozy.files:GET"');
    const plain = await h.req('POST', '/settings/app-passwords', { body: { label: 'rclone', scope: 3 } });
    expect(plain.body.errors[0].detail).toBe('"scope" is a permission scope such as "io.cozy.files" or "io.cozy.files:GET"');
    // a good body goes on to the credentials
    expect((await h.req('POST', '/settings/app-passwords', { body: { label: 'rclone' } })).status).toBe(401);
    const token = await h.cliToken('io.cozy.settings');
    const made = await h.req('POST', '/settings/app-passwords', { token, body: { data: { attributes: { label: ' rclone ', scope: ' io.cozy.files ' } } } });
    expect(made.status).toBe(201);
    expect(made.body.data.attributes).toMatchObject({ label: 'rclone', scope: 'io.cozy.files', password: expect.any(String) });
  });

  it('refuse a new passphrase that is not a derived one, or bad iterations, before the credentials are checked', async () => {
    const res = await h.req('PUT', '/settings/passphrase', { body: { current_passphrase: 'x', new_passphrase: 'my clear passphrase' } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].detail).toBe('"new_passphrase" must be a derived passphrase (see GET /settings/passphrase)');
    const derived = 'q3nKJ0sWgM0pMXJ7xW1m8oG4pQWbX7mEo0lH9l2kQ1Y=';
    for (const iterations of [12, 1e9, 'many', '999', 1000.5]) {
      const bad = await h.req('PUT', '/settings/passphrase', { body: { current_passphrase: derived, new_passphrase: derived, iterations } });
      expect(bad.status, String(iterations)).toBe(400);
      expect(bad.body.errors[0].detail).toBe('"iterations" must be an integer between 1000 and 10000000');
    }
    // a form sends digits: the onboarding form's iterations are checked the same way
    const form = await h.req('POST', '/settings/passphrase', { raw: `register_token=x&passphrase=${encodeURIComponent(derived)}&iterations=12`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(400);
    expect(form.body.errors[0].detail).toBe('"iterations" must be an integer between 1000 and 10000000');
    for (const iterations of [100000, '0100000', '']) {
      expect((await h.req('PUT', '/settings/passphrase', { body: { current_passphrase: derived, new_passphrase: derived, iterations } })).status, String(iterations)).toBe(401);
    }
  });

  it('refuse an unknown auth mode with invalid_auth_mode before the credentials are checked', async () => {
    for (const body of [{ auth_mode: 'sms' }, {}, { auth_mode: 2 }]) {
      const res = await h.req('PUT', '/settings/instance/auth_mode', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ title: 'invalid_auth_mode', detail: 'auth_mode must be "basic" or "two_factor_mail"' });
    }
    expect((await h.req('PUT', '/settings/instance/auth_mode', { body: { auth_mode: 'two_factor_mail' } })).status).toBe(401);
  });

  it('answer through their response schemas: the sessions list in JSON-API, the prelogin with every field', async () => {
    const token = await h.cliToken('io.cozy.settings');
    const res = await h.req('GET', '/settings/sessions', { token });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(res.body).toEqual({ data: [], meta: { count: 0 } });
    const kdf = await h.req('GET', '/public/prelogin');
    expect(kdf.body).toMatchObject({ Kdf: 0, kdf: 0, OIDC: false, salt: expect.any(String), iterations: h.instance.kdfIterations });
  });
});
