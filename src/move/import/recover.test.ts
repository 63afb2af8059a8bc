/**
 * The imports a start finds `importing` that cannot go on (../service.ts `recover`): an import of the admin API or the
 * CLI that a stop cut short after it had started over once, and an import whose job is gone. Each is given up: the
 * instance reset (what a cut run wrote is removed), unblocked, the failure mailed as a failed import's and kept in the
 * job history as an errored `import` job.
 * (A job cut short twice: crash.test.ts, with real kill -9.)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import type { Instance } from '../../instances/types.js';
import { listOutbox, mailsOf, outboxDir, readOutboxMail } from '../../mail/outbox.js';

const waitFor = async (what: string, ok: () => Promise<boolean>, ms = 90_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('imports left by a stop', () => {
  let t: TestHearth;
  let inst: Instance;

  beforeEach(async () => {
    t = await startTestHearth();
    inst = await t.hearth.registry.create({ domain: `rec.localhost:${t.port}`, email: 'owner@example.org' });
    // what a cut run wrote
    await t.hearth.storeOf(inst).put('io.cozy.notes', { _id: 'half', x: 1 });
  });
  afterEach(async () => t.close());

  const failureMails = async () => {
    const dir = outboxDir(t.dataDir);
    const mails = mailsOf((await listOutbox(dir)) ?? [], inst).filter((m) => m.subject === 'Your import failed');
    return Promise.all(mails.map(async (m) => (await readOutboxMail(dir, m.id)).toString('utf8')));
  };

  async function givenUp(detail: Record<string, unknown>): Promise<void> {
    expect(await t.hearth.moveStates.transition(inst.id, null, { status: 'importing', peer: null, since: new Date().toISOString(), detail: { domain: inst.domain, ...detail } })).toBe(true);
    await t.hearth.imports.recover();
    await waitFor('the instance to be unblocked', async () => (await t.hearth.moveStates.get(inst.id)) === null);
    await expect(t.hearth.storeOf(inst).get('io.cozy.notes', 'half')).rejects.toThrow();
    // the job history, emptied by the reset, keeps the given-up import as an errored job
    const jobs = await t.hearth.jobs.engine.broker.list(inst.domain, { worker: 'import', limit: 10 });
    expect(jobs.map((j) => [j.state, j.error])).toEqual([['errored', 'the server stopped twice during the import']]);
    await waitFor('the failure mail', async () => (await failureMails()).length > 0);
    const mails = await failureMails();
    expect(mails).toHaveLength(1);
    expect(mails[0]).toContain('the server stopped twice during the import');
  }

  it('gives up an import of a file that a stop cut short after it had started over once', async () => {
    await givenUp({ source: { file: '/nonexistent/export.zip' }, restarted: true });
  });

  it('gives up an import whose job is gone (neither queued nor running)', async () => {
    await givenUp({ source: { url: 'https://other.example/move/exports/x' }, by: 'job', message: { manifest_url: 'https://other.example/move/exports/x' } });
  });

  it('starts an import of a file cut short once over again', async () => {
    expect(await t.hearth.moveStates.transition(inst.id, null, { status: 'importing', peer: null, since: new Date().toISOString(), detail: { domain: inst.domain, source: { file: '/nonexistent/export.zip' } } })).toBe(true);
    await t.hearth.imports.recover();
    // it runs again: its missing part is reported as an unreadable one, the instance unblocked and its owner told
    await waitFor('the instance to be unblocked', async () => (await t.hearth.moveStates.get(inst.id)) === null);
    const finished = async () => mailsOf((await listOutbox(outboxDir(t.dataDir))) ?? [], inst).filter((m) => m.subject === 'Your import is finished');
    await waitFor('the mail', async () => (await finished()).length > 0);
    expect(await failureMails()).toEqual([]);
  });
});
