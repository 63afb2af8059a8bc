import { hash } from '@node-rs/argon2';
import { afterEach, describe, expect, it } from 'vitest';
import { adminApp, testConfig, type AdminFixture } from '../cli/testing/admin-fixture.js';

const basic = (p: string) => ({ authorization: 'Basic ' + Buffer.from(`admin:${p}`).toString('base64') });
const auth = basic('admin-secret');
let fx: AdminFixture | undefined;
afterEach(async () => fx?.app.close());

async function setup(...args: Parameters<typeof adminApp>) {
  fx = await adminApp(...args);
  return fx;
}

describe('admin API: instances', () => {
  it('creates, lists, shows, counts, modifies and destroys instances', async () => {
    const { app } = await setup();
    const created = await app.inject({
      method: 'POST', url: '/instances', headers: auth,
      payload: { domain: 'alice.example.org', email: 'a@example.org', locale: 'fr', disk_quota: 1000, domain_aliases: ['alice.test'], passphrase: 'correct horse' },
    });
    expect(created.statusCode).toBe(201);
    const data = created.json().data;
    expect(data).toMatchObject({
      type: 'instances',
      attributes: { domain: 'alice.example.org', domain_aliases: ['alice.test'], locale: 'fr', email: 'a@example.org', disk_quota: 1000, onboarded: true },
    });
    expect(created.body).not.toMatch(/argon2|passphrase|secret/);

    const list = await app.inject({ url: '/instances', headers: auth });
    expect(list.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(list.json().data.map((d: { id: string }) => d.id)).toEqual([data.id]);
    expect(list.body).not.toMatch(/argon2|passphrase/);
    expect((await app.inject({ url: '/instances/count', headers: auth })).json()).toEqual({ count: 1 });
    expect((await app.inject({ url: '/instances/alice.example.org', headers: auth })).json().data.id).toBe(data.id);

    const patched = await app.inject({ method: 'PATCH', url: '/instances/alice.example.org', headers: auth, payload: { public_name: 'Alice', disk_quota: null } });
    expect(patched.json().data.attributes).toMatchObject({ public_name: 'Alice', disk_quota: null, email: 'a@example.org' });

    expect((await app.inject({ method: 'DELETE', url: '/instances/alice.example.org', headers: auth })).statusCode).toBe(204);
    expect((await app.inject({ url: '/instances/alice.example.org', headers: auth })).statusCode).toBe(404);
  });

  it('accepts a domain with a port, URL-encoded or not', async () => {
    const { app } = await setup();
    await app.inject({ method: 'POST', url: '/instances', headers: auth, payload: { domain: 'hearth.localhost:8080' } });
    expect((await app.inject({ url: '/instances/hearth.localhost%3A8080', headers: auth })).statusCode).toBe(200);
    expect((await app.inject({ url: '/instances/hearth.localhost:8080', headers: auth })).statusCode).toBe(200);
  });

  it('answers 409 for a taken domain, 404 for an unknown one', async () => {
    const { app } = await setup();
    const add = () => app.inject({ method: 'POST', url: '/instances', headers: auth, payload: { domain: 'bob.example.org' } });
    expect((await add()).statusCode).toBe(201);
    const again = await add();
    expect(again.statusCode).toBe(409);
    expect(again.json().reason).toMatch(/already exists/);
    for (const [method, url] of [['GET', '/instances/nobody.example.org'], ['DELETE', '/instances/nobody.example.org']] as const) {
      expect((await app.inject({ method, url, headers: auth })).statusCode).toBe(404);
    }
    const patch = await app.inject({ method: 'PATCH', url: '/instances/nobody.example.org', headers: auth, payload: { locale: 'en' } });
    expect(patch.statusCode).toBe(404);
  });

  it('validates bodies: bad domain, unknown property, wrong type → 400', async () => {
    const { app } = await setup();
    const post = (payload: object) => app.inject({ method: 'POST', url: '/instances', headers: auth, payload });
    for (const domain of ['no_underscore.org', 'single', 'a.org:port', 'x..org']) {
      const res = await post({ domain });
      expect(res.statusCode, domain).toBe(400);
      expect(res.json().reason).toMatch(/is not a valid instance domain/);
    }
    const unknown = await post({ domain: 'carol.example.org', colour: 'blue' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().reason).toBe('"colour" is not accepted here');
    expect((await post({ domain: 'carol.example.org', disk_quota: '10GB' })).statusCode).toBe(400);
    expect((await post({})).json().reason).toBe('"domain" is missing');
    const patch = await app.inject({ method: 'PATCH', url: '/instances/carol.example.org', headers: auth, payload: { domain: 'x.org' } });
    expect(patch.statusCode).toBe(400);
  });
});

describe('admin API: the same checks as the public API', () => {
  it('accepts localhost and IP addresses as domains, and finds an instance by an alias', async () => {
    const { app } = await setup();
    const post = (payload: object) => app.inject({ method: 'POST', url: '/instances', headers: auth, payload });
    for (const domain of ['localhost:8080', '127.0.0.1:9090', '[::1]:8080']) expect((await post({ domain })).statusCode, domain).toBe(201);
    expect((await post({ domain: 'hearth.localhost:7070', domain_aliases: ['localhost:7070'] })).statusCode).toBe(201);
    const token = await app.inject({ method: 'POST', url: '/instances/token', headers: auth, payload: { domain: 'localhost:7070', audience: 'cli', scope: 'io.cozy.files' } });
    expect(token.statusCode).toBe(200);
    const shown = await app.inject({ url: '/instances/localhost:7070', headers: auth });
    expect(shown.json().data.attributes.domain).toBe('hearth.localhost:7070');
  });

  it('refuses a weak passphrase, a bad e-mail, time zone, locale or scope with the public API\'s messages', async () => {
    const { app } = await setup();
    const post = (payload: object) => app.inject({ method: 'POST', url: '/instances', headers: auth, payload });
    const cases: Array<[object, RegExp]> = [
      [{ passphrase: 'short' }, /"passphrase" must have at least 8 characters/],
      [{ email: 'not-an-address' }, /"email" must be a mail address/],
      [{ tz: 'Mars/Olympus' }, /"tz" must be an IANA time zone/],
      [{ locale: 'xx' }, /"locale" must be one of en, fr/],
      [{ public_name: 'a\u0007b' }, /"public_name" must be a name/],
    ];
    for (const [fields, reason] of cases) {
      const res = await post({ domain: 'erin.example.org', ...fields });
      expect(res.statusCode, JSON.stringify(fields)).toBe(400);
      expect(res.json().reason).toMatch(reason);
    }
    const made = await post({ domain: 'erin.example.org', tz: 'europe/paris', locale: 'pt-br', email: '', public_name: '  Erin ' });
    expect(made.statusCode).toBe(201);
    expect(made.json().data.attributes).toMatchObject({ tz: 'Europe/Paris', locale: 'pt_BR', email: null, public_name: 'Erin' });
    for (const [fields, reason] of cases) {
      const patch = await app.inject({ method: 'PATCH', url: '/instances/erin.example.org', headers: auth, payload: fields });
      expect(patch.statusCode, JSON.stringify(fields)).toBe(400);
      expect(patch.json().reason).toMatch(reason);
    }
    const token = (scope: string) => app.inject({ method: 'POST', url: '/instances/token', headers: auth, payload: { domain: 'erin.example.org', audience: 'cli', scope } });
    expect((await token('io.cozy.files:FETCH')).json().reason).toMatch(/invalid verb "FETCH"/);
    expect((await token('Not A Doctype')).statusCode).toBe(400);
    expect((await token('io.cozy.files:GET')).statusCode).toBe(200);
  });
});

describe('admin API: authentication', () => {
  it('refuses requests without or with wrong credentials when not in dev', async () => {
    const { app } = await setup();
    for (const headers of [{}, basic('wrong')]) {
      const res = await app.inject({ url: '/instances', headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="hearth-admin"');
    }
    expect((await app.inject({ url: '/version', headers: auth })).statusCode).toBe(200);
  });

  it('verifies an argon2id passphrase hash', async () => {
    const { app } = await setup(testConfig({ passphrase: null, passphraseHash: await hash('hashed-pw') }));
    expect((await app.inject({ url: '/instances', headers: basic('hashed-pw') })).statusCode).toBe(200);
    expect((await app.inject({ url: '/instances', headers: basic('admin-secret') })).statusCode).toBe(401);
  });

  it('is locked when no passphrase is configured, open on loopback in dev', async () => {
    const locked = await setup(testConfig({ passphrase: null }));
    const res = await locked.app.inject({ url: '/instances', headers: auth });
    expect(res.statusCode).toBe(401);
    expect(res.json().reason).toMatch(/HEARTH_ADMIN_PASSPHRASE/);
    await locked.app.close();
    const dev = await setup(testConfig({ dev: true, passphrase: null }));
    expect((await dev.app.inject({ url: '/instances' })).statusCode).toBe(200);
    const remote = await dev.app.inject({ url: '/instances', remoteAddress: '192.0.2.7' });
    expect(remote.statusCode).toBe(401);
  });
});

describe('admin API: tokens, status, version', () => {
  it('mints cli and app tokens that TokenService.verify accepts', async () => {
    const { app, registry, tokens, grants } = await setup();
    await registry.create({ domain: 'dave.example.org' });
    const instance = (await registry.get('dave.example.org'))!;
    const cli = await app.inject({ method: 'POST', url: '/instances/token', headers: auth, payload: { domain: 'dave.example.org', audience: 'cli', scope: 'io.cozy.files io.cozy.contacts' } });
    expect(cli.statusCode).toBe(200);
    expect(await tokens.verify(instance, cli.json().token)).toMatchObject({ aud: 'cli', iss: 'dave.example.org', scope: 'io.cozy.files io.cozy.contacts' });

    const appTok = await app.inject({ method: 'POST', url: '/instances/token', headers: auth, payload: { domain: 'dave.example.org', audience: 'app', subject: 'drive', scope: 'io.cozy.files' } });
    expect(await tokens.verify(instance, appTok.json().token)).toMatchObject({ aud: 'app', sub: 'drive', session_id: '0'.repeat(32) });
    expect(appTok.json().session_cookie).toBe('test-session-cookie');
    expect(grants).toEqual([{ domain: 'dave.example.org', kind: 'app', slug: 'drive', scope: 'io.cozy.files' }]);

    const konn = await app.inject({ method: 'POST', url: '/instances/token', headers: auth, payload: { domain: 'dave.example.org', audience: 'konnector', subject: 'bank-x', scope: 'io.cozy.bank.*' } });
    expect(konn.statusCode).toBe(200);
    const claims = await tokens.verify(instance, konn.json().token);
    expect(claims).toMatchObject({ aud: 'konn', sub: 'bank-x' });
    expect(claims.exp! - claims.iat).toBe(30 * 60);
    expect(grants.at(-1)).toEqual({ domain: 'dave.example.org', kind: 'konnector', slug: 'bank-x', scope: 'io.cozy.bank.*' });

    const post = (payload: object) => app.inject({ method: 'POST', url: '/instances/token', headers: auth, payload });
    expect((await post({ domain: 'dave.example.org', audience: 'app' })).statusCode).toBe(400);
    expect((await post({ domain: 'dave.example.org', audience: 'cli' })).statusCode).toBe(400);
    expect((await post({ domain: 'dave.example.org', audience: 'konnector' })).statusCode).toBe(400);
    expect((await post({ domain: 'dave.example.org', audience: 'owner', subject: 'x' })).statusCode).toBe(400);
    expect((await post({ domain: 'nobody.example.org', audience: 'cli', scope: 'io.cozy.files' })).statusCode).toBe(404);
  });

  it('serves /status (502 when KO) and /version', async () => {
    const { app } = await setup();
    expect((await app.inject({ url: '/status', headers: auth })).json()).toMatchObject({ status: 'OK' });
    expect((await app.inject({ url: '/version', headers: auth })).json()).toMatchObject({ version: '0.1.0', build_mode: 'test' });
    // cozy-stack's admin answers the trailing-slash forms too
    expect((await app.inject({ url: '/status/', headers: auth })).json()).toMatchObject({ status: 'OK' });
    expect((await app.inject({ url: '/version/', headers: auth })).json()).toMatchObject({ version: '0.1.0', build_mode: 'test' });
    expect((await app.inject({ url: '/version/' })).statusCode).toBe(401);
    await app.close();
    const ko = await setup(testConfig(), { status: async () => ({ status: 'KO', registry: 'down' }) });
    const res = await ko.app.inject({ url: '/status', headers: auth });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toEqual({ status: 'KO', registry: 'down' });
  });
});
