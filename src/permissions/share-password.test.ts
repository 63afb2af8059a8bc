/** Password-protected share links on a real server: the password cookie, its refusals and its limits. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type Res, type TestHearth } from '../../test/helpers/hearth.js';

let h: TestHearth;
let cli: string;
beforeAll(async () => {
  h = await startTestHearth();
  cli = await h.cliToken('io.cozy.contacts');
  for (const id of ['c1', 'c2']) expect((await h.req('PUT', `/data/io.cozy.contacts/${id}`, { token: cli, body: { name: id } })).status).toBeLessThan(300);
});
afterAll(() => h.close());

const oneContact = { contact: { type: 'io.cozy.contacts', verbs: ['GET'], values: ['c1'] } };

interface Link { id: string; code: string; shortcode: string }

async function link(password?: string): Promise<Link> {
  const attributes = { permissions: oneContact, ...(password === undefined ? {} : { password }) };
  const res = await h.req('POST', '/permissions?codes=bob', { token: cli, body: { data: { type: 'io.cozy.permissions', attributes } } });
  expect(res.status).toBe(201);
  const a = res.body.data.attributes;
  return { id: res.body.data.id, code: a.codes.bob, shortcode: a.shortcodes.bob };
}

/** The form cozy's password page posts. */
const unlock = (permId: string, password: string, headers: Record<string, string> = {}) =>
  h.req('POST', '/auth/share-by-link/password', {
    raw: new URLSearchParams({ perm_id: permId, password }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });

const setCookie = (r: Res): string => [r.headers['set-cookie'] ?? []].flat().join('\n');
/** `name=value` of the pass cookie a response set. */
const passCookie = (r: Res, id: string): string => ([r.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith(`pass${id}=`)) ?? '').split(';')[0] as string;
const read = (token: string, cookie?: string) => h.req('GET', '/data/io.cozy.contacts/c1', { token, headers: cookie ? { cookie } : {} });

describe('password-protected share links', () => {
  it('lets the codes in only with the cookie the right password sets', async () => {
    const l = await link('correct horse battery');
    for (const token of [l.code, l.shortcode]) {
      const res = await read(token);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('password_required');
      expect(res.body.reason).toBe(`this link is protected by a password: give it first (POST /auth/share-by-link/password with perm_id=${l.id} and password), then use the link again`);
    }

    const wrong = await unlock(l.id, 'wrong horse');
    expect(wrong.status).toBe(403);
    expect(wrong.body.error).toMatch(/password/);
    expect(setCookie(wrong)).toBe('');

    const ok = await unlock(l.id, 'correct horse battery');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ password: 'ok' });
    const raw = setCookie(ok);
    expect(raw).toMatch(new RegExp(`^pass${l.id}=[A-Za-z0-9_-]{43}; Path=/; Domain=localhost; HttpOnly; SameSite=Lax$`));
    const cookie = passCookie(ok, l.id);
    for (const token of [l.code, l.shortcode]) {
      const res = await read(token, cookie);
      expect(res.status).toBe(200);
      expect(res.body.name).toBe('c1');
    }
    // the cookie adds no right: the link's values still bound it
    expect((await h.req('GET', '/data/io.cozy.contacts/c2', { token: l.code, headers: { cookie } })).status).toBe(403);
  });

  it('accepts a JSON body too, and answers "none" for a link without password', async () => {
    const l = await link('json pass');
    const res = await h.req('POST', '/auth/share-by-link/password', { body: { perm_id: l.id, password: 'json pass' } });
    expect(res.status).toBe(200);
    expect((await read(l.code, passCookie(res, l.id))).status).toBe(200);

    const open = await link();
    const none = await unlock(open.id, 'anything');
    expect(none.body).toEqual({ password: 'none' });
    expect((await read(open.code)).status).toBe(200);
  });

  it("refuses another link's cookie, a forged cookie, and a cookie from before a password change", async () => {
    const a = await link('password of a');
    const b = await link('password of b');
    const cookieA = passCookie(await unlock(a.id, 'password of a'), a.id);
    const value = cookieA.split('=')[1] as string;
    expect((await read(b.code, `pass${b.id}=${value}`)).status).toBe(401);
    expect((await read(a.code, `pass${a.id}=${'A'.repeat(43)}`)).status).toBe(401);
    expect((await read(a.code, cookieA)).status).toBe(200);

    const patch = await h.req('PATCH', `/permissions/${a.id}`, { token: cli, body: { data: { type: 'io.cozy.permissions', attributes: { password: 'a new one' } } } });
    expect(patch.status).toBe(200);
    expect((await read(a.code, cookieA)).body.error).toBe('password_required');
    // removing the password opens the link again, without any cookie
    await h.req('PATCH', `/permissions/${a.id}`, { token: cli, body: { data: { type: 'io.cozy.permissions', attributes: { password: '' } } } });
    expect((await read(a.code)).status).toBe(200);
  });

  it('answers 404 for an unknown or revoked link', async () => {
    expect((await unlock('0123456789abcdef0123456789abcdef', 'x')).status).toBe(404);
    const l = await link('to be revoked');
    expect((await h.req('DELETE', `/permissions/${l.id}`, { token: cli })).status).toBe(204);
    expect((await unlock(l.id, 'to be revoked')).status).toBe(404);
  });

  it('refuses a post from another site, and answers an app subdomain with credentials', async () => {
    const l = await link('cross site');
    const evil = await unlock(l.id, 'cross site', { origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(setCookie(evil)).toBe('');
    const app = `http://drive.localhost:${h.port}`;
    const fromApp = await unlock(l.id, 'cross site', { origin: app });
    expect(fromApp.status).toBe(200);
    expect(fromApp.headers['access-control-allow-origin']).toBe(app);
    expect(fromApp.headers['access-control-allow-credentials']).toBe('true');
  });

  it('rate-limits the guesses on one link: 429 after 10 tries, even with the right password', async () => {
    const l = await link('the real one');
    for (let i = 0; i < 10; i++) expect((await unlock(l.id, `guess ${i}`)).status).toBe(403);
    const limited = await unlock(l.id, 'the real one');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(setCookie(limited)).toBe('');
  });
});
