/**
 * An install of stored code across kill -9 (installer.ts, journal.ts): its intent and code reference are durable
 * before anything else, its trigger is written without waiting for the disk, its permission document and app doc in
 * one durable commit. Killed after the trigger and before the app doc, the next start undoes it (no orphan trigger,
 * reference or permission document); killed after the app doc and before the trigger was known durable, with the
 * trigger's commit lost (as a power loss may), the next start makes the trigger again with the id the doc names.
 * Both starts read only the journal's intents (the code store is not `refsStale`: no instance's app docs are listed).
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { startServer } from '../../../test/helpers/crash.js';
import { rawRequest, testConfig } from '../../../test/helpers/hearth.js';
import { freePort } from '../../../test/helpers/ports.js';
import { createHearth } from '../../server/compose.js';
import { findApp } from '../repo.js';

let pkgs: PackageServer;
const dataDir = mkdtempSync(join(tmpdir(), 'hearth-crash-install-'));
beforeAll(async () => {
  pkgs = await startPackageServer();
});
afterAll(async () => {
  await pkgs.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const MANIFEST = { slug: 'sturdy', name: 'Sturdy', type: 'webapp', version: '1.0.0', permissions: { notes: { type: 'io.cozy.notes' } }, services: { tidy: { type: 'node', file: 'tidy.js', trigger: '@cron 0 0 3 * * *' } } };

/** The package's URL (with its sha256, so that an install of stored code knows it) stored by an install on another instance, and a CLI token of `localhost:<port>`. */
async function prepare(port: number): Promise<{ source: string; token: string; instanceId: string }> {
  const url = await pkgs.add('sturdy', { 'manifest.webapp': MANIFEST, 'index.html': '<html>sturdy</html>', 'tidy.js': '' });
  const source = `${url}#${createHash('sha256').update(readFileSync(join(pkgs.dir, 'sturdy.tar.gz'))).digest('hex')}`;
  const hearth = await createHearth(testConfig(dataDir), pino({ level: 'silent' }));
  try {
    const other = await hearth.registry.create({ domain: 'other.crash.test' });
    expect((await (await hearth.installer.install(other, 'webapp', 'sturdy', { source })).done).error).toBeNull();
    const instance = await hearth.registry.create({ domain: `localhost:${port}` });
    return { source, instanceId: instance.id, token: await hearth.tokens.issue(instance, { aud: 'cli', sub: 'test', scope: 'io.cozy.apps' }) };
  } finally {
    await hearth.close();
  }
}

/** What the files hold, read beside the server: the instance's sturdy triggers (ids) and the install intents left. */
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

/** Starts the server with a crash point, asks for the install, and waits for the server to kill itself there. */
async function installUntil(port: number, point: string, source: string, token: string): Promise<void> {
  const s = await startServer(dataDir, port, { HEARTH_CRASH_POINT: point });
  const exited = new Promise((r) => s.child.once('exit', r));
  await rawRequest(s.port, 'POST', `/apps/sturdy?Source=${encodeURIComponent(source)}`, { host: s.domain, token }).catch(() => undefined);
  await exited;
  expect(s.child.signalCode).toBe('SIGKILL');
}

describe('an install of stored code across a crash', () => {
  it('is undone when killed before its app doc, and finished (its lost trigger made again) when killed after it', async () => {
    const port = await freePort();
    const { source, token, instanceId } = await prepare(port);
    // killed after the trigger, before the permission document and the app doc
    await installUntil(port, 'apps.install.triggers', source, token);
    expect(onDisk(instanceId)).toMatchObject({ triggers: [expect.any(String)], intents: 1 });
    // the next start undoes it, then the same install is killed after its app doc, before its intent went
    await installUntil(port, 'apps.install.written', source, token);
    const { triggers } = onDisk(instanceId);
    expect(triggers).toHaveLength(1);
    // what a power loss may do to the trigger's commit, written without its fsync
    const jobs = new Database(join(dataDir, 'jobs.sqlite'));
    expect(jobs.prepare('DELETE FROM triggers WHERE id = ?').run(triggers[0]).changes).toBe(1);
    jobs.close();
    // the next start (in this process: createHearth recovers before it returns)
    const hearth = await createHearth(testConfig(dataDir), pino({ level: 'silent' }));
    try {
      expect(onDisk(instanceId)).toEqual({ triggers, intents: 0 });
      expect(hearth.appCode.refsStale).toBe(false);
      const instance = (await hearth.registry.get(`localhost:${port}`))!;
      expect((await findApp(hearth.storeOf(instance), 'webapp', 'sturdy'))?.state).toBe('ready');
      const refs = await hearth.appCode.refs({ instanceId: instance.id });
      expect(refs.map((r) => r.slug)).toEqual(['sturdy']);
      expect(await hearth.appCode.refs({ sha256: refs[0]!.sha256 })).toHaveLength(2);
      expect((await hearth.perms.appPermissions(instance, 'app', 'sturdy'))?.permissions).toMatchObject({ notes: { type: 'io.cozy.notes' } });
      const doc = (await hearth.storeOf(instance).get('io.cozy.apps', 'io.cozy.apps/sturdy')) as { services: { tidy: { trigger_id: string } } };
      expect(doc.services.tidy.trigger_id).toBe(triggers[0]);
      const mine = (await hearth.jobs.scheduler.list(instance.domain, {})).filter((t) => (t.message as { slug?: string } | null)?.slug === 'sturdy');
      expect(mine.map((t) => [t._id, t.type, t.arguments])).toEqual([[triggers[0], '@cron', '0 0 3 * * *']]);
    } finally {
      await hearth.close();
    }
  }, 120_000);
});
