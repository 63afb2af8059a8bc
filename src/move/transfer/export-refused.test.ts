/**
 * A move whose target refuses the finished export (S's real `export` job, T a real server that is not waiting for it):
 * the move failed, so the source, blocked `exporting` since /move/go, is unblocked and forgets its target, as when the
 * export itself fails (cozy-stack aborts the move when NotifyTarget fails).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';

let s: TestHearth;
let t: TestHearth;
beforeAll(async () => {
  // both reach the other on loopback (move/net.ts refuses private addresses otherwise)
  s = await startTestHearth({ imports: { allowPrivateUrls: true } }, { exports: { sweepMs: 0 } });
  t = await startTestHearth({ imports: { allowPrivateUrls: true } });
}, 120_000);
afterAll(async () => {
  await Promise.all([s?.close(), t?.close()]);
});

describe('a move whose target refuses the export', () => {
  it('unblocks the source, which forgets its target; the target stays as it was', async () => {
    await s.hearth.movePending.put('moving_to', s.instance.id, s.instance.id, { url: t.url }, 60_000);
    expect(await s.hearth.moveStates.transition(s.instance.id, null, { status: 'exporting', peer: `${t.url}/`, since: new Date().toISOString(), detail: {} })).toBe(true);
    expect((await s.req('GET', '/data/io.cozy.contacts/_all_docs')).status).toBe(503);
    // T was never told the move starts (no POST /move/importing): it answers 409 to the import of the move
    const message = { move_to: { url: t.url, token: await t.cliToken('io.cozy.imports'), client_id: 'c', client_secret: 's' }, token: await s.cliToken('io.cozy.imports') };
    await s.hearth.jobs.engine.push(s.domain, { worker: 'export', message });
    await expect.poll(() => s.hearth.moveStates.get(s.instance.id), { timeout: 90_000, interval: 250 }).toBeNull();
    // the export itself succeeded: the target's refusal failed the move
    expect((await s.hearth.exports.list(s.instance)).map((d) => d.state)).toEqual(['done']);
    expect(await s.hearth.movePending.peek('moving_to', s.instance.id)).toBeNull();
    expect(await t.hearth.moveStates.get(t.instance.id)).toBeNull();
    expect((await s.req('GET', '/auth/login', { headers: { accept: 'text/html' } })).status).toBe(200);
  });
});
