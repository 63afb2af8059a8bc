/**
 * The move hooks (what the export and import workers call at the end, src/move/transfer/hooks.ts) between two real
 * servers: a failed export unblocks the target; the target's import ends with the source unblocked (failure) or retired
 * (success); the owner is mailed each time (a real SMTP server).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hearth } from '../../server/compose.js';
import type { Instance } from '../../instances/types.js';
import { startMovePair, type MovePair } from '../../../test/helpers/move-transfer.js';
import { createMoveHooks } from './hooks.js';

let p: MovePair;
let tBase: string;
beforeAll(async () => {
  p = await startMovePair();
  tBase = `http://${p.t.otherDomain}`;
}, 120_000);
afterAll(() => p?.close());

const hooksOf = (hearth: Hearth) => createMoveHooks({
  registry: hearth.registry, pending: hearth.movePending, moveStates: hearth.moveStates, jobs: hearth.jobs.engine, publicUrl: (i) => hearth.publicUrl(i), subdomains: 'nested',
  exportLink: async (instance, doc) => `http://settings.${instance.domain}/#/exports/${doc._id}`, logger: pino({ level: 'silent' }), allowPrivate: true,
});
const ref = (i: Instance) => ({ id: i.id, domain: i.domain });
const mailTo = (subject: RegExp) => expect.poll(() => p.smtp.received.find((m) => subject.test(m.mail.subject ?? ''))?.mail.text ?? '', { timeout: 60_000 });

describe('the move hooks', () => {
  it('exportFailed: the target waiting for the data is unblocked, the source forgets it and is unblocked, the owner is told why', async () => {
    const tToken = await p.t.cliToken('io.cozy.imports', p.target);
    expect((await p.treq('POST', `/move/importing?source=${p.s.domain}`, { token: tToken })).status).toBe(204);
    expect((await p.t.hearth.moveStates.get(p.target.id))?.status).toBe('moving');
    await p.s.hearth.movePending.put('moving_to', p.source.id, p.source.id, { url: tBase }, 60_000);
    expect(await p.s.hearth.moveStates.transition(p.source.id, null, { status: 'exporting', peer: `${tBase}/`, since: new Date().toISOString(), detail: {} })).toBe(true);
    await hooksOf(p.s.hearth).exportFailed(ref(p.source), { move_to: { url: tBase, token: tToken, client_id: 'c', client_secret: 's' } }, 'the disk is full');
    expect(await p.t.hearth.moveStates.get(p.target.id)).toBeNull();
    expect(await p.s.hearth.movePending.peek('moving_to', p.source.id)).toBeNull();
    expect(await p.s.hearth.moveStates.get(p.source.id)).toBeNull();
    await mailTo(/^The move of localhost:\d+ failed$/).toContain('the disk is full');
  });

  it('importDone: a failure unblocks the source, a success retires it (moved, with the target\'s address); the target\'s owner is mailed', async () => {
    const sToken = await p.s.cliToken('io.cozy.imports');
    const msg = { manifest_url: `${p.s.url}/move/exports/mac`, move_from: { url: `${p.s.url}/`, token: sToken } };
    const hooks = hooksOf(p.t.hearth);
    await p.s.hearth.movePending.put('moving_to', p.source.id, p.source.id, { url: tBase }, 60_000);
    await hooks.importDone(ref(p.target), msg, { ok: false, error: 'a part could not be read' });
    expect(await p.s.hearth.movePending.peek('moving_to', p.source.id)).toBeNull();
    expect(await p.s.hearth.moveStates.get(p.source.id)).toBeNull();
    await mailTo(/^The move to 127\.0\.0\.1:\d+ failed$/).toContain('a part could not be read');
    // finalize without a move under way is refused: the hook says so
    await expect(hooks.importDone(ref(p.target), msg, { ok: true })).rejects.toThrow(/HTTP 409/);
    await p.s.hearth.movePending.put('moving_to', p.source.id, p.source.id, { url: tBase }, 60_000);
    await hooks.importDone(ref(p.target), msg, { ok: true });
    expect(await p.s.hearth.moveStates.get(p.source.id)).toMatchObject({ status: 'moved', peer: `${tBase}/`, detail: { moved_to_subdomain_type: 'nested' } });
    await mailTo(/^Your data moved to 127\.0\.0\.1:\d+$/).toContain(`The move from ${p.s.domain} is over`);
  });
});
