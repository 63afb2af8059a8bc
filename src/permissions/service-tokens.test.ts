/** `svc` tokens (an app's service run by the service worker): the app's rights, no session cookie, nothing more. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
  await h.hearth.perms.grant(h.instance, 'app', 'budget', 'io.cozy.bills:GET');
  await h.hearth.perms.grant(h.instance, 'konnector', 'budget', 'io.cozy.bills');
  expect((await h.req('PUT', '/data/io.cozy.bills/b1', { token: await h.cliToken('io.cozy.bills'), body: { amount: 3 } })).status).toBe(200);
});
afterAll(() => h.close());

const svc = (sub: string, instance = h.instance) => h.hearth.tokens.issue(instance, { aud: 'svc', sub });

describe('service tokens', () => {
  it('carry the rights of the app, without a session', async () => {
    const token = await svc('budget');
    expect((await h.req('GET', '/data/io.cozy.bills/b1', { token })).body).toMatchObject({ amount: 3 });
    // the app's rights (GET), not the konnector's of the same slug (ALL)
    expect((await h.req('POST', '/data/io.cozy.bills/', { token, body: { amount: 1 } })).status).toBe(403);
  });

  it('are refused for an app with no recorded rights, and on another instance', async () => {
    expect((await h.req('GET', '/data/io.cozy.bills/b1', { token: await svc('unknown') })).status).toBe(400);
    expect((await h.req('GET', '/data/io.cozy.bills/b1', { token: await svc('budget', h.other) })).status).toBe(400);
  });

  it('come from a grant written only when the rules change (a run per job rewrites nothing)', async () => {
    const store = h.hearth.storeOf(h.instance);
    const rev = async () => (await store.get('io.cozy.permissions', 'io.cozy.apps/budget'))?._rev;
    const before = await rev();
    await h.hearth.perms.grant(h.instance, 'app', 'budget', 'io.cozy.bills:GET');
    expect(await rev()).toBe(before);
    await h.hearth.perms.grant(h.instance, 'app', 'budget', 'io.cozy.bills:GET,POST');
    const changed = await rev();
    expect(changed).not.toBe(before);
    expect((await h.req('POST', '/data/io.cozy.bills/', { token: await svc('budget'), body: { amount: 1 } })).status).toBe(201);
    await h.hearth.perms.grant(h.instance, 'app', 'budget', 'io.cozy.bills:GET');
    expect((await h.req('POST', '/data/io.cozy.bills/', { token: await svc('budget'), body: { amount: 1 } })).status).toBe(403);
  });

  it('leave app tokens bound to their session', async () => {
    const app = await h.hearth.tokens.issue(h.instance, { aud: 'app', sub: 'budget' });
    expect((await h.req('GET', '/data/io.cozy.bills/b1', { token: app })).status).toBe(400);
  });
});
