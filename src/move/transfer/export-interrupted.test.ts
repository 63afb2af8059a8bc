/**
 * An export for a move whose job is gone (its process was killed): the export's sweep marks it failed and the move
 * failed with it, so the source, blocked `exporting` since /move/go, is unblocked and forgets its target. A real server;
 * its `export` worker records the job without running it (the job ends, as a killed one is found after a restart).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerDef } from '../../jobs/types.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { SqliteExportStore } from '../export/store.js';

let s: TestHearth;
beforeAll(async () => {
  const gone: WorkerDef = { name: 'export', internal: true, run: async () => undefined };
  s = await startTestHearth({ imports: { allowPrivateUrls: true } }, { extraWorkers: [gone], exports: { sweepMs: 0 } });
}, 60_000);
afterAll(() => s?.close());

describe('an export for a move interrupted by a restart', () => {
  it('is marked failed by the sweep, which unblocks the source', async () => {
    // the target is not reachable: its abort is tried and given up
    const target = 'http://127.0.0.1:1';
    await s.hearth.movePending.put('moving_to', s.instance.id, s.instance.id, { url: target }, 60_000);
    expect(await s.hearth.moveStates.transition(s.instance.id, null, { status: 'exporting', peer: `${target}/`, since: new Date().toISOString(), detail: {} })).toBe(true);
    const message = { move_to: { url: target, token: 't', client_id: 'c', client_secret: 's' }, token: await s.cliToken('io.cozy.imports') };
    const job = await s.hearth.jobs.engine.push(s.domain, { worker: 'export', message });
    await expect.poll(async () => (await s.hearth.jobs.engine.broker.get(s.domain, job._id))?.state, { timeout: 60_000 }).toBe('done');
    // the export its job had begun, left `exporting` when the process died
    const store = new SqliteExportStore(join(s.dataDir, 'exports.sqlite'));
    const now = Date.now();
    await store.begin(s.instance.id, { _id: 'e'.repeat(32), domain: s.domain, parts_cursors: [], state: 'exporting', created_at: new Date(now).toISOString(), expires_at: new Date(now + 3600_000).toISOString(), total_size: -1 }, job._id, now);
    await store.close();
    await s.hearth.exports.sweep();
    expect((await s.hearth.exports.list(s.instance)).map((d) => d.state)).toEqual(['error']);
    expect(await s.hearth.moveStates.get(s.instance.id)).toBeNull();
    expect(await s.hearth.movePending.peek('moving_to', s.instance.id)).toBeNull();
  });
});
