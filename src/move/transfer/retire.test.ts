/**
 * The retired source of a move is deleted `move.retiredRetentionDays` (30 by default) after its finalize, as cozy-stack
 * asks its manager to: not a moment before (it answers 410 with its new address meanwhile), and after a restart too,
 * since the date is the move state's. A real server, its real registry and move states.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHearth } from '../../server/compose.js';
import { loadConfig } from '../../config/load.js';
import { startTestHearth, testConfig, type TestHearth } from '../../../test/helpers/hearth.js';
import { RetiredInstances } from './retire.js';

const DAY = 24 * 3600 * 1000;
let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
}, 60_000);
afterAll(() => h?.close());

describe('the retired source of a move', () => {
  it('is kept 30 days after its finalize, answering 410, then deleted; after a restart too', async () => {
    expect(h.hearth.config.move.retiredRetentionDays).toBe(30);
    const moved = h.other;
    // the source of a move being finalized by its target (POST /move/finalize with the move token)
    await h.hearth.movePending.put('moving_to', moved.id, moved.id, { url: 'https://new.example' }, 60_000);
    expect(await h.hearth.moveStates.transition(moved.id, null, { status: 'exporting', peer: 'https://new.example/', since: new Date().toISOString(), detail: {} })).toBe(true);
    const token = await h.cliToken('io.cozy.imports', moved);
    expect((await h.req('POST', '/move/finalize?subdomain=nested', { token, host: h.otherDomain })).status).toBe(204);
    const state = await h.hearth.moveStates.get(moved.id);
    expect(state).toMatchObject({ status: 'moved', detail: { domain: h.otherDomain } });
    const since = Date.parse(state!.since);
    expect((await h.req('GET', '/data/io.cozy.notes/_all_docs', { token, host: h.otherDomain })).status).toBe(410);

    const round = (at: number) => new RetiredInstances({ moveStates: h.hearth.moveStates, registry: h.hearth.registry, retentionDays: h.hearth.config.move.retiredRetentionDays, logger: pino({ level: 'silent' }), now: () => at, everyMs: 0 }).sweep();
    expect(await round(since + 29.9 * DAY)).toBe(0);
    expect(await h.hearth.registry.get(h.otherDomain)).not.toBeNull();
    // 0 days: never deleted
    expect(await new RetiredInstances({ moveStates: h.hearth.moveStates, registry: h.hearth.registry, retentionDays: 0, logger: pino({ level: 'silent' }), now: () => since + 1000 * DAY }).sweep()).toBe(0);

    // a restart with a short delay (a few seconds): the date was kept, the instance is deleted by the server's own round
    await h.hearth.close();
    h.hearth = await createHearth(testConfig(h.dataDir, { move: { url: null, retiredRetentionDays: 2 / 86_400 } }), pino({ level: 'silent' }), { retiredSweepMs: 200 });
    await h.hearth.publicApp.listen({ host: '127.0.0.1', port: h.port });
    await expect.poll(() => h.hearth.registry.get(h.otherDomain), { timeout: 60_000, interval: 200 }).toBeNull();
    // the destroy goes on after the registry forgot the domain: its move state is forgotten at its end
    await expect.poll(() => h.hearth.moveStates.get(moved.id), { timeout: 60_000, interval: 200 }).toBeNull();
    expect((await h.req('GET', '/data/io.cozy.notes/_all_docs', { token, host: h.otherDomain })).status).toBe(404);
    // the other instance of the server is not concerned
    expect(await h.hearth.registry.get(h.domain)).not.toBeNull();
  });

  it('takes its delay from move.retiredRetentionDays, and refuses a negative one', () => {
    expect(() => loadConfig({ env: { HEARTH_MOVE_RETIRED_RETENTION_DAYS: '-1' }, cwd: h.dataDir })).toThrow(/move\.retiredRetentionDays/);
    expect(loadConfig({ env: { HEARTH_MOVE_RETIRED_RETENTION_DAYS: '7' }, cwd: h.dataDir }).move.retiredRetentionDays).toBe(7);
  });
});
