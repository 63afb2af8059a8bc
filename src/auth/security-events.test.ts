/** The owner's security events on a real server: recorded at login, failed login and session revocation, listed newest first and paged, only to the owner. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type Res, type TestHearth } from '../../test/helpers/hearth.js';
import { derivePassphrase } from './passphrase.js';

const ITER = 1000;
let h: TestHearth;
let good: string;
beforeAll(async () => {
  h = await startTestHearth();
  good = await derivePassphrase('owner-pass', h.domain, ITER);
  h.instance = await h.hearth.registry.setDerivedPassphrase(h.instance, good, ITER);
});
afterAll(() => h.close());

const login = (passphrase: string): Promise<Res> =>
  h.req('POST', '/auth/login', { body: { passphrase }, headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' } });
const cookieOf = (r: Res): string => ([r.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('cozysessid=')) ?? '').split(';')[0] as string;
const events = (cookie: string, query = '') => h.req('GET', `/settings/security-events${query}`, { headers: { cookie } });

describe('security events', () => {
  it('records failed logins, logins and ended sessions, listed newest first with where they came from, page by page', async () => {
    const wrong = await derivePassphrase('not-it', h.domain, ITER);
    expect((await login(wrong)).status).toBe(401);
    const first = cookieOf(await login(good));
    const second = cookieOf(await login(good));
    const secondId = (await h.req('GET', '/settings/sessions/current', { headers: { cookie: second } })).body.data.id;
    expect((await h.req('DELETE', `/settings/sessions/${secondId}`, { headers: { cookie: first } })).status).toBe(204);

    const all = await events(first);
    expect(all.status).toBe(200);
    expect(all.headers['cache-control']).toBe('no-store');
    expect(all.body.data.map((e: { attributes: { kind: string } }) => e.attributes.kind)).toEqual(['session_revoked', 'login', 'login', 'login_failed']);
    expect(all.body.data[3].attributes).toMatchObject({ ip: expect.stringContaining('127.0.0.1'), user_agent: expect.stringContaining('Firefox/128.0'), at: expect.any(String) });
    expect(all.body.meta.count).toBe(4);

    const one = await events(first, '?page[limit]=3');
    expect(one.body.data).toHaveLength(3);
    const next = await h.req('GET', one.body.links.next, { headers: { cookie: first } });
    expect(next.body.data.map((e: { attributes: { kind: string } }) => e.attributes.kind)).toEqual(['login_failed']);
    expect(next.body.links).toBeUndefined();
  });

  it('are the owner\'s: refused without a session or a right on io.cozy.settings, and not shown to another instance', async () => {
    expect((await h.req('GET', '/settings/security-events')).status).toBe(401);
    expect((await h.req('GET', '/settings/security-events', { token: await h.cliToken('io.cozy.files') })).status).toBe(403);
    const other = await h.hearth.registry.get(h.otherDomain);
    const theirs = await h.req('GET', '/settings/security-events', { token: await h.cliToken('io.cozy.settings', other!), host: h.otherDomain });
    expect(theirs.status).toBe(200);
    expect(theirs.body.data).toEqual([]);
    const bad = await h.req('GET', '/settings/security-events?page[cursor]=x', { token: await h.cliToken('io.cozy.settings') });
    expect(bad.status).toBe(400);
  });
});
