import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { jobContext } from '../../../test/helpers/job-context.js';
import { createKonnectorWorker } from './workers.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/konnectors', import.meta.url));
let h: TestHearth;
let cli: string;

beforeAll(async () => {
  h = await startTestHearth({ jobs: { konnectorsDir: FIXTURES, appsDir: null, sandboxMemoryMb: 128, sandboxOutputBytes: 1 << 20, eventSweepMs: 30_000 } });
  cli = await h.cliToken('io.cozy.accounts');
  for (const slug of ['sample', 'other']) await h.hearth.perms.grant(h.instance, 'konnector', slug, 'io.cozy.accounts');
});
afterAll(() => h.close());

const konnToken = (slug: string) => h.hearth.tokens.issue(h.instance, { aud: 'konn', sub: slug });
const account = { account_type: 'sample', name: 'My sample', auth: { login: 'ada', password: 'hunter2-secret', secret: { otp: 'S3' } }, data: { auth: { access_token: 'tok-xyz' } } };

describe('io.cozy.accounts credentials', () => {
  it('are sealed at rest: the owner side (cli) never sees them in clear', async () => {
    const created = await h.req('POST', '/data/io.cozy.accounts/', { token: cli, body: account });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const read = await h.req('GET', `/data/io.cozy.accounts/${id}`, { token: cli });
    expect(read.body.auth).toEqual({ login: 'ada', credentials_encrypted: expect.stringMatching(/^v1\./), secret_encrypted: expect.stringMatching(/^v1\./) });
    expect(read.body.data.auth).toEqual({ access_token_encrypted: expect.stringMatching(/^v1\./) });
    const all = await h.req('GET', '/data/io.cozy.accounts/_all_docs?include_docs=true', { token: cli });
    expect(all.text).not.toMatch(/hunter2|tok-xyz|"S3"/);
    expect(created.text).not.toMatch(/hunter2/);
  });

  it('are decrypted only for the konnector of the account_type', async () => {
    const { body } = await h.req('POST', '/data/io.cozy.accounts/', { token: cli, body: account });
    const own = await h.req('GET', `/data/io.cozy.accounts/${body.id}`, { token: await konnToken('sample') });
    expect(own.status).toBe(200);
    expect(own.body.auth).toEqual({ login: 'ada', password: 'hunter2-secret', secret: { otp: 'S3' } });
    expect(own.body.data.auth).toEqual({ access_token: 'tok-xyz' });
    const other = await h.req('GET', `/data/io.cozy.accounts/${body.id}`, { token: await konnToken('other') });
    expect(other.status).toBe(200);
    expect(other.text).not.toMatch(/hunter2|tok-xyz/);
    expect(other.body.auth.credentials_encrypted).toMatch(/^v1\./);
  });

  it('are sealed again on PUT and _bulk_docs (a konnector writing back its clear account)', async () => {
    const { body } = await h.req('POST', '/data/io.cozy.accounts/', { token: cli, body: account });
    const own = await h.req('GET', `/data/io.cozy.accounts/${body.id}`, { token: await konnToken('sample') });
    const put = await h.req('PUT', `/data/io.cozy.accounts/${body.id}`, { token: await konnToken('sample'), body: { ...own.body, auth: { ...own.body.auth, password: 'new-pass' } } });
    expect(put.status).toBe(200);
    const bulk = await h.req('POST', '/data/io.cozy.accounts/_bulk_docs', { token: cli, body: { docs: [{ _id: 'bulk-acc', account_type: 'sample', auth: { login: 'bob', password: 'bulk-pass' } }] } });
    expect(bulk.status).toBe(201);
    const all = await h.req('GET', '/data/io.cozy.accounts/_all_docs?include_docs=true', { token: cli });
    expect(all.text).not.toMatch(/new-pass|bulk-pass|hunter2/);
    const again = await h.req('GET', `/data/io.cozy.accounts/${body.id}`, { token: await konnToken('sample') });
    expect(again.body.auth.password).toBe('new-pass');
    const bulkRead = await h.req('GET', '/data/io.cozy.accounts/bulk-acc', { token: await konnToken('sample') });
    expect(bulkRead.body.auth).toEqual({ login: 'bob', password: 'bulk-pass' });
  });

  it('reach the konnector run for that account, inside the sandbox', async () => {
    const { body } = await h.req('POST', '/data/io.cozy.accounts/', { token: cli, body: account });
    const worker = createKonnectorWorker({ config: h.hearth.config, perms: h.hearth.perms, tokens: h.hearth.tokens, publicUrl: () => h.url });
    const t = jobContext(h.instance, 'konnector', { konnector: 'sample', account: body.id, mode: 'check-account' });
    await worker.run(t.ctx);
    expect(t.events).toContainEqual({ type: 'info', message: 'account read', login: 'ada', has_password: true });
  });
});
