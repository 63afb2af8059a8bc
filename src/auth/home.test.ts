import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE, sessionCookieValue } from './sessions.js';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(() => h.close());

describe('GET /', () => {
  it('sends visitors without a session to the login page', async () => {
    const res = await h.req('GET', '/');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/auth/login');
  });

  it('shows the home to the owner, and refuses a cookie of another instance', async () => {
    const session = await h.hearth.sessions.create(h.instance, { userAgent: 'test', ip: '127.0.0.1' });
    const cookie = `${SESSION_COOKIE}=${sessionCookieValue((await h.hearth.registry.secrets(h.instance)).session, session.id)}`;
    const res = await h.req('GET', '/', { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.text).toContain(h.domain);
    expect(res.headers['content-security-policy']).toContain("script-src 'nonce-");
    const other = await h.req('GET', '/', { headers: { cookie }, host: h.otherDomain });
    expect(other.status).toBe(303);
  });
});
