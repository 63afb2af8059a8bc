import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { jobContext } from '../../../test/helpers/job-context.js';
import { PermanentJobError, type WorkerDef } from '../types.js';
import { createKonnectorWorker, createServiceWorker, needsUser } from './workers.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/konnectors', import.meta.url));
let h: TestHearth;
let konnector: WorkerDef;
let service: WorkerDef;

beforeAll(async () => {
  h = await startTestHearth({ jobs: { konnectorsDir: FIXTURES, appsDir: FIXTURES, sandboxMemoryMb: 128, sandboxOutputBytes: 256 * 1024, eventSweepMs: 30_000 } });
  const deps = { config: h.hearth.config, perms: h.hearth.perms, tokens: h.hearth.tokens, publicUrl: () => h.url };
  konnector = createKonnectorWorker(deps);
  service = createServiceWorker(deps);
});
afterAll(() => h.close());

const run = async (fields: Record<string, unknown>, options: { timeout?: number } = {}) => {
  const t = jobContext(h.instance, 'konnector', { konnector: 'sample', ...fields });
  t.ctx.job.options = options;
  const error = await konnector.run(t.ctx).then(() => null, (e: Error) => e);
  return { ...t, error, text: t.events.map((e) => JSON.stringify(e)).join('\n') };
};

describe('the konnector worker', () => {
  it('has cozy-stack defaults', () => {
    expect(konnector).toMatchObject({ name: 'konnector', maxExecCount: 2, timeoutSeconds: 300 });
    expect(konnector.concurrency).toBeGreaterThanOrEqual(2);
  });

  it('runs the konnector: its bill and its file appear, its lines are events', async () => {
    const { error, events, ctx } = await run({ amount: 17 });
    expect(error).toBeNull();
    expect(events.map((e) => e.message)).toEqual(['starting', 'bill saved', 'file saved', 'done']);
    expect(events[0]).toEqual({ type: 'info', message: 'starting', vendor: 'Sample Energy' });
    const token = await h.cliToken('io.cozy.bills io.cozy.files');
    const bill = await h.req('GET', `/data/io.cozy.bills/${String(events[1]?.id)}`, { token });
    expect(bill.body).toMatchObject({ vendor: 'Sample Energy', amount: 17, job_id: ctx.job._id });
    const file = await h.req('GET', `/files/download?Path=${encodeURIComponent(`/bill-${ctx.job._id}.txt`)}`, { token });
    expect(file.status).toBe(200);
    expect(file.text).toBe('Bill of 17 EUR');
  });

  it('gives no HEARTH_ variable, only the cozy contract', async () => {
    process.env.HEARTH_ADMIN_PASSPHRASE = 'do-not-leak';
    try {
      const { events } = await run({ mode: 'env' });
      const keys = events.find((e) => e.message === 'env')?.keys as string[];
      expect(keys.filter((k) => !k.startsWith('COZY_')).sort()).toEqual(['HOME', 'LANG', 'NODE_ENV', 'PATH', 'TMPDIR']);
      expect(keys).toEqual(expect.arrayContaining(['COZY_URL', 'COZY_CREDENTIALS', 'COZY_FIELDS', 'COZY_PARAMETERS', 'COZY_TIME_LIMIT', 'COZY_JOB_ID', 'COZY_LOCALE']));
    } finally {
      delete process.env.HEARTH_ADMIN_PASSPHRASE;
    }
  });

  it('fails with ERR_ACCESS_DENIED when the konnector reads the stack data dir, and nothing leaks', async () => {
    const registry = join(h.dataDir, 'registry.sqlite');
    expect(readdirSync(h.dataDir)).toContain('registry.sqlite');
    const { error, text } = await run({ mode: 'read-data-dir', path: registry });
    expect(error?.message).toMatch(/^konnector sample exited with code 1: .*ERR_ACCESS_DENIED/);
    expect(error).not.toBeInstanceOf(PermanentJobError);
    expect(text).not.toContain('LEAK');
  });

  it('fails with its error line when it touches a doctype outside its permissions (403)', async () => {
    const { error } = await run({ mode: 'forbidden-doctype' });
    expect(error?.message).toBe('VENDOR_DOWN: POST /data/io.cozy.contacts/ answered 403');
    const contacts = await h.req('POST', '/data/io.cozy.contacts/_find', { token: await h.cliToken('io.cozy.contacts'), body: { selector: { fullname: 'Eve' } } });
    expect(contacts.body.docs ?? []).toEqual([]);
  });

  it('kills a konnector past its timeout', async () => {
    const { error, events } = await run({ mode: 'sleep' }, { timeout: 1 });
    expect(events.map((e) => e.message)).toEqual(['sleeping']);
    expect(error?.message).toMatch(/^Timeout exceeded/);
    expect(error).not.toBeInstanceOf(PermanentJobError);
  });

  it('stops a konnector that writes too much', async () => {
    const { error } = await run({ mode: 'spam-output' });
    expect(error?.message).toMatch(/wrote more than 262144 bytes of output/);
  });

  it('stops a konnector that goes over its memory cap', async () => {
    const { error } = await run({ mode: 'hog-buffers' });
    expect(error?.message).toMatch(/^konnector sample used more than \d+ MB of memory and was stopped$/);
  });

  it('turns LOGIN_FAILED into a PermanentJobError, but not USER_ACTION_NEEDED.CGU_FORM', async () => {
    const failed = await run({ mode: 'login-failed' });
    expect(failed.error).toBeInstanceOf(PermanentJobError);
    expect(failed.error?.message).toBe('LOGIN_FAILED');
    const cgu = await run({ mode: 'user-action-cgu' });
    expect(cgu.error?.message).toBe('USER_ACTION_NEEDED.CGU_FORM');
    expect(cgu.error).not.toBeInstanceOf(PermanentJobError);
    expect([needsUser('USER_ACTION_NEEDED.OAUTH_OUTDATED'), needsUser('LOGIN_FAILED'), needsUser('VENDOR_DOWN')]).toEqual([true, true, false]);
  });

  it('fails for good when the konnector is not installed, saying where it looked', async () => {
    const t = jobContext(h.instance, 'konnector', { konnector: 'absent' });
    const err = await konnector.run(t.ctx).catch((e: Error) => e);
    expect(err).toBeInstanceOf(PermanentJobError);
    expect((err as Error).message).toContain(join(FIXTURES, 'absent', 'manifest.konnector'));
  });

  it('fails when the code crashes, with its error in the message', async () => {
    const { error } = await run({ mode: 'crash' });
    expect(error?.message).toBe('konnector sample exited with code 1: Error: boom');
  });
});

describe('the service worker', () => {
  const runService = async (message: Record<string, unknown>) => {
    const t = jobContext(h.instance, 'service', message);
    return { ...t, error: await service.run(t.ctx).then(() => null, (e: Error) => e) };
  };

  it('runs an app service with the rights of its app, no session needed', async () => {
    await run({ amount: 5 });
    const { error, events } = await runService({ slug: 'sample-app', name: 'summary' });
    expect(error).toBeNull();
    const summary = events.find((e) => e.message === 'summary');
    expect(summary?.count).toBeGreaterThanOrEqual(1);
    expect(summary?.total).toBeGreaterThanOrEqual(5);
  });

  it('fails when the service uses a right its app lacks', async () => {
    const { error } = await runService({ slug: 'sample-app', name: 'summary', fields: { write: true } });
    expect(error?.message).toBe('writing a bill answered 403');
  });

  it('refuses a service file outside the app and an unknown service, for good', async () => {
    const escape = await runService({ slug: 'sample-app', name: 'escape' });
    expect(escape.error).toBeInstanceOf(PermanentJobError);
    expect(escape.error?.message).toMatch(/leaves the code directory/);
    const unknown = await runService({ slug: 'sample-app', name: 'nope' });
    expect(unknown.error?.message).toMatch(/declares no service "nope"/);
    expect(service).toMatchObject({ name: 'service', maxExecCount: 2, timeoutSeconds: 300 });
  });
});
