/** POST /contacts/myself on a real server, with cozy-client's ContactsCollection. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { CozyStackClient } from '../../test/helpers/stack-client.js';

let h: TestHearth;
let contacts = '';
beforeAll(async () => {
  h = await startTestHearth();
  contacts = await h.cliToken('io.cozy.contacts');
  await h.hearth.registry.modify(h.domain, { publicName: 'Alice Martin', email: 'alice@example.org' });
});
afterAll(() => h.close());

const myself = (token = contacts, host?: string) => h.req('POST', '/contacts/myself', { token, ...(host ? { host } : {}) });

describe('POST /contacts/myself', () => {
  it('creates the owner\'s contact from the settings once, then answers the same document (fetchMyself)', async () => {
    const [a, b] = await Promise.all([myself(), myself()]);
    expect(a.status, a.text).toBe(200);
    expect(a.headers['content-type']).toContain('application/vnd.api+json');
    expect(a.body.data).toMatchObject({
      type: 'io.cozy.contacts', id: b.body.data.id, meta: { rev: expect.stringMatching(/^1-/) }, links: { self: '/contacts/myself' },
      attributes: {
        me: true, fullname: 'Alice Martin', displayName: 'Alice Martin', email: [{ address: 'alice@example.org', primary: true }],
        cozy: [{ url: `http://${h.domain}`, primary: true }], indexes: { byFamilyNameGivenNameEmailCozyUrl: 'alice@example.org' },
      },
    });
    expect(a.body.data.attributes._id).toBeUndefined();
    const found = await h.hearth.storeOf(h.instance).find('io.cozy.contacts', { selector: { me: true }, limit: 10, skip: 0 });
    expect(found.docs).toHaveLength(1);
    const client = new CozyStackClient({ uri: h.url, token: contacts });
    const col = await client.collection('io.cozy.contacts').findMyself();
    expect(col.data).toHaveLength(1);
    expect(col.data[0]).toMatchObject({ _id: a.body.data.id, _type: 'io.cozy.contacts', me: true, fullname: 'Alice Martin' });
  });

  it('answers an existing "me" as it is (the owner may have edited it), and re-creates it once deleted', async () => {
    const store = h.hearth.storeOf(h.instance);
    const current = (await myself()).body.data;
    const edited = await store.put('io.cozy.contacts', { _id: current.id, _rev: current.meta.rev, ...current.attributes, fullname: 'Alice M.' });
    expect((await myself()).body.data.attributes.fullname).toBe('Alice M.');
    await store.put('io.cozy.contacts', { _id: current.id, _rev: edited.rev, _deleted: true });
    const again = await myself();
    expect(again.status).toBe(200);
    expect(again.body.data.attributes.fullname).toBe('Alice Martin');
  });

  it('falls back on the email\'s local part, then on the instance URL, when the settings lack a name', async () => {
    const res = await myself(await h.cliToken('io.cozy.contacts', h.other), h.otherDomain);
    expect(res.status).toBe(200);
    expect(res.body.data.attributes).toEqual({ me: true, cozy: [{ url: `http://${h.otherDomain}`, primary: true }], indexes: { byFamilyNameGivenNameEmailCozyUrl: `http://${h.otherDomain}` } });
  });

  it('needs GET on the contact: 401, 400 another instance\'s token, 403 otherwise, and creates nothing for a refused caller', async () => {
    const fresh = await startTestHearth();
    try {
      expect((await fresh.req('POST', '/contacts/myself')).status).toBe(401);
      expect((await fresh.req('POST', '/contacts/myself', { token: await fresh.cliToken('io.cozy.contacts', fresh.other) })).status).toBe(400);
      expect((await fresh.req('POST', '/contacts/myself', { token: await fresh.cliToken('io.cozy.files') })).status).toBe(403);
      expect((await fresh.req('POST', '/contacts/myself', { token: await fresh.cliToken('io.cozy.contacts:POST') })).status).toBe(403);
      expect((await fresh.req('POST', '/contacts/myself', { token: await fresh.cliToken('io.cozy.contacts:GET:someone-else') })).status).toBe(403);
      const none = await fresh.hearth.storeOf(fresh.instance).find('io.cozy.contacts', { selector: { me: true }, limit: 10, skip: 0 });
      expect(none.docs).toHaveLength(0);
      // a rule restricted by selector to the owner's contact is enough
      expect((await fresh.req('POST', '/contacts/myself', { token: await fresh.cliToken('io.cozy.contacts:GET:true:me') })).status).toBe(200);
    } finally {
      await fresh.close();
    }
  });
});
