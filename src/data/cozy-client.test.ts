/** cozy-stack-client (the npm package cozy apps use) against /data. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import CozyStackClientModule from 'cozy-stack-client';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const CozyStackClient: any = (CozyStackClientModule as any).default ?? CozyStackClientModule;

let h: TestHearth;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let contacts: any;

beforeAll(async () => {
  h = await startTestHearth();
  const token = await h.cliToken('io.cozy.contacts');
  const client = new CozyStackClient({ uri: h.url, token });
  contacts = client.collection('io.cozy.contacts');
});
afterAll(() => h.close());

describe('cozy-stack-client DocumentCollection', () => {
  it('creates, gets, updates and destroys', async () => {
    const { data: created } = await contacts.create({ fullname: 'Ada Lovelace', email: [{ address: 'ada@example.org' }] });
    expect(created._id).toMatch(/^[0-9a-f]{32}$/);
    expect(created._type).toBe('io.cozy.contacts');
    const { data: got } = await contacts.get(created._id);
    expect(got.fullname).toBe('Ada Lovelace');
    const { data: updated } = await contacts.update({ ...got, fullname: 'Ada King' });
    expect(updated._rev).toMatch(/^2-/);
    const { data: destroyed } = await contacts.destroy(updated);
    expect(destroyed._deleted).toBe(true);
    // cozy-stack-client turns our 404 not_found into { data: null }
    expect(await contacts.get(created._id)).toEqual({ data: null });
  });

  it('finds with an index, sorted, and lists all', async () => {
    for (const [name, age] of [['Zoe', 31], ['Yann', 25], ['Xavier', 40], ['Wanda', 25]] as const) {
      await contacts.create({ name, age });
    }
    const res = await contacts.find({ age: { $gt: 24 } }, { indexedFields: ['age', 'name'], sort: [{ age: 'asc' }, { name: 'asc' }] });
    expect(res.data.map((d: { name: string }) => d.name)).toEqual(['Wanda', 'Yann', 'Zoe', 'Xavier']);
    const all = await contacts.all({ limit: 10 });
    expect(all.data.length).toBe(4);
    expect(all.meta.count).toBe(4);
  });

  it('reads the changes feed', async () => {
    const res = await contacts.fetchChanges({ since: '0' }, { includeDocs: true });
    expect(res.newLastSeq).toEqual(expect.any(String));
    expect(res.documents.length).toBeGreaterThanOrEqual(4);
  });
});
