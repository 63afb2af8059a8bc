/** DELETE /settings/sessions/:id on a real server: the owner ends another browser's session; other instances' sessions and tokens without the right are refused. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';

let h: TestHearth;
let cookie = '';
beforeAll(async () => {
  h = await startTestHearth();
  await h.hearth.perms.grantApp(h.instance, 'settings', 'io.cozy.settings');
  cookie = `cozysessid=${(await h.hearth.appToken(h.instance, 'settings')).session_cookie}`;
});
afterAll(() => h.close());

describe('revoking one session', () => {
  it('ends that session only, then answers 404 for it', async () => {
    const other = await h.hearth.sessions.create(h.instance, { userAgent: 'Firefox', ip: '192.0.2.7' });
    const keep = await h.hearth.sessions.create(h.instance, { userAgent: 'Safari' });
    expect((await h.req('DELETE', `/settings/sessions/${other.id}`, { headers: { cookie } })).status).toBe(204);
    expect(await h.hearth.sessions.get(other.id)).toBeNull();
    expect(await h.hearth.sessions.get(keep.id)).not.toBeNull();
    const ids = (await h.req('GET', '/settings/sessions', { headers: { cookie } })).body.data.map((s: { id: string }) => s.id);
    expect(ids).toContain(keep.id);
    expect(ids).not.toContain(other.id);
    const again = await h.req('DELETE', `/settings/sessions/${other.id}`, { headers: { cookie } });
    expect(again.status).toBe(404);
  });

  it('refuses another instance\'s session, a token without DELETE on io.cozy.settings, and no credentials', async () => {
    const other = await h.hearth.registry.get(h.otherDomain);
    const theirs = await h.hearth.sessions.create(other!, { userAgent: 'Firefox' });
    expect((await h.req('DELETE', `/settings/sessions/${theirs.id}`, { headers: { cookie } })).status).toBe(404);
    expect(await h.hearth.sessions.get(theirs.id)).not.toBeNull();
    const mine = await h.hearth.sessions.create(h.instance, { userAgent: 'Firefox' });
    const readOnly = await h.cliToken('io.cozy.settings:GET');
    expect((await h.req('DELETE', `/settings/sessions/${mine.id}`, { token: readOnly })).status).toBe(403);
    expect((await h.req('DELETE', `/settings/sessions/${mine.id}`)).status).toBe(401);
    expect(await h.hearth.sessions.get(mine.id)).not.toBeNull();
  });
});
