/**
 * An install of stored code across kill -9 (installer.ts, journal.ts): its intent and code reference are committed
 * before anything else (without their fsync: a killed process loses no commit; a machine crash: machine-crash.test.ts),
 * its trigger is written without waiting for the disk, its permission document and app doc in one durable commit. Killed after the trigger and before the app doc, the next start undoes it (no orphan trigger,
 * reference or permission document); killed after the app doc and before the trigger was known durable, with the
 * trigger's commit lost (as a power loss may), the next start makes the trigger again with the id the doc names.
 * Both starts read only the journal's intents (the code store is not `refsStale`: no instance's app docs are listed).
 * The same on PostgreSQL: install-crash-pg.test.ts.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { finished, installCrashWorld, sturdyOn, UNDONE } from '../../../test/helpers/install-crash.js';

let pkgs: PackageServer;
const dataDir = mkdtempSync(join(tmpdir(), 'hearth-crash-install-'));
beforeAll(async () => {
  pkgs = await startPackageServer();
});
afterAll(async () => {
  await pkgs.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** What the files hold, read with no server on them: the instance's sturdy triggers (ids) and the install intents left. */
function onDisk(instanceId: string): { triggers: string[]; intents: number } {
  const jobs = new Database(join(dataDir, 'jobs.sqlite'));
  const code = new Database(join(dataDir, 'apps-code.sqlite'));
  try {
    const triggers = jobs.prepare("SELECT id FROM triggers WHERE instance_id = ? AND json_extract(doc, '$.message.slug') = 'sturdy'").pluck().all(instanceId) as string[];
    return { triggers, intents: (code.prepare('SELECT count(*) FROM installs').pluck().get() as number) };
  } finally {
    jobs.close();
    code.close();
  }
}

describe('an install of stored code across a crash', () => {
  it('is undone when killed before its app doc, and finished (its lost trigger made again) when killed after it', async () => {
    const world = await installCrashWorld(pkgs, dataDir, ['apps.install.triggers', 'apps.install.written']);
    onTestFinished(() => world.close());
    // killed after the trigger, before the permission document and the app doc: the next start undoes it
    await world.installUntil('apps.install.triggers');
    expect(onDisk(world.instanceId)).toMatchObject({ triggers: [expect.any(String)], intents: 1 });
    await world.with(async (hearth, instance) => {
      expect(await sturdyOn(hearth, instance)).toEqual(UNDONE);
      expect(hearth.appCode.refsStale).toBe(false);
    });
    // the same install killed after its app doc, before its intent went
    await world.installUntil('apps.install.written');
    const { triggers } = onDisk(world.instanceId);
    expect(triggers).toHaveLength(1);
    // what a power loss may do to the trigger's commit, written without its fsync
    const jobs = new Database(join(dataDir, 'jobs.sqlite'));
    expect(jobs.prepare('DELETE FROM triggers WHERE id = ?').run(triggers[0]).changes).toBe(1);
    jobs.close();
    await world.with(async (hearth, instance) => {
      expect(await sturdyOn(hearth, instance)).toEqual(finished(triggers[0]!));
      expect(hearth.appCode.refsStale).toBe(false);
      const [ref] = await hearth.appCode.refs({ instanceId: instance.id });
      expect(await hearth.appCode.refs({ sha256: ref!.sha256 })).toHaveLength(2);
    });
  }, 120_000);
});
