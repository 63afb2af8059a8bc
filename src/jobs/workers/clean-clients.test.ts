import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFound } from '../../common/errors.js';
import { CLIENTS_DOCTYPE, OAuthClients } from '../../oauth/clients.js';
import { jobContext } from '../../../test/helpers/job-context.js';
import { openTestVfs, type TestVfs } from '../../../test/helpers/vfs.js';
import { cleanClientsWorker } from './clean-clients.js';

let t: TestVfs;
let clients: OAuthClients;
beforeAll(() => {
  t = openTestVfs('c');
  clients = new OAuthClients(() => t.store, async () => new Uint8Array(32).fill(7));
});
afterAll(() => t.close());

const meta = (name: string) => ({ redirect_uris: ['http://localhost/cb'], client_name: name, software_id: 'github.com/example/app' });

/** Registers a client, then moves its created_at `agoMs` into the past (through the store). */
async function client(name: string, agoMs: number, used = false): Promise<string> {
  const { client: c } = await clients.register(t.instance, meta(name));
  if (used) await clients.markUsed(t.instance, c.client_id);
  const doc = await t.store.get(CLIENTS_DOCTYPE, c.client_id);
  await t.store.put(CLIENTS_DOCTYPE, { ...doc, created_at: new Date(Date.now() - agoMs).toISOString() });
  return c.client_id;
}

const exists = (id: string) => clients.get(t.instance, id).then(() => true, (e: unknown) => (e instanceof NotFound ? false : Promise.reject(e)));

describe('clean-clients worker', () => {
  it('deletes the clients still pending an hour after their registration, keeps the others', async () => {
    const w = cleanClientsWorker({ storeOf: () => t.store });
    expect(w).toMatchObject({ name: 'clean-clients', internal: true, maxExecCount: 2, timeoutSeconds: 30 });
    const oldPending = await client('old pending', 2 * 3_600_000);
    const oldUsed = await client('old used', 2 * 3_600_000, true);
    const freshPending = await client('fresh pending', 10 * 60_000);
    await w.run(jobContext(t.instance, 'clean-clients', {}).ctx);
    expect(await exists(oldPending)).toBe(false);
    expect(await exists(oldUsed)).toBe(true);
    expect(await exists(freshPending)).toBe(true);
    // an hour later (an injected clock), the fresh one goes too
    const later = cleanClientsWorker({ storeOf: () => t.store, now: () => new Date(Date.now() + 3_600_000) });
    await later.run(jobContext(t.instance, 'clean-clients', null).ctx);
    expect(await exists(freshPending)).toBe(false);
    expect(await exists(oldUsed)).toBe(true);
  });

  it('with {client_id}, considers only that client', async () => {
    const a = await client('a', 2 * 3_600_000);
    const b = await client('b', 2 * 3_600_000);
    const w = cleanClientsWorker({ storeOf: () => t.store });
    await w.run(jobContext(t.instance, 'clean-clients', { client_id: a }).ctx);
    expect(await exists(a)).toBe(false);
    expect(await exists(b)).toBe(true);
    await w.run(jobContext(t.instance, 'clean-clients', { client_id: a }).ctx); // already gone: nothing to do
    await expect(w.run(jobContext(t.instance, 'clean-clients', { client_id: 3 }).ctx)).rejects.toThrow(/client_id/);
  });
});
